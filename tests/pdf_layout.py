"""What a PDF shows where, read back with pypdf: each text run's box and each drawn rectangle, in points."""

import io
from dataclasses import dataclass

import pypdf
from fpdf import FPDF

_MEASURE = FPDF(unit="pt")


@dataclass(frozen=True)
class Run:
    text: str
    x0: float
    x1: float
    y0: float  # descender
    y1: float  # cap height above the baseline
    size: float
    bold: bool


@dataclass(frozen=True)
class Box:
    x0: float
    y0: float
    x1: float
    y1: float

    def holds_point(self, x: float, y: float) -> bool:
        return self.x0 - 0.01 <= x <= self.x1 + 0.01 and self.y0 - 0.01 <= y <= self.y1 + 0.01

    @property
    def area(self) -> float:
        return (self.x1 - self.x0) * (self.y1 - self.y0)


@dataclass
class Page:
    width: float
    height: float
    runs: list[Run]
    boxes: list[Box]

    def texts(self) -> list[str]:
        return [run.text for run in self.runs]


def _width(text: str, bold: bool, size: float) -> float:
    _MEASURE.set_font("Helvetica", "B" if bold else "", size)
    return _MEASURE.get_string_width(text)


def read(content: bytes) -> list[Page]:
    pages = []
    for page in pypdf.PdfReader(io.BytesIO(content)).pages:
        runs: list[Run] = []
        boxes: list[Box] = []

        def on_text(text, cm, tm, font, font_size, runs=runs):
            text = text.strip()
            if not text or font is None:
                return
            size = font_size * tm[0] * cm[0]
            bold = "Bold" in str(font.get("/BaseFont"))
            x, y = tm[4] * cm[0] + cm[4], tm[5] * cm[3] + cm[5]
            runs.append(Run(text, x, x + _width(text, bold, size), y - 0.21 * size, y + 0.72 * size, size, bold))

        def on_operator(operator, operands, cm, tm, boxes=boxes):
            if operator == b"re":
                x, y, w, h = (float(value) for value in operands)
                boxes.append(Box(min(x, x + w), min(y, y + h), max(x, x + w), max(y, y + h)))

        page.extract_text(visitor_text=on_text, visitor_operand_before=on_operator)
        pages.append(Page(float(page.mediabox.width), float(page.mediabox.height), runs, boxes))
    return pages


def overlapping(runs: list[Run]) -> list[tuple[Run, Run]]:
    """Pairs of runs whose boxes share more than a sliver."""
    ordered = sorted(runs, key=lambda run: run.y0)
    found = []
    for i, a in enumerate(ordered):
        for b in ordered[i + 1:]:
            if b.y0 >= a.y1 - 0.3:
                break
            if min(a.x1, b.x1) - max(a.x0, b.x0) > 0.3:
                found.append((a, b))
    return found


def cell_of(page: Page, run: Run) -> Box | None:
    """The smallest rectangle the run starts in (its cell)."""
    holding = [box for box in page.boxes if box.holds_point(run.x0, (run.y0 + run.y1) / 2)]
    return min(holding, key=lambda box: box.area) if holding else None


def outside_its_cell(page: Page) -> list[tuple[Run, Box]]:
    out = []
    for run in page.runs:
        box = cell_of(page, run)
        if box is not None and (run.x1 > box.x1 + 0.3 or run.y0 < box.y0 - 0.3 or run.y1 > box.y1 + 0.3):
            out.append((run, box))
    return out
