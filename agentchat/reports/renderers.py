"""A report's rows as a CSV, XLSX or PDF file. Rows arrive as an async iterator; CSV can be streamed out."""

import csv
import io
import tempfile
from collections.abc import AsyncIterator, Sequence

from agentchat.spreadsheet import safe_cell

MIME_TYPES = {
    "CSV": "text/csv",
    "XLSX": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "PDF": "application/pdf",
}
EXTENSIONS = {"CSV": "csv", "XLSX": "xlsx", "PDF": "pdf"}
# A PDF is for reading, not for data: beyond this many rows the file says so and stops.
PDF_MAX_ROWS = 5000


def _cell(value) -> str:
    if value is None:
        return ""
    if value is True or value is False:
        return "Yes" if value else "No"
    return safe_cell(value if value.__class__ is str else str(value))


# Written by the csv module as str() would, and never a formula: no need to look at them (most of a report's cells).
_PLAIN_NUMBERS = (int, float)


async def csv_chunks(columns: Sequence[str], rows: AsyncIterator[list]) -> AsyncIterator[bytes]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(columns)
    count = 0
    async for row in rows:
        writer.writerow([value if value.__class__ in _PLAIN_NUMBERS else _cell(value) for value in row])
        count += 1
        if count % 500 == 0:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode()


async def render(file_format: str, title: str, columns: Sequence[str], rows: AsyncIterator[list]) -> bytes:
    if file_format == "CSV":
        return b"".join([chunk async for chunk in csv_chunks(columns, rows)])
    if file_format == "XLSX":
        return await _xlsx(title, columns, rows)
    return await _pdf(title, columns, rows)


async def _xlsx(title: str, columns: Sequence[str], rows: AsyncIterator[list]) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=title[:31])
    sheet.append(list(columns))
    async for row in rows:
        sheet.append([value if isinstance(value, int | float) and not isinstance(value, bool) else _cell(value)
                      for value in row])
    with tempfile.TemporaryFile() as file:
        workbook.save(file)
        file.seek(0)
        return file.read()


async def _pdf(title: str, columns: Sequence[str], rows: AsyncIterator[list]) -> bytes:
    from fpdf import FPDF

    pdf = FPDF(orientation="L", unit="mm", format="A4")
    pdf.set_auto_page_break(auto=True, margin=10)
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 12)
    pdf.cell(0, 8, _latin1(title), new_x="LMARGIN", new_y="NEXT")
    width = (pdf.w - 2 * pdf.l_margin) / max(1, len(columns))
    pdf.set_font("Helvetica", "B", 6)
    for column in columns:
        pdf.cell(width, 5, _latin1(column)[:30], border=1)
    pdf.ln()
    pdf.set_font("Helvetica", "", 6)
    count = 0
    async for row in rows:
        count += 1
        if count > PDF_MAX_ROWS:
            pdf.cell(0, 5, f"More than {PDF_MAX_ROWS} rows: download the CSV or XLSX for the rest.")
            break
        for value in row:
            pdf.cell(width, 5, _latin1(_cell(value))[:40], border=1)
        pdf.ln()
    return bytes(pdf.output())


def _latin1(text: str) -> str:
    # The core PDF fonts speak Latin-1 only.
    return text.encode("latin-1", "replace").decode("latin-1")
