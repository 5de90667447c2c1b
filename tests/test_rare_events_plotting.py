"""Smoke tests of the rare-events figure helpers (Agg backend): they draw what they are given."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from dnnf.plotting.rare_events import plot_estimates, plot_relative_variance  # noqa: E402
from dnnf.rare_events import estimate_from_log_weights  # noqa: E402


def test_plot_estimates_marks_no_hits_and_draws_intervals():
    """One error bar per estimate with hits, a cross for an estimate without hits."""
    results = {"none": estimate_from_log_weights([], 10), "some": estimate_from_log_weights([-1.0, -1.2], 10)}
    fig, ax = plt.subplots()
    plot_estimates(ax, results, exact=0.07)
    assert [t.get_text() for t in ax.get_yticklabels()] == ["none", "some"]
    assert any(t.get_text() == "no hits" for t in ax.texts)
    assert len(ax.containers) == 1  # one errorbar
    with pytest.raises(ValueError, match="exact"):
        plot_estimates(ax, results, exact=0.0)
    plt.close(fig)


def test_plot_relative_variance_log_scale():
    """Exact curve and simulated points on a log axis."""
    fig, ax = plt.subplots()
    plot_relative_variance(ax, [0.5, 0.6], exact=[10.0, 2.0], simulated=[11.0, 2.1])
    assert ax.get_yscale() == "log" and len(ax.lines) == 2
    plt.close(fig)
