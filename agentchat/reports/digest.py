"""The scheduled report's e-mail: the key figures inline (HTML, with a plain-text part), the file attached, and how
to change or stop the schedule. The figures are the file's own (gathered while it was written), labelled and
formatted by reports.columns as in the PDF."""

from dataclasses import dataclass
from html import escape

from agentchat.reports import columns as cols
from agentchat.reports.models import Recipient, ReportSchedule
from agentchat.reports.renderers import Document

_DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_PERIODS = {"Day": "the previous day", "Week": "the previous 7 days", "Month": "the previous calendar month"}


@dataclass(frozen=True)
class Digest:
    subject: str
    text: str
    html: str


def _days(days: list[int]) -> str:
    if sorted(days) == [1, 2, 3, 4, 5, 6, 7]:
        return "every day"
    if sorted(days) == [1, 2, 3, 4, 5]:
        return "every weekday"
    return "every " + ", ".join(_DAY_NAMES[day - 1] for day in sorted(days))


def schedule_line(schedule: ReportSchedule, recipient: Recipient, document: Document, console_url: str) -> str:
    return (f"You get this report {_days(schedule.scheduled_days)} at {schedule.scheduled_time} "
            f"({document.zone.key}), covering {_PERIODS.get(schedule.period, schedule.period)}, at "
            f"{recipient.email_address}. To change or stop it, a manager opens Reports in the AgentChat console "
            f"({console_url}) and deletes this schedule (scheduled report {schedule.id}) under {recipient.name}, "
            "or adds another.")


def _busiest_day(document: Document) -> str | None:
    rows = document.day_rows()
    if len(rows) < 2:
        return None
    day, count = max(((row[0], row[1] or 0) for row in rows), key=lambda pair: pair[1])
    if not count:
        return None
    label = cols.column(document.report.per_day[0]).label.lower()
    return f"Busiest day: {cols.display(cols.column('Date'), day, document.zone)} ({count:,} {label})"


def compose(document: Document, schedule: ReportSchedule, recipient: Recipient, filename: str,
            console_url: str) -> Digest:
    report = document.report
    figures = [(column.heading, cols.display(column, value, document.zone) or "-")
               for column, value in document.figures()]
    busiest = _busiest_day(document)
    footer = schedule_line(schedule, recipient, document, console_url)
    link = f'<a href="{escape(console_url)}">{escape(console_url)}</a>'
    head = f"{document.company} · {document.period} ({document.zone.key})"
    width = max((len(label) for label, _value in figures), default=0)
    text = "\n".join([
        report.name, head, "",
        *(f"{label:<{width}}  {value}" for label, value in figures),
        *([""] + [busiest] if busiest else []), "",
        f"The full report is attached: {filename}", "",
        footer, ""])
    rows = "".join(f'<tr><td style="padding:3px 16px 3px 0;color:#555">{escape(label)}</td>'
                   f'<td style="padding:3px 0;text-align:right;font-weight:bold">{escape(value)}</td></tr>'
                   for label, value in figures)
    html = (
        '<!DOCTYPE html><html><body style="font-family:Helvetica,Arial,sans-serif;color:#222;font-size:14px">'
        f'<h2 style="margin:0 0 4px">{escape(report.name)}</h2>'
        f'<p style="margin:0 0 16px;color:#555">{escape(head)}</p>'
        f'<table style="border-collapse:collapse;margin-bottom:16px">{rows}</table>'
        + (f"<p>{escape(busiest)}</p>" if busiest else "")
        + f"<p>The full report is attached: <b>{escape(filename)}</b></p>"
        f'<p style="color:#777;font-size:12px">{escape(footer).replace(escape(console_url), link)}</p>'
        "</body></html>")
    return Digest(subject=f"{report.name}, {document.period}", text=text, html=html)
