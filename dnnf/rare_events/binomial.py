r"""Exact binomial draws in $O(1)$ per path from Walker alias tables (numpy's array-parameter
``Generator.binomial`` costs a few hundred ns per draw, which would dominate the simulation)."""

from __future__ import annotations

from functools import lru_cache

import numpy as np

__all__ = ["AliasBinomial"]


def _binomial_pmf(b: int, q: np.ndarray) -> np.ndarray:
    """Rows: Bin(b, q_l) probabilities of k = 0..b for each coin q_l (q_l = 1 allowed)."""
    k = np.arange(b + 1)
    log_comb = np.concatenate([[0.0], np.cumsum(np.log((b - k[1:] + 1) / k[1:]))])
    with np.errstate(divide="ignore", invalid="ignore"):
        log_pmf = log_comb + k * np.log(q[:, None]) + (b - k) * np.log1p(-q[:, None])
    # q = 1: all mass on k = b (0 * log 0 is NaN above)
    return np.where(q[:, None] < 1.0, np.exp(log_pmf), (k == b).astype(np.float64))


def _robin_hood(pmf: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Alias tables for every row of ``pmf`` at once: pair the smallest open cell with the largest.

    Each step closes one cell per row (the smallest, whose scaled mass is <= 1), so m - 1 steps
    finish an m-column table; the last open cell keeps probability 1.
    """
    rows, m = pmf.shape
    scaled = pmf / pmf.sum(axis=1, keepdims=True) * m
    prob = np.ones((rows, m))
    alias = np.tile(np.arange(m), (rows, 1))
    open_ = np.ones((rows, m), dtype=bool)
    r = np.arange(rows)
    for _ in range(m - 1):
        small = np.where(open_, scaled, np.inf).argmin(axis=1)
        open_[r, small] = False
        large = np.where(open_, scaled, -np.inf).argmax(axis=1)
        prob[r, small] = scaled[r, small]
        alias[r, small] = large
        scaled[r, large] -= 1.0 - scaled[r, small]
    return np.minimum(prob, 1.0), alias


@lru_cache(maxsize=16)
def _tables(levels: tuple[float, ...], max_leap: int) -> tuple[np.ndarray, np.ndarray]:
    width = max_leap + 1
    q = np.array(levels)
    prob = np.ones((len(levels), width, width))
    alias = np.zeros((len(levels), width, width), dtype=np.int64)
    for b in range(width):
        prob[:, b, : b + 1], alias[:, b, : b + 1] = _robin_hood(_binomial_pmf(b, q))
    prob.setflags(write=False)
    alias.setflags(write=False)
    return prob.ravel(), alias.ravel()


class AliasBinomial:
    r"""Sampler of $K \sim \mathrm{Bin}(b, q_\ell)$ for $0 \le b \le$ ``max_leap`` and $q_\ell$ in ``levels``.

    One uniform $U$ gives the column $j = \lfloor U(b+1) \rfloor$ and, from its fractional part, the
    coin that keeps $j$ or takes its alias. Tables are cached per (levels, max_leap).
    """

    def __init__(self, levels: np.ndarray, max_leap: int) -> None:
        self.width = int(max_leap) + 1
        self.prob, self.alias = _tables(tuple(float(q) for q in levels), int(max_leap))

    def sample(self, rng: np.random.Generator, level: np.ndarray, b: np.ndarray) -> np.ndarray:
        """One draw per entry of ``b`` (int array), with coin ``levels[level]``."""
        scaled = rng.random(b.shape) * (b + 1)
        j = scaled.astype(np.int64)
        flat = (level * self.width + b) * self.width + j
        return np.where(scaled - j < self.prob[flat], j, self.alias[flat])
