"""A report as an Excel workbook people can sort, filter and sum.

Sheets: "Summary" (report, period, time zone, generated at, key figures), the report's table (bold frozen header,
autofilter, widths fitted to the content) and, for reports over time, "Per day". Durations are Excel durations
([h]:mm:ss, a fraction of a day) and ratios percentages, so that they sum, average and sort as numbers; times are
the company's wall clock.

The workbook is written in openpyxl's write-only mode, which needs the column widths before the first row: the
rows are first spooled to a temporary file (pickled) while their widths are measured, then written. Memory stays
flat however many rows the period holds.
"""

import pickle
import tempfile
from collections.abc import AsyncIterator, Iterable

from openpyxl import Workbook
from openpyxl.cell import Cell, WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from agentchat.reports import columns as cols
from agentchat.reports.columns import Column
from agentchat.reports.renderers import Document, cell_text

NUMBER_FORMATS = {cols.DURATION: "[h]:mm:ss", cols.RATIO: "0.0%", cols.COUNT: "#,##0", cols.SCORE: "0.00",
                  cols.MOMENT: "yyyy-mm-dd hh:mm", cols.DAY: "ddd yyyy-mm-dd"}
# Widths in characters: at least what the format shows, at most what stays readable (longer text is cut off by
# the next cell, and shown whole in the formula bar).
_MIN_WIDTHS = {cols.DURATION: 10, cols.RATIO: 8, cols.COUNT: 7, cols.MOMENT: 16, cols.DAY: 15, cols.ID: 8}
_MAX_WIDTH = 60
_HEADER_FONT = Font(bold=True)
_HEADER_FILL = PatternFill("solid", fgColor="DDE4EE")
_HEADER_ALIGNMENT = Alignment(wrap_text=True, vertical="top")
_TITLE_FONT = Font(bold=True, size=14)


def excel_value(column: Column, value, document: Document):
    """A report value as the cell's value: Excel durations are fractions of a day."""
    if value is None or value == "":
        return None
    kind = column.kind
    if kind == cols.DURATION:
        return value / 86400
    if kind == cols.MOMENT:
        return cols.local(value, document.zone)
    if kind == cols.FLAG:
        return "Yes" if value else "No"
    if kind in (cols.RATIO, cols.COUNT, cols.DAY, cols.ID, cols.SCORE) and not isinstance(value, str):
        return value
    return cell_text(value)


def _header_width(column: Column) -> int:
    """Wide enough for the header's longest word, and for the header on at most three lines."""
    words = column.heading.split()
    return max(max(len(word) for word in words), -(-len(column.heading) // 3)) + 2


class _Table:
    def __init__(self, title: str, columns: list[Column]):
        self.title = title
        self.columns = columns
        self.widths = [max(_MIN_WIDTHS.get(c.kind, 6), _header_width(c)) for c in columns]

    def measure(self, values: list) -> None:
        for i, (column, value) in enumerate(zip(self.columns, values, strict=True)):
            if column.kind in (cols.TEXT, cols.ID, cols.COUNT) and value is not None:
                length = len(value) if value.__class__ is str else len(str(value)) + 1
                if length > self.widths[i]:
                    self.widths[i] = min(_MAX_WIDTH, length + 1)

    def write(self, workbook: Workbook, rows: Iterable[list], document: Document) -> None:
        sheet = workbook.create_sheet(title=self.title[:31])
        for i, width in enumerate(self.widths, 1):
            sheet.column_dimensions[get_column_letter(i)].width = width
        sheet.freeze_panes = "A2"
        last = f"{get_column_letter(len(self.columns))}"
        header_lines = max(-(-len(c.heading) // max(1, w - 2)) for c, w in zip(self.columns, self.widths, strict=True))
        sheet.row_dimensions[1].height = 15 * min(3, max(1, header_lines))
        sheet.append([self._header(sheet, column) for column in self.columns])
        # One styled cell per column, refilled for each row: write-only rows are written out as they are appended.
        templates = [self._template(sheet, column) for column in self.columns]
        count = 0
        for values in rows:
            count += 1
            out = []
            for column, template, value in zip(self.columns, templates, values, strict=True):
                value = excel_value(column, value, document)
                if template is None or value is None:
                    out.append(value)
                else:
                    template.value = value
                    out.append(template)
            sheet.append(out)
        sheet.auto_filter.ref = f"A1:{last}{count + 1}"

    @staticmethod
    def _header(sheet, column: Column) -> Cell:
        cell = WriteOnlyCell(sheet, value=column.heading)
        cell.font, cell.fill, cell.alignment = _HEADER_FONT, _HEADER_FILL, _HEADER_ALIGNMENT
        return cell

    @staticmethod
    def _template(sheet, column: Column) -> Cell | None:
        number_format = NUMBER_FORMATS.get(column.kind)
        if number_format is None:
            return None
        cell = WriteOnlyCell(sheet)
        cell.number_format = number_format
        return cell


def _spooled(spool) -> Iterable[list]:
    spool.seek(0)
    while True:
        try:
            yield pickle.load(spool)
        except EOFError:
            return


def _summary_sheet(workbook: Workbook, document: Document) -> None:
    sheet = workbook.create_sheet(title="Summary")
    sheet.column_dimensions["A"].width = 30
    sheet.column_dimensions["B"].width = 36
    title = WriteOnlyCell(sheet, value=document.report.name)
    title.font = _TITLE_FONT
    sheet.append([title])
    for label, value in (("Company", document.company), ("Period", document.period),
                         ("Time zone", document.zone.key),
                         ("Generated", document.generated_at.strftime("%Y-%m-%d %H:%M")),
                         ("About", document.report.description)):
        sheet.append([label, cell_text(value)])
    sheet.append([])
    heading = WriteOnlyCell(sheet, value="Key figures")
    heading.font = _HEADER_FONT
    sheet.append([heading])
    for column, figure in document.figures():
        cell = WriteOnlyCell(sheet, value=excel_value(column, figure, document))
        cell.number_format = NUMBER_FORMATS.get(column.kind, "General")
        cell.alignment = Alignment(horizontal="right")
        sheet.append([column.heading, cell])


async def write(document: Document, rows: AsyncIterator[list]) -> bytes:
    report = document.report
    order = [key for _group, keys in report.groups for key in keys]
    index = [report.columns.index(key) for key in order]
    table = _Table(report.section, [cols.column(key) for key in order])
    with tempfile.TemporaryFile() as spool, tempfile.TemporaryFile() as file:
        async for row in rows:
            values = [row[i] for i in index]
            table.measure(values)
            pickle.dump(values, spool, protocol=pickle.HIGHEST_PROTOCOL)
        workbook = Workbook(write_only=True)
        _summary_sheet(workbook, document)
        table.write(workbook, _spooled(spool), document)
        if report.per_day:
            days = _Table("Per day", [cols.column(key) for key in ("Date", *report.per_day)])
            day_rows = document.day_rows()
            for values in day_rows:
                days.measure(values)
            days.write(workbook, day_rows, document)
        workbook.save(file)
        file.seek(0)
        return file.read()
