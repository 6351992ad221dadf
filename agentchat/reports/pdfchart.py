"""The per-day chart of a PDF report, drawn with fpdf2's own lines and rectangles.

Bars: the day's count (chats, or messages), on the left axis. Line: the day's average wait (when the report has
one), on the right axis in h:mm:ss. Drawn as vectors: sharp when printed, a few kilobytes, and no plotting
library (matplotlib would add tens of megabytes to install and a second to import, for two series).
"""

import math
from datetime import date

from fpdf import FPDF

from agentchat.reports.columns import DURATION, Column, hms
from agentchat.reports.pdftable import FONT, SIZE, baseline

HEIGHT = 64.0  # mm, title and legend included
_PLOT = 42.0
BAR = (86, 128, 184)
LINE = (222, 120, 31)
GRID = (220, 224, 230)
TEXT = (60, 60, 60)
_DURATION_STEPS = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400)


def nice_step(top: float, ticks: int = 4) -> float:
    """1, 2 or 5 times a power of ten, so that `ticks` steps reach `top`."""
    raw = max(top, ticks) / ticks
    power = 10 ** math.floor(math.log10(raw))
    return next(step * power for step in (1, 2, 5, 10) if step * power >= raw)


def _duration_step(top: float, ticks: int = 4) -> int:
    return next((step for step in _DURATION_STEPS if step * ticks >= top), 86400 * math.ceil(top / ticks / 86400))


def draw(pdf: FPDF, x: float, y: float, width: float, columns: list[Column], rows: list[list]) -> None:
    """columns[0] is the day; columns[1] the count drawn as bars; the first duration column the line."""
    days = [row[0] for row in rows]
    bars = [row[1] or 0 for row in rows]
    line_at = next((k for k, column in enumerate(columns) if column.kind == DURATION), None)
    line = [row[line_at] for row in rows] if line_at is not None else []
    if not any(value is not None for value in line):
        line_at, line = None, []
    pdf.set_text_color(*TEXT)
    pdf.set_font(FONT, "B", 9)
    title = f"{columns[1].label} per day" + (f" and {columns[line_at].label.lower()}" if line_at is not None else "")
    pdf.text(x, baseline(y, 9, 5), title)
    left, right = x + 14, x + width - (16 if line else 2)
    top, bottom = y + 8, y + 8 + _PLOT
    ticks = 4
    step = nice_step(max(bars, default=0), ticks)
    count_top = step * ticks
    pdf.set_font(FONT, "", SIZE)
    pdf.set_draw_color(*GRID)
    pdf.set_line_width(0.2)
    seconds = [value for value in line if value is not None]
    wait_step = _duration_step(max(seconds, default=60)) if seconds else 0
    for tick in range(ticks + 1):
        at = bottom - (bottom - top) * tick / ticks
        pdf.line(left, at, right, at)
        label = f"{int(step * tick):,}"
        pdf.text(left - 1.5 - pdf.get_string_width(label), at + 1.0, label)
        if seconds:
            pdf.text(right + 1.5, at + 1.0, hms(wait_step * tick))
    slot = (right - left) / max(1, len(days))
    pdf.set_fill_color(*BAR)
    for k, value in enumerate(bars):
        if value:
            height = (bottom - top) * value / count_top
            pdf.rect(left + k * slot + slot * 0.15, bottom - height, slot * 0.7, height, style="F")
    if seconds:
        _line(pdf, left, slot, top, bottom, line, wait_step * ticks)
    _day_labels(pdf, left, slot, bottom, days, right)
    _legend(pdf, x, bottom + 7, columns[1].label, columns[line_at].heading if line_at is not None else None)


def _line(pdf: FPDF, left: float, slot: float, top: float, bottom: float, values: list, scale: float) -> None:
    pdf.set_draw_color(*LINE)
    pdf.set_fill_color(*LINE)
    pdf.set_line_width(0.5)
    previous = None
    for k, value in enumerate(values):
        if value is None:
            previous = None
            continue
        point = (left + (k + 0.5) * slot, bottom - (bottom - top) * min(value, scale) / scale)
        if previous is not None:
            pdf.line(*previous, *point)
        pdf.circle(point[0], point[1], 0.7, style="F")
        previous = point
    pdf.set_line_width(0.2)


def _day_labels(pdf: FPDF, left: float, slot: float, bottom: float, days: list[date], right: float) -> None:
    labels = [day.strftime("%d %b") for day in days]
    widest = max((pdf.get_string_width(label) for label in labels), default=0) + 3
    every = max(1, math.ceil(widest / slot))
    for k in range(0, len(days), every):
        width = pdf.get_string_width(labels[k])
        centre = left + (k + 0.5) * slot
        at = min(max(centre - width / 2, left - 8), right + 8 - width)
        pdf.text(at, bottom + 4, labels[k])


def _legend(pdf: FPDF, x: float, y: float, bars: str, line: str | None) -> None:
    pdf.set_fill_color(*BAR)
    pdf.rect(x + 14, y, 4, 2.6, style="F")
    text = f"{bars} (left axis)" if line else bars
    pdf.text(x + 19.5, y + 2.4, text)
    if line:
        start = x + 19.5 + pdf.get_string_width(text) + 8
        pdf.set_fill_color(*LINE)
        pdf.rect(start, y + 0.9, 6, 0.8, style="F")
        pdf.text(start + 7.5, y + 2.4, f"{line}, right axis")
