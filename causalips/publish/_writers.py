"""Lay a :class:`~causalips.publish.tables.Table` out as Markdown, LaTeX, HTML or Word.

Libraries do the formats (see docs/tables.md for why these): ``tabulate`` the Markdown pipe
table, ``great_tables`` the HTML and the booktabs LaTeX (escaping included), ``python-docx``
the Word document. This module only maps the table's sections, rows and notes onto them.
"""

from __future__ import annotations

import re
from pathlib import Path

from ..errors import SpecificationError

TICK = "✓"
LATEX_TICK = r"$\checkmark$"
FIRST_SECTION = "Estimates"


def _need(module: str, package: str):
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        raise SpecificationError(
            f"this output needs {package}: pip install 'causalips[publish]'") from None


# -- Markdown ---------------------------------------------------------------------------------
def to_markdown(table) -> str:
    """A pipe table (GitHub / pandoc Markdown); later sections start with a bold row."""
    tabulate = _need("tabulate", "tabulate").tabulate
    models = table.models
    rows = []
    section = FIRST_SECTION
    for rec in table.frame.itertuples(index=False):
        if rec.section != section:
            section = rec.section
            rows.append([f"**{section}**", *[""] * len(models)])
        rows.append([rec.term, *rec[2:]])
    rows = [[str(c).replace("|", "\\|") for c in r] for r in rows]
    body = tabulate(rows, headers=["", *[m.replace("|", "\\|") for m in models]],
                    tablefmt="pipe", disable_numparse=True,
                    colalign=("left", *["center"] * len(models)))
    parts = [f"Table: {table.title}", ""] if table.title else []
    parts.append(body)
    if table.notes:
        parts += ["", " ".join(table.notes)]
    return "\n".join(parts) + "\n"


# -- great_tables (HTML, LaTeX) ---------------------------------------------------------------
def _gt(table, frame):
    gt_module = _need("great_tables", "great_tables")
    gt = (gt_module.GT(frame, groupname_col="section")
          .cols_label(term="")
          .cols_align("center", columns=table.models)
          .cols_align("left", columns=["term"]))
    if table.title:
        gt = gt.tab_header(title=table.title)
    for note in table.notes:
        gt = gt.tab_source_note(note)
    return gt


def to_html(table) -> str:
    """A great_tables HTML fragment (styles scoped to a stable id)."""
    gt = _gt(table, table.frame).with_id(table.html_id).tab_options(
        table_font_size="14px", data_row_padding="2px", row_group_padding="3px")
    return gt.as_raw_html()


def to_latex(table) -> str:
    """A booktabs ``table`` environment (great_tables' LaTeX; ticks as ``$\\checkmark$``)."""
    frame = table.frame.copy()
    tick_rows = [i for i, s in enumerate(frame["section"]) if s in ("Fixed effects", "Strata")]
    for m in table.models:
        frame.loc[tick_rows, m] = frame.loc[tick_rows, m].replace(TICK, LATEX_TICK)
    gt = _gt(table, frame).tab_options(table_font_size="inherit")  # the document's size
    if tick_rows:
        gt = gt.fmt_passthrough(columns=table.models, rows=tick_rows, escape=False)
    latex = gt.as_latex(tbl_pos="htbp")
    return re.sub(r"\n{3,}", "\n\n", latex)


# -- Word -------------------------------------------------------------------------------------
def to_docx(table, path: Path) -> Path:
    """A Word document with the table (booktabs-like rules), its title and notes."""
    docx = _need("docx", "python-docx")
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Pt

    doc = docx.Document()
    if table.title:
        doc.add_paragraph(table.title, style="Caption")
    models = table.models
    grid = doc.add_table(rows=1, cols=len(models) + 1)
    for cell, text in zip(grid.rows[0].cells, ["", *models]):
        cell.text = text
    _rule(grid.rows[0], "top", 12)
    _rule(grid.rows[0], "bottom", 6)
    section = FIRST_SECTION
    for rec in table.frame.itertuples(index=False):
        if rec.section != section:
            section = rec.section
            row = grid.add_row()
            row.cells[0].text = section
            row.cells[0].paragraphs[0].runs[0].italic = True
            _rule(row, "top", 4)
        row = grid.add_row()
        for cell, text in zip(row.cells, [rec.term, *rec[2:]]):
            cell.text = str(text)
    _rule(grid.rows[-1], "bottom", 12)
    for row in grid.rows:
        for cell in row.cells[1:]:
            cell.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER
    for note in table.notes:
        para = doc.add_paragraph(note)
        para.runs[0].font.size = Pt(9)
    doc.core_properties.title = table.title or "causalips table"
    doc.save(str(path))
    return path


def _rule(row, side: str, size: int) -> None:
    """A horizontal line on ``side`` of every cell of ``row`` (eighths of a point)."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    for cell in row.cells:
        props = cell._tc.get_or_add_tcPr()
        borders = props.find(qn("w:tcBorders"))
        if borders is None:
            borders = OxmlElement("w:tcBorders")
            props.append(borders)
        line = OxmlElement(f"w:{side}")
        line.set(qn("w:val"), "single")
        line.set(qn("w:sz"), str(size))
        line.set(qn("w:color"), "000000")
        borders.append(line)
