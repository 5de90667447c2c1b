"""Tables for the tutorials: shown as an HTML table in a notebook, as Markdown by ``print``.

A table printed as text in a notebook reaches the book as a block of ``| a | b |`` lines; a ``Table``
left as the last expression of a cell (or passed to ``display``, or shown with `Table.show`)
is rendered by Jupyter, Colab and the book as a real table, with numbers right-aligned.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence

__all__ = ["Table"]

_NUMBER = re.compile(r"[-+−]?(\d[\d,]*\.?\d*|\.\d+)([eE][-+]?\d+)?(\s*±\s*[-+]?[\d.]+([eE][-+]?\d+)?)?")


def _is_number(cell: str) -> bool:
    return bool(_NUMBER.fullmatch(cell.strip()))


class Table:
    """A table with a header row, body rows of equal length and an optional caption.

    Parameters
    ----------
    columns
        Column headings.
    rows
        Body rows, each with one entry per column; entries are shown with ``str``, so format numbers
        before (``f"{x:.3f}"``) to choose their precision.
    caption
        Shown above the table.

    Examples
    --------
    >>> t = Table(["method", "PSNR (dB)"], [["mean fill", "12.30"], ["diffusion", "14.51"]])
    >>> print(t)
    | method | PSNR (dB) |
    |---|---:|
    | mean fill | 12.30 |
    | diffusion | 14.51 |
    """

    def __init__(
        self,
        columns: Sequence[object],
        rows: Sequence[Sequence[object]],
        caption: str | None = None,
    ):
        if isinstance(columns, str) or len(columns) == 0:
            raise ValueError(f"columns must be a non-empty sequence of headings, got {columns!r}")
        self.columns = [str(c) for c in columns]
        self.rows = []
        for i, row in enumerate(rows):
            if isinstance(row, str) or len(row) != len(self.columns):
                raise ValueError(
                    f"rows[{i}] must be a sequence of {len(self.columns)} entries "
                    f"(one per column), got {row!r}"
                )
            self.rows.append([str(v) for v in row])
        self.caption = caption

    @classmethod
    def from_markdown(cls, text: str, caption: str | None = None) -> Table:
        """Read a pipe table (a header line, a ``|---|`` line, then one line per row)."""
        lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
        if len(lines) < 2 or not re.fullmatch(r"\|?(\s*:?-+:?\s*\|)+\s*:?-*:?\s*\|?", lines[1]):
            raise ValueError(
                f"text must be a Markdown pipe table (header, |---| line, rows), got {text[:80]!r}"
            )

        def cells(line: str) -> list[str]:
            return [c.strip() for c in line.strip().strip("|").split("|")]

        return cls(cells(lines[0]), [cells(line) for line in lines[2:]], caption=caption)

    def _numeric_columns(self) -> list[bool]:
        return [
            bool(self.rows) and all(_is_number(row[j]) for row in self.rows)
            for j in range(len(self.columns))
        ]

    def to_markdown(self) -> str:
        """The table as Markdown (numeric columns right-aligned)."""
        rule = "|" + "|".join("---:" if num else "---" for num in self._numeric_columns()) + "|"
        lines = ["| " + " | ".join(self.columns) + " |", rule]
        lines += ["| " + " | ".join(row) + " |" for row in self.rows]
        return "\n".join(([self.caption, ""] if self.caption else []) + lines)

    def __str__(self) -> str:
        return self.to_markdown()

    def __repr__(self) -> str:
        return self.to_markdown()

    def _repr_html_(self) -> str:
        numeric = self._numeric_columns()
        esc = html.escape

        def td(value: str, num: bool) -> str:
            return f'<td class="dnnf-num">{esc(value)}</td>' if num else f"<td>{esc(value)}</td>"

        head = "".join(f"<th>{esc(c)}</th>" for c in self.columns)
        body = "".join("<tr>" + "".join(td(v, n) for v, n in zip(row, numeric, strict=True)) + "</tr>"
                       for row in self.rows)  # fmt: skip
        caption = f"<caption>{esc(self.caption)}</caption>" if self.caption else ""
        return (
            '<div class="dnnf-table-scroll" style="overflow-x:auto">'
            f'<table class="dnnf-table">{caption}<thead><tr>{head}</tr></thead>'
            f"<tbody>{body}</tbody></table></div>"
        )

    def show(self) -> None:
        """Display the table now (like ``plt.show()``): as HTML in a notebook, as Markdown elsewhere."""
        try:
            from IPython import get_ipython
            from IPython.display import display
        except ImportError:  # plain Python: no notebook to render HTML
            print(self)
            return
        if get_ipython() is None:
            print(self)
        else:
            display(self)
