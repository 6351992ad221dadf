"""A report's rows as a CSV, XLSX or PDF file. Rows arrive as an async iterator; CSV can be streamed out.

The CSV is for machines: the column keys and raw values (seconds, fractions, UTC times); its readable variant
(Readable=true) gives people the labels and shown values, each duration's raw seconds kept beside it. The XLSX
and the PDF are for people (reports.xlsx, reports.pdf): labels, units and formats from reports.columns, a title
block with the period and the time zone, and the key figures that reports.figures gathers while the rows are read.
"""

import csv
import io
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from agentchat import clock
from agentchat.company import service as company
from agentchat.hours import service as hours
from agentchat.reports.catalogue import ReportDef
from agentchat.reports.columns import DAY, DURATION, MOMENT, RATIO, TEXT, Column, columns, hms, local, period_text
from agentchat.reports.figures import Collector
from agentchat.reports.service import day_bounds
from agentchat.spreadsheet import safe_cell

MIME_TYPES = {
    "CSV": "text/csv",
    "XLSX": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "PDF": "application/pdf",
}
EXTENSIONS = {"CSV": "csv", "XLSX": "xlsx", "PDF": "pdf"}


def cell_text(value) -> str:
    if value is None:
        return ""
    if value is True or value is False:
        return "Yes" if value else "No"
    if value.__class__ is datetime:
        return value.isoformat("T", "seconds") + "Z"
    return safe_cell(value if value.__class__ is str else str(value))


# Written by the csv module as str() would, and never a formula: no need to look at them (most of a report's cells).
_PLAIN_NUMBERS = (int, float)


async def csv_chunks(columns: Sequence[str], rows: AsyncIterator[list]) -> AsyncIterator[bytes]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(columns)
    count = 0
    async for row in rows:
        writer.writerow([value if value.__class__ in _PLAIN_NUMBERS else cell_text(value) for value in row])
        count += 1
        if count % 500 == 0:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode()


def readable_headings(cols: Sequence[Column], zone: ZoneInfo) -> list[str]:
    """"Wait (h:mm:ss)" then "Wait (seconds)"; times named with the zone they are shown in."""
    headings: list[str] = []
    for col in cols:
        if col.kind == DURATION:
            headings += [col.heading, f"{col.label} (seconds)"]
        elif col.kind == MOMENT:
            headings.append(f"{col.label} ({zone.key})")
        else:
            headings.append(col.heading)
    return headings


def _readable(col: Column, value, zone: ZoneInfo) -> list:
    if value is None or value == "":
        return ["", ""] if col.kind == DURATION else [""]
    kind = col.kind
    if kind == DURATION:  # the raw seconds as the machine CSV has them, for sums a spreadsheet can do
        return [hms(value), value]
    if kind == RATIO:  # no space: spreadsheets read "99.2%" as a number
        return [f"{value * 100:.1f}%"]
    if kind == MOMENT and value.__class__ is datetime:
        return [local(value, zone).strftime("%Y-%m-%d %H:%M:%S")]
    if kind == DAY and isinstance(value, date):
        return [value.isoformat()]
    if kind == TEXT or value.__class__ is str:
        return [cell_text(value)]
    return [value if value.__class__ in _PLAIN_NUMBERS else cell_text(value)]


async def readable_csv_chunks(keys: Sequence[str], rows: AsyncIterator[list], zone: ZoneInfo) -> AsyncIterator[bytes]:
    """The CSV for people (docs/reports.md): labels with units, durations h:mm:ss with their seconds in the next
    column, ratios as %, times in the company's zone. A byte-order mark first, so Excel reads it as UTF-8."""
    cols = columns(tuple(keys))
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.writer(buffer)
    writer.writerow(readable_headings(cols, zone))
    count = 0
    async for row in rows:
        writer.writerow([cell for col, value in zip(cols, row, strict=True) for cell in _readable(col, value, zone)])
        count += 1
        if count % 500 == 0:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode()


@dataclass
class Document:
    """One report for one period, as people get it: what the title block, the key figures and the per-day section
    say. `collect` is filled while the rows are read."""

    report: ReportDef
    company: str
    zone: ZoneInfo
    first: date
    last: date
    generated_at: datetime  # company wall clock
    start: datetime  # naive UTC bounds of the period
    end: datetime
    collect: Collector = field(init=False)

    def __post_init__(self) -> None:
        self.collect = Collector(self.zone)

    @property
    def period(self) -> str:
        return period_text(self.first, self.last)

    def filename(self, file_format: str) -> str:
        return f"{self.report.report_id}-{self.first.isoformat()}-{self.last.isoformat()}.{EXTENSIONS[file_format]}"

    def rows(self, db: AsyncSession) -> AsyncIterator[list]:
        return self.report.rows(db, self.start, self.end, self.collect)

    def figures(self) -> list[tuple[Column, object]]:
        return self.collect.figures(self.report.figures)

    def day_rows(self) -> list[list]:
        return self.collect.day_rows(self.report.per_day, self.first, self.last) if self.report.per_day else []


async def open_document(db: AsyncSession, report: ReportDef, first: date, last: date) -> Document:
    zone = await hours.company_zone(db)
    start, end = day_bounds(first, last, zone)
    return Document(report=report, company=await company.get_setting(db, "CompanyName"), zone=zone, first=first,
                    last=last, generated_at=local(clock.now(), zone).replace(microsecond=0), start=start, end=end)


async def render(db: AsyncSession, document: Document, file_format: str) -> bytes:
    """The whole file; afterwards document.figures() are those of the rows in it."""
    rows = document.rows(db)
    if file_format == "CSV":
        return b"".join([chunk async for chunk in csv_chunks(document.report.columns, rows)])
    if file_format == "XLSX":
        from agentchat.reports import xlsx

        return await xlsx.write(document, rows)
    from agentchat.reports import pdf

    return await pdf.write(document, rows)
