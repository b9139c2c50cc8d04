"""Statements and letters laid out as PDFs with fpdf2: words in, bytes out.

Everything printed arrives here already worded, translated and formatted (see
billing_core.services.documents); this module only places it on US Letter pages: the
plan's name, the title, the member's details, an optional address block for a window
envelope, the text, one table whose headings repeat on every page, a closing, and
"page n of m" at the foot.

fpdf2 is pure Python (no system libraries, nothing but pip on a fresh machine) and its
built-in Helvetica covers Latin-1, which holds every Spanish letter and sign (ñ, á, é, í,
ó, ú, ü, ¿, ¡), so no font file is embedded. A character outside Latin-1 (a name written
in another script) is printed as its unaccented Latin letter, or "?", never dropped.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import datetime

from fpdf import FPDF
from fpdf.enums import Align, TableBordersLayout
from fpdf.fonts import FontFace

_FONT = "Helvetica"
_MARGIN_MM = 18
# Grey of the table headings and the total row.
_SHADE = (225, 225, 225)


@dataclass(frozen=True)
class PdfTable:
    """Rows of text under headings; numeric columns are right-aligned; total is the last row."""

    headings: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    # Relative column widths, one per heading.
    widths: tuple[int, ...]
    numeric: frozenset[int] = frozenset()
    total: tuple[str, ...] | None = None


@dataclass(frozen=True)
class PdfDocument:
    """One statement or letter, every word of it already in the member's language."""

    plan_name: str
    title: str
    # (label, value) pairs under the title: the member, the MRN's last 4, the date issued.
    details: tuple[tuple[str, str], ...]
    paragraphs: tuple[str, ...]
    table: PdfTable
    # Said instead of the table when it has no rows.
    empty_table: str
    closing: tuple[str, ...] = ()
    # The recipient's name and address lines, for a window envelope (mailed documents).
    address_block: tuple[str, ...] = ()
    # "Page {page} of {pages}", in the document's language.
    page_words: str = "Page {page} of {pages}"
    issued_at: datetime | None = None
    language: str = "en"


@dataclass(frozen=True)
class RenderedPdf:
    content: bytes
    pages: int


def printable(text: str) -> str:
    """The text with every character Helvetica can print; others become their base letter."""
    try:
        text.encode("latin-1")
        return text
    except UnicodeEncodeError:
        pass
    out = []
    for char in text:
        try:
            char.encode("latin-1")
            out.append(char)
            continue
        except UnicodeEncodeError:
            pass
        base = unicodedata.normalize("NFKD", char).encode("latin-1", "ignore").decode("latin-1")
        base = "".join(c for c in base if not unicodedata.combining(c))
        out.append(base or {"\u2014": "-", "\u2013": "-", "\u2019": "'"}.get(char, "?"))
    return "".join(out)


class _Pages(FPDF):
    def __init__(self, page_words: str) -> None:
        super().__init__(orientation="portrait", unit="mm", format="letter")
        self._page_words = page_words

    def footer(self) -> None:
        self.set_y(-14)
        self.set_font(_FONT, size=8)
        self.set_text_color(90, 90, 90)
        # fpdf2 puts the page count in place of its alias once the last page is done.
        words = self._page_words.format(page=self.page_no(), pages=self.str_alias_nb_pages)
        self.cell(0, 6, printable(words), align=Align.C)
        self.set_text_color(0, 0, 0)


def render(document: PdfDocument) -> RenderedPdf:
    """The document as PDF bytes, and how many pages it has."""
    pdf = _Pages(document.page_words)
    pdf.set_margins(_MARGIN_MM, _MARGIN_MM, _MARGIN_MM)
    pdf.set_auto_page_break(auto=True, margin=20)
    pdf.set_title(printable(document.title))
    pdf.set_author(printable(document.plan_name))
    pdf.set_lang(document.language)
    if document.issued_at is not None:
        # The date it was asked for, not the moment of rendering: the same request, the same file.
        pdf.set_creation_date(document.issued_at)
    pdf.add_page()

    pdf.set_font(_FONT, style="B", size=15)
    pdf.cell(0, 8, printable(document.plan_name), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(_FONT, style="B", size=12)
    pdf.cell(0, 7, printable(document.title), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    pdf.set_font(_FONT, size=10)
    for label, value in document.details:
        pdf.set_font(_FONT, style="B", size=10)
        pdf.cell(55, 5.5, printable(label))
        pdf.set_font(_FONT, size=10)
        pdf.cell(0, 5.5, printable(value), new_x="LMARGIN", new_y="NEXT")
    if document.address_block:
        pdf.ln(6)
        for line in document.address_block:
            pdf.cell(0, 5, printable(line), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(6)
    for paragraph in document.paragraphs:
        pdf.multi_cell(0, 5, printable(paragraph), new_x="LMARGIN", new_y="NEXT")
        pdf.ln(3)

    table = document.table
    if table.rows:
        _table(pdf, table)
    else:
        pdf.set_font(_FONT, style="I", size=10)
        pdf.multi_cell(0, 5, printable(document.empty_table), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font(_FONT, size=10)
    if document.closing:
        pdf.ln(5)
        for paragraph in document.closing:
            pdf.multi_cell(0, 5, printable(paragraph), new_x="LMARGIN", new_y="NEXT")
            pdf.ln(2)
    content = bytes(pdf.output())
    return RenderedPdf(content, pdf.pages_count)


def _table(pdf: FPDF, table: PdfTable) -> None:
    size = 8 if len(table.headings) > 6 else 9
    pdf.set_font(_FONT, size=size)
    bold = FontFace(emphasis="BOLD", fill_color=_SHADE)
    aligns = tuple(
        Align.R if index in table.numeric else Align.L for index in range(len(table.headings))
    )
    with pdf.table(
        col_widths=table.widths,
        text_align=aligns,
        headings_style=bold,
        line_height=size * 0.55,
        borders_layout=TableBordersLayout.HORIZONTAL_LINES,
        repeat_headings=1,
    ) as grid:
        heading = grid.row()
        for text in table.headings:
            heading.cell(printable(text))
        for values in table.rows:
            row = grid.row()
            for text in values:
                row.cell(printable(text))
        if table.total is not None:
            row = grid.row()
            for text in table.total:
                row.cell(printable(text), style=bold)
    pdf.set_font(_FONT, size=10)
