"""A report as a PDF people read, print and forward.

Page one: a title block (company, report, period, time zone, generated at, what the report covers), the key
figures, and for reports over time a per-day chart (reports.pdfchart). Then the table (reports.pdftable): human
column names with units, durations h:mm:ss, ratios %, wrapped headers, widths from the content, landscape when
the table is wider than a portrait page, and split into parts by column group rather than set below 8 pt. Every
page carries the report's name and period at the top, the table's header row, and "Page n of m".
"""

from collections.abc import AsyncIterator

from anyio import to_thread
from fpdf import FPDF

from agentchat.reports import columns as cols
from agentchat.reports import pdfchart
from agentchat.reports.pdftable import FONT, SIZE, Drawer, Table, ascii_safe, baseline, wrap
from agentchat.reports.renderers import Document

# A PDF is for reading, not for data: beyond this many rows the table stops and says so (the figures still
# count every row).
MAX_ROWS = 5000
MARGIN = 12.0
PORTRAIT_WIDTH = 210 - 2 * MARGIN
GREY = (100, 100, 100)
INK = (25, 25, 25)
TILE_FILL = (240, 244, 249)


class ReportPdf(FPDF):
    def __init__(self, document: Document, landscape: bool):
        super().__init__(orientation="L" if landscape else "P", unit="mm", format="A4")
        self.document = document
        self.set_margins(MARGIN, MARGIN, MARGIN)
        self.set_auto_page_break(False)
        self.alias_nb_pages()
        self.set_title(ascii_safe(f"{document.report.name}, {document.period}"))
        self.set_author(ascii_safe(document.company))
        self.set_creator("AgentChat")

    @property
    def usable(self) -> float:
        return self.w - 2 * MARGIN

    @property
    def bottom(self) -> float:
        return self.h - MARGIN - 2

    def header(self) -> None:
        if self.page_no() == 1:
            return
        document = self.document
        self.set_font(FONT, "", SIZE)
        self.set_text_color(*GREY)
        self.text(MARGIN, 8, ascii_safe(f"{document.company} · {document.report.name} · {document.period}"))
        self.set_text_color(*INK)

    def footer(self) -> None:
        document = self.document
        self.set_font(FONT, "", SIZE)
        self.set_text_color(*GREY)
        at = self.h - 6
        self.text(MARGIN, at, ascii_safe(f"Generated {document.generated_at:%Y-%m-%d %H:%M} ({document.zone.key})"))
        # A cell, since fpdf2 puts the page count in place of "{nb}" only in cells.
        self.set_xy(self.w / 2, at - 2.7)
        self.cell(self.w / 2 - MARGIN, 3.6, f"Page {self.page_no()} of {{nb}}", align="R")
        self.set_text_color(*INK)

    def next_page(self) -> float:
        self.add_page()
        self.set_text_color(*INK)
        return MARGIN


def _title_block(pdf: ReportPdf) -> float:
    document = pdf.document
    y = MARGIN
    pdf.set_text_color(*GREY)
    pdf.set_font(FONT, "", 10)
    pdf.text(MARGIN, baseline(y, 10, 5), ascii_safe(document.company))
    pdf.set_text_color(*INK)
    pdf.set_font(FONT, "B", 18)
    pdf.text(MARGIN, baseline(y + 5, 18, 9), ascii_safe(document.report.name))
    pdf.set_font(FONT, "", 9)
    meta = (f"Period: {document.period}     Time zone: {document.zone.key}     "
            f"Generated: {document.generated_at:%Y-%m-%d %H:%M}")
    pdf.text(MARGIN, baseline(y + 14, 9, 5), ascii_safe(meta))
    pdf.set_text_color(*GREY)
    pdf.set_font(FONT, "", SIZE)
    y += 20
    for line in wrap(pdf, ascii_safe(document.report.description), pdf.usable):
        pdf.text(MARGIN, baseline(y, SIZE, 3.6), line)
        y += 3.6
    pdf.set_text_color(*INK)
    return y + 3


def _figures(pdf: ReportPdf, top: float) -> float:
    """The key figures as tiles: the value large, its label (with unit) below."""
    figures = pdf.document.figures()
    if not figures:
        return top
    per_row = min(len(figures), max(1, int(pdf.usable // 30)))
    width = pdf.usable / per_row
    pdf.set_font(FONT, "", SIZE)
    labels = [wrap(pdf, ascii_safe(column.heading), width - 4) for column, _value in figures]
    height = 11 + 3.4 * max(len(lines) for lines in labels)
    y = top
    for k, ((column, value), lines) in enumerate(zip(figures, labels, strict=True)):
        if k and k % per_row == 0:
            y += height + 2
        x = MARGIN + (k % per_row) * width
        pdf.set_fill_color(*TILE_FILL)
        pdf.set_draw_color(255, 255, 255)
        pdf.rect(x, y, width, height, style="DF")
        pdf.set_font(FONT, "B", 13)
        text = cols.display(column, value, pdf.document.zone) or "-"
        while pdf.get_string_width(text) > width - 4 and pdf.font_size_pt > 9:
            pdf.set_font(FONT, "B", pdf.font_size_pt - 1)
        pdf.text(x + 2, baseline(y + 1.5, pdf.font_size_pt, 6), text)
        pdf.set_font(FONT, "", SIZE)
        pdf.set_text_color(*GREY)
        for n, line in enumerate(lines):
            pdf.text(x + 2, baseline(y + 8 + n * 3.4, SIZE, 3.4), line)
        pdf.set_text_color(*INK)
    return y + height + 5


def _caption(pdf: ReportPdf, y: float, text: str) -> float:
    pdf.set_font(FONT, "B", 10)
    pdf.text(MARGIN, baseline(y, 10, 5), ascii_safe(text))
    return y + 6


def draw(document: Document, cells: list[list[str]], total_rows: int) -> bytes:
    report = document.report
    order = [key for _group, keys in report.groups for key in keys]
    columns = [cols.column(key) for key in order]
    measure = FPDF(unit="mm")
    table = Table(measure, columns, cells, _group_indexes(report, order), [order.index(k) for k in report.repeat])
    pdf = ReportPdf(document, landscape=table.natural_width() > PORTRAIT_WIDTH)
    table.pdf = pdf
    pdf.add_page()
    y = _figures(pdf, _title_block(pdf))
    day_rows = document.day_rows()
    if len(day_rows) > 1:
        pdfchart.draw(pdf, MARGIN, y, pdf.usable, [cols.column(k) for k in ("Date", *report.per_day)], day_rows)
        y += pdfchart.HEIGHT
    parts = table.parts(pdf.usable)
    drawer = Drawer(pdf, table, pdf.next_page, pdf.bottom)
    for number, part in enumerate(parts, 1):
        if y > pdf.bottom - 40:
            y = pdf.next_page()
        caption = report.section
        if len(parts) > 1:
            caption += f", part {number} of {len(parts)}: {', '.join(part.groups)}"
        y = drawer.draw(part, _caption(pdf, y, caption)) + 6
    if not cells:
        pdf.set_font(FONT, "", SIZE)
        pdf.text(MARGIN, baseline(y - 4), f"No {report.section.lower()} in this period.")
    if total_rows > len(cells):
        if y > pdf.bottom - 8:
            y = pdf.next_page()
        pdf.set_font(FONT, "", SIZE)
        pdf.text(MARGIN, baseline(y + 2), f"The table shows the first {len(cells):,} of {total_rows:,} rows: "
                                           "download the CSV or XLSX for all of them.")
    return bytes(pdf.output())


def _group_indexes(report, order: list[str]) -> list[tuple[str, list[int]]]:
    return [(name, [order.index(key) for key in keys]) for name, keys in report.groups]


async def write(document: Document, rows: AsyncIterator[list]) -> bytes:
    report = document.report
    order = [key for _group, keys in report.groups for key in keys]
    index = [report.columns.index(key) for key in order]
    shown = [cols.column(key) for key in order]
    zone = document.zone
    cells: list[list[str]] = []
    total = 0
    async for row in rows:  # every row is read, so that the key figures count them all
        total += 1
        if total <= MAX_ROWS:
            cells.append([cols.display(column, row[i], zone) for column, i in zip(shown, index, strict=True)])
    # Laying out thousands of rows takes a while: not on the event loop.
    return await to_thread.run_sync(draw, document, cells, total)
