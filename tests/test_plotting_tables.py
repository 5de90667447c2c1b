"""``dnnf.plotting.tables.Table``: what a tutorial displays as a real table instead of printed Markdown."""

from __future__ import annotations

import pytest

from dnnf.plotting.tables import Table


def test_html_has_one_cell_per_entry_numbers_right_aligned_and_escaped():
    t = Table(
        ["mask", "PSNR <dB>"], [["centre", "14.51\u00a0±\u00a00.30"], ["left", "-18.671165"]], caption="a & b"
    )
    html = t._repr_html_()
    assert html.count("<th>") == 2 and html.count("<tr>") == 3
    assert "<td class=\"dnnf-num\">14.51\u00a0±\u00a00.30</td>" in html and "<td>centre</td>" in html
    assert "PSNR &lt;dB&gt;" in html and "<caption>a &amp; b</caption>" in html


def test_markdown_round_trip_and_alignment():
    text = "| mask | nice |\n|---|---|\n| centre | 14.51 ± 0.30 |\n| top | 9.10 ± 0.20 |"
    t = Table.from_markdown(text)
    assert t.columns == ["mask", "nice"] and t.rows[1] == ["top", "9.10 ± 0.20"]
    assert str(t).splitlines()[1] == "|---|---:|"
    assert Table.from_markdown(str(t)).rows == t.rows


@pytest.mark.parametrize(
    ("columns", "rows", "match"),
    [
        ([], [], "columns must be a non-empty"),
        ("ab", [], "columns must be"),
        (["a", "b"], [["x"]], r"rows\[0\]"),
    ],
)
def test_bad_shapes_name_the_argument(columns, rows, match):
    with pytest.raises(ValueError, match=match):
        Table(columns, rows)


def test_from_markdown_rejects_text_that_is_not_a_table():
    with pytest.raises(ValueError, match="text must be a Markdown pipe table"):
        Table.from_markdown("just a line\nand another")


def test_show_prints_markdown_outside_a_notebook(capsys):
    Table(["a"], [["1"]]).show()
    assert capsys.readouterr().out.startswith("| a |")
