"""A DOCX in the official form: the page, the heading, the body's parts, the closing.

Laid out as Hướng dẫn 36-HD/VPTW (party) or Nghị định 30/2020/NĐ-CP, Phụ lục I (state) show it: the
issuer on the left of the heading with the number and symbol under it, the motto on the right with the
place and date; the type of document and its summary line centred below; the body justified with its
first lines indented; "Nơi nhận" at the bottom left beside the signer's title and the room to sign; page
numbers centred at the top from page 2. Wide tables get landscape pages of their own.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import Sequence
from typing import Any

from docx import Document
from docx.enum.section import WD_ORIENT, WD_SECTION
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.section import Section
from docx.shared import Cm, Pt, RGBColor
from docx.table import Table, _Cell
from docx.text.paragraph import Paragraph

from bot.documents import widths
from bot.documents.form import A4_CM, Letterhead
from bot.i18n import t

FONT = "Times New Roman"
BLACK = RGBColor(0, 0, 0)
FIRST_LINE_CM = 1.27
SIGNING_LINES = 4  # empty lines under the signer's title: room for the signature and the seal
_NUMERIC = re.compile(r"^[-—+]?[\d.,]+%?$|^—$")
_THEME_FONTS = ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme")


# What may follow a paragraph's borders and a table's cell margins among their parent's properties.
_AFTER = {
    "w:pBdr": ("w:shd", "w:tabs", "w:suppressAutoHyphens", "w:kinsoku", "w:wordWrap", "w:overflowPunct",
               "w:topLinePunct", "w:autoSpaceDE", "w:autoSpaceDN", "w:bidi", "w:adjustRightInd",
               "w:snapToGrid", "w:spacing", "w:ind", "w:contextualSpacing", "w:mirrorIndents",
               "w:suppressOverlap", "w:jc", "w:textDirection", "w:textAlignment", "w:textboxTightWrap",
               "w:outlineLvl", "w:divId", "w:cnfStyle", "w:rPr", "w:sectPr", "w:pPrChange"),
    "w:tblCellMar": ("w:tblLook", "w:tblCaption", "w:tblDescription", "w:tblPrChange"),
    "w:tcMar": ("w:textDirection", "w:tcFitText", "w:vAlign", "w:hideMark", "w:headers", "w:cellIns",
                "w:cellDel", "w:cellMerge", "w:tcPrChange"),
}


def _place(parent: Any, tag: str) -> Any:
    """A new `tag` element inserted where the schema orders it among `parent`'s children (Word refuses
    a document whose properties come in another order)."""
    child = OxmlElement(tag)
    parent.insert_element_before(child, *_AFTER[tag])
    return child


def _times(rpr: Any) -> None:
    """Times New Roman for every script of a run's or style's properties, whatever the theme says."""
    fonts = rpr.get_or_add_rFonts()
    for theme in _THEME_FONTS:
        fonts.attrib.pop(qn(theme), None)
    for script in ("w:ascii", "w:hAnsi", "w:cs", "w:eastAsia"):
        fonts.set(qn(script), FONT)


class OfficialDocument:
    """One document being written; `to_bytes()` when done."""

    def __init__(self, head: Letterhead) -> None:
        self.head, self.form = head, head.form
        self.doc = Document()
        self._styles()
        first = self.doc.sections[0]
        self._page(first, landscape=False)
        self._page_numbers(first)

    # ---- the page ------------------------------------------------------------------------------------

    def text_width_cm(self, landscape: bool = False) -> float:
        _, _, left, right = self.form.margins_cm
        return (A4_CM[1] if landscape else A4_CM[0]) - left - right

    def _page(self, section: Section, *, landscape: bool) -> None:
        narrow, tall = A4_CM
        section.orientation = WD_ORIENT.LANDSCAPE if landscape else WD_ORIENT.PORTRAIT
        section.page_width, section.page_height = (Cm(tall), Cm(narrow)) if landscape else (Cm(narrow),
                                                                                              Cm(tall))
        top, bottom, left, right = self.form.margins_cm
        section.top_margin, section.bottom_margin = Cm(top), Cm(bottom)
        section.left_margin, section.right_margin = Cm(left), Cm(right)
        section.header_distance = Cm(1.0)

    def _page_numbers(self, section: Section) -> None:
        """The page number centred in the top margin, from page 2 (the first page shows none)."""
        section.different_first_page_header_footer = True
        paragraph = section.header.paragraphs[0]
        paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
        for kind, text in (("begin", None), (None, "PAGE"), ("end", None)):
            run = paragraph.add_run()
            run.font.size = Pt(self.form.page_number_pt)
            if kind:
                char = OxmlElement("w:fldChar")
                char.set(qn("w:fldCharType"), kind)
                run._r.append(char)
            else:
                instruction = OxmlElement("w:instrText")
                instruction.set(qn("xml:space"), "preserve")
                instruction.text = f" {text} "
                run._r.append(instruction)

    def _section(self, *, landscape: bool) -> None:
        """A new page turned as asked; its first page is numbered like any other."""
        section = self.doc.add_section(WD_SECTION.NEW_PAGE)
        self._page(section, landscape=landscape)
        section.different_first_page_header_footer = False

    def _styles(self) -> None:
        """Times New Roman, black, at the body's size everywhere; headings bold, without theme colours."""
        defaults = self.doc.styles.element.find(qn("w:docDefaults"))
        rpr = defaults.find(qn("w:rPrDefault")).find(qn("w:rPr"))
        _times(rpr)
        normal = self.doc.styles["Normal"]
        _times(normal.element.get_or_add_rPr())
        normal.font.size = Pt(self.form.body_pt)
        normal.font.color.rgb = BLACK
        normal.paragraph_format.space_before = Pt(0)
        normal.paragraph_format.space_after = Pt(6)
        normal.paragraph_format.line_spacing = 1.15
        for name in ("Heading 1", "Heading 2"):
            style = self.doc.styles[name]
            _times(style.element.get_or_add_rPr())
            style.font.size, style.font.bold, style.font.italic = Pt(self.form.body_pt), True, False
            style.font.color.rgb = BLACK
            style.paragraph_format.space_before = Pt(6)
            style.paragraph_format.space_after = Pt(6)
            style.paragraph_format.first_line_indent = Cm(FIRST_LINE_CM)
            style.paragraph_format.keep_with_next = True

    # ---- the heading ---------------------------------------------------------------------------------

    def heading_block(self, kind: str, day: dt.date, type_title: str, summary: Sequence[str]) -> None:
        """The issuer and number, the motto and date, then the type of document and its summary line."""
        left_cm, right_cm = self.form.head_cm
        left, right = self._layout_row([left_cm, right_cm])
        f, h = self.form, self.head
        if h.parent:
            self._line(left, h.parent.upper(), f.parent_pt)
        self._line(left, h.issuer.upper(), f.issuer_pt, bold=True)
        if f.style == "party":
            self._line(left, "*", f.issuer_pt)
            self._line(left, h.number(kind), f.number_pt)
            self._line(right, t("documents.party.motto", h.locale), f.motto_pt, bold=True, underline=True)
            self._line(right, "", f.dated_pt)
        else:
            self._rule(left, left_cm, h.issuer.upper(), f.issuer_pt)
            self._line(left, h.number(kind), f.number_pt)
            self._line(right, t("documents.state.nation", h.locale), f.nation_pt, bold=True)
            self._line(right, t("documents.state.motto", h.locale), f.motto_pt, bold=True, underline=True)
        self._line(right, h.dated(day), f.dated_pt, italic=True)
        title = self._centred(type_title.upper(), f.type_pt, bold=True)
        title.paragraph_format.space_before = Pt(18)
        for line in summary:
            self._centred(line, f.summary_pt, bold=True)
        if f.style == "party":
            self._centred("-----", f.summary_pt)
        else:
            self._rule_below(max(summary, key=len) if summary else type_title)

    def _centred(self, text: str, size: float, *, bold: bool = False) -> Paragraph:
        paragraph = self.doc.add_paragraph()
        paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
        paragraph.paragraph_format.space_after = Pt(0)
        run = paragraph.add_run(text)
        run.font.size, run.font.bold = Pt(size), bold
        return paragraph

    def _rule_below(self, text: str) -> None:
        """A solid line a third of the summary's length under it (Nghị định 30: from a third to a half)."""
        width = self.text_width_cm()
        line = min(width, max(2.0, widths.text_cm(text, self.form.summary_pt, True) / 3))
        paragraph = self.doc.add_paragraph()
        _border_below(paragraph, (width - line) / 2)
        paragraph.paragraph_format.space_after = Pt(12)

    # ---- the body ------------------------------------------------------------------------------------

    def heading(self, text: str) -> Paragraph:
        """A part of the body ("I. ..."), bold, in the document's outline."""
        return self.doc.add_paragraph(text, style="Heading 1")

    def paragraph(self, text: str, *, italic: bool = False) -> Paragraph:
        """Body text: justified, the first line indented."""
        paragraph = self.doc.add_paragraph()
        paragraph.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY
        paragraph.paragraph_format.first_line_indent = Cm(FIRST_LINE_CM)
        run = paragraph.add_run(text)
        run.italic = italic
        return paragraph

    def item(self, text: str, *, numbered: bool = False) -> Paragraph:
        paragraph = self.doc.add_paragraph(text, style="List Number" if numbered else "List Bullet")
        paragraph.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY
        return paragraph

    def picture(self, png: bytes, caption: str) -> None:
        """A chart across the text width, its caption under it."""
        self.doc.add_picture(io.BytesIO(png), width=Cm(self.text_width_cm()))
        self.doc.paragraphs[-1].alignment = WD_ALIGN_PARAGRAPH.CENTER
        self._centred(caption, self.form.body_pt - 2).runs[0].italic = True

    def table(self, heads: list[str], rows: list[list[str]], caption: str | None = None) -> Table:
        """A table whose columns fit their content, under its caption; on landscape pages of its own
        when it is too wide."""
        fit = widths.fit(heads, rows, self.text_width_cm(False), self.text_width_cm(True))
        if fit.landscape:
            self._section(landscape=True)
        if caption:
            self.paragraph(caption).paragraph_format.keep_with_next = True
        table = self.doc.add_table(rows=1, cols=len(heads))
        table.style = "Table Grid"
        table.alignment = WD_TABLE_ALIGNMENT.CENTER
        _fixed(table, fit.widths_cm)
        _header_row(table.rows[0])
        for cell, head in zip(table.rows[0].cells, heads, strict=True):
            _cell_text(cell, head, fit.size_pt, bold=True, align=WD_ALIGN_PARAGRAPH.CENTER)
        for row in rows:
            added = table.add_row()
            added._tr.get_or_add_trPr().append(OxmlElement("w:cantSplit"))  # a row stays on one page
            cells = added.cells
            for cell, value, width in zip(cells, row, fit.widths_cm, strict=True):
                cell.width = Cm(width)
                numeric = bool(_NUMERIC.match(value))
                _cell_text(cell, value, fit.size_pt,
                           align=WD_ALIGN_PARAGRAPH.RIGHT if numeric else WD_ALIGN_PARAGRAPH.LEFT)
        _cell_margins(table, widths.CELL_MARGIN_CM)
        if fit.landscape:
            self._section(landscape=False)
        return table

    # ---- the closing ---------------------------------------------------------------------------------

    def closing(self, recipients: Sequence[str]) -> None:
        """"Nơi nhận" (each recipient, then the office's file copy) beside the signer's title and the room
        to sign, kept on one page."""
        f, h = self.form, self.head
        width = self.text_width_cm()
        self.doc.add_paragraph()
        left, right = self._layout_row([width * 0.45, width * 0.55])
        label = self._line(left, t("documents.recipients", h.locale), f.recipients_label_pt,
                           bold=f.style == "state", italic=f.style == "state", underline=f.style == "party",
                           align=WD_ALIGN_PARAGRAPH.LEFT)
        label.paragraph_format.keep_with_next = True
        lines = [*recipients, t(f"documents.{f.style}.filed", h.locale)]
        for n, name in enumerate(lines, start=1):
            self._line(left, f"- {name}{'.' if n == len(lines) else ';'}", f.recipients_pt,
                       align=WD_ALIGN_PARAGRAPH.LEFT)
        for title_line in (h.signer_title or "…").upper().split("\n"):
            self._line(right, title_line, f.signer_pt, bold=True)
        for _ in range(SIGNING_LINES):
            self._line(right, "", f.signer_pt)

    def to_bytes(self) -> bytes:
        out = io.BytesIO()
        self.doc.save(out)
        return out.getvalue()

    # ---- layout helpers ------------------------------------------------------------------------------

    def _layout_row(self, widths_cm: list[float]) -> list[_Cell]:
        """A borderless one-row table, kept on one page: the heading's and the closing's two columns."""
        table = self.doc.add_table(rows=1, cols=len(widths_cm))
        table.alignment = WD_TABLE_ALIGNMENT.CENTER
        _fixed(table, widths_cm)
        row = table.rows[0]
        row._tr.get_or_add_trPr().append(OxmlElement("w:cantSplit"))
        return list(row.cells)

    def _line(self, cell: _Cell, text: str, size: float, *, bold: bool = False, italic: bool = False,
              underline: bool = False, align: WD_ALIGN_PARAGRAPH = WD_ALIGN_PARAGRAPH.CENTER) -> Paragraph:
        """One centred line in a layout cell (its first, empty paragraph is used first)."""
        first = cell.paragraphs[0]
        paragraph = first if len(cell.paragraphs) == 1 and not first.runs else cell.add_paragraph()
        paragraph.alignment = align
        paragraph.paragraph_format.space_after = Pt(0)
        paragraph.paragraph_format.line_spacing = 1.0
        run = paragraph.add_run(text)
        run.font.size, run.font.bold, run.font.italic, run.font.underline = Pt(size), bold, italic, underline
        return paragraph

    def _rule(self, cell: _Cell, cell_cm: float, above: str, size: float) -> None:
        """A solid line under the issuer's name, a third of its length (a half at most)."""
        line = min(cell_cm * 0.8, max(1.5, widths.text_cm(above, size, True) / 3))
        paragraph = self._line(cell, "", 4)
        _border_below(paragraph, (cell_cm - 0.4 - line) / 2)
        paragraph.paragraph_format.space_after = Pt(4)


def _border_below(paragraph: Paragraph, indent_cm: float) -> None:
    """A solid line under an empty paragraph, as wide as the paragraph between its indents."""
    paragraph.paragraph_format.left_indent = Cm(max(0.0, indent_cm))
    paragraph.paragraph_format.right_indent = Cm(max(0.0, indent_cm))
    borders = _place(paragraph._p.get_or_add_pPr(), "w:pBdr")
    bottom = OxmlElement("w:bottom")
    for key, value in (("w:val", "single"), ("w:sz", "6"), ("w:space", "1"), ("w:color", "000000")):
        bottom.set(qn(key), value)
    borders.append(bottom)


def _fixed(table: Table, widths_cm: list[float]) -> None:
    """Fixed column widths, written where Word (the cells) and LibreOffice (the grid) read them."""
    table.autofit = False  # a fixed layout: the widths below are kept whatever the content
    for column, width in zip(table._tbl.tblGrid.findall(qn("w:gridCol")), widths_cm, strict=True):
        column.set(qn("w:w"), str(round(width * 567)))
    for row in table.rows:
        for cell, width in zip(row.cells, widths_cm, strict=True):
            cell.width = Cm(width)


def _cell_margins(table: Table, side_cm: float) -> None:
    """The space left and right of a cell's text, as the column widths were fitted with: for the table
    (Word) and for each cell (LibreOffice keeps its own default otherwise)."""
    holders = [(table._tbl.tblPr, "w:tblCellMar")]
    holders += [(cell._tc.get_or_add_tcPr(), "w:tcMar") for row in table.rows for cell in row.cells]
    for parent, tag in holders:
        margins = _place(parent, tag)
        for side in ("w:left", "w:right"):
            margin = OxmlElement(side)
            margin.set(qn("w:w"), str(round(side_cm * 567)))
            margin.set(qn("w:type"), "dxa")
            margins.append(margin)


def _header_row(row: object) -> None:
    """The header row repeats at the top of each page the table runs onto."""
    trpr = row._tr.get_or_add_trPr()  # type: ignore[attr-defined]
    trpr.append(OxmlElement("w:tblHeader"))


def _cell_text(cell: _Cell, text: str, size: float, *, bold: bool = False,
               align: WD_ALIGN_PARAGRAPH = WD_ALIGN_PARAGRAPH.LEFT) -> None:
    paragraph = cell.paragraphs[0]
    paragraph.alignment = align
    paragraph.paragraph_format.space_after = Pt(0)
    paragraph.paragraph_format.line_spacing = 1.0
    run = paragraph.add_run(text)
    run.font.size, run.font.bold = Pt(size), bold
