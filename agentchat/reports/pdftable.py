"""The table of a PDF report: column widths from the content, wrapped headers, parts for wide reports, page breaks.

Every cell is a drawn rectangle and its text is wrapped to fit inside it (a word longer than the cell is broken),
so no value runs into its neighbour. A report too wide for the page is split between its logical column groups
(the columns naming the row are repeated in each part) rather than printed in a smaller font.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from fpdf import FPDF

from agentchat.reports import columns as cols
from agentchat.reports.columns import Column

FONT = "Helvetica"
SIZE = 8  # points: the smallest type in a report
LINE = 3.6  # mm per line of 8 pt text
PAD_X = 1.4
PAD_Y = 1.0
TEXT_MAX = 55.0  # a text column's width before its longer values wrap
MAX_LINES = 12  # a very long value (a message) is cut after this many lines
HEADER_FILL = (221, 228, 238)
STRIPE_FILL = (245, 247, 250)
RULE = (170, 178, 190)


def ascii_safe(text: str) -> str:
    # The core PDF fonts speak Latin-1 only.
    return text.encode("latin-1", "replace").decode("latin-1")


def text_width(pdf: FPDF, text: str) -> float:
    """pdf.get_string_width for the core fonts, at a tenth of its cost (it is called for every cell)."""
    widths = getattr(pdf.current_font, "cw", None)
    if widths is None:
        return pdf.get_string_width(text)
    return sum(widths.get(char, 0) for char in text) * pdf.font_size_pt / 1000 / pdf.k


def wrap(pdf: FPDF, text: str, width: float) -> list[str]:
    """Greedy word wrap to `width` mm in the current font; a word wider than the width is broken."""
    lines: list[str] = []
    for paragraph in text.split("\n"):
        line = ""
        for word in paragraph.split(" "):
            candidate = f"{line} {word}" if line else word
            if text_width(pdf, candidate) <= width:
                line = candidate
                continue
            if line:
                lines.append(line)
            while text_width(pdf, word) > width and len(word) > 1:
                cut = len(word) - 1
                while cut > 1 and text_width(pdf, word[:cut]) > width:
                    cut -= 1
                lines.append(word[:cut])
                word = word[cut:]
            line = word
        lines.append(line)
    return lines


@dataclass
class Part:
    indexes: list[int]  # into the table's columns
    widths: list[float]
    groups: list[str]


class Table:
    """Columns (in reading order), their rows as display strings, and the groups that may be split apart."""

    def __init__(self, pdf: FPDF, columns: Sequence[Column], cells: list[list[str]],
                 groups: Sequence[tuple[str, Sequence[int]]], repeat: Sequence[int]):
        self.pdf = pdf
        self.columns = list(columns)
        self.cells = cells
        self.groups = groups
        self.repeat = list(repeat)
        self.least, self.wanted = self._measure()

    def _measure(self) -> tuple[list[float], list[float]]:
        """Per column: the least width (its header's longest word, the header on at most three lines) and the
        width its longest value wants."""
        pdf = self.pdf
        pdf.set_font(FONT, "B", SIZE)
        least = []
        for column in self.columns:
            words = max(text_width(pdf, word) for word in column.heading.split())
            least.append(max(words, text_width(pdf, column.heading) / 3, 6.0) + 2 * PAD_X + 0.5)
        pdf.set_font(FONT, "", SIZE)
        widest = [0.0] * len(self.columns)
        seen: dict[str, float] = {}
        for row in self.cells:
            for i, text in enumerate(row):
                width = seen.get(text)
                if width is None:
                    width = seen[text] = text_width(pdf, text) if text else 0.0
                if width > widest[i]:
                    widest[i] = width
        wanted = [max(low, width + 2 * PAD_X + 0.5) for low, width in zip(least, widest, strict=True)]
        return least, wanted

    def natural_width(self) -> float:
        return sum(self._start_width(i) for i in range(len(self.columns)))

    def _start_width(self, i: int) -> float:
        if self.columns[i].kind == cols.TEXT:
            return max(self.least[i], min(self.wanted[i], TEXT_MAX))
        return self.wanted[i]

    def parts(self, usable: float) -> list[Part]:
        """Groups side by side while they fit the page; then a new part, again led by the repeated columns."""
        parts: list[tuple[list[int], list[str]]] = []
        current: list[int] = []
        names: list[str] = []
        for name, indexes in self.groups:
            chunks = self._fitting_chunks([i for i in indexes if i not in self.repeat or not parts and not current],
                                          usable)
            for chunk in chunks:
                if current and self._width(current + chunk) > usable:
                    parts.append((current, names))
                    current, names = [i for i in self.repeat if i not in chunk], []
                current = current + chunk
                if name not in names:
                    names.append(name)
        if current:
            parts.append((current, names))
        return [Part(indexes, self._widths(indexes, usable), names) for indexes, names in parts]

    def _width(self, indexes: list[int]) -> float:
        return sum(self._start_width(i) for i in indexes)

    def _fitting_chunks(self, indexes: list[int], usable: float) -> list[list[int]]:
        """A group wider than a page (beside the repeated columns) is cut into pieces that fit."""
        room = usable - self._width(self.repeat)
        chunks: list[list[int]] = [[]]
        for i in indexes:
            if chunks[-1] and self._width(chunks[-1] + [i]) > room:
                chunks.append([])
            chunks[-1].append(i)
        return [chunk for chunk in chunks if chunk]

    def _widths(self, indexes: list[int], usable: float) -> list[float]:
        """Start from the natural widths; squeeze text columns if too wide; give spare room to wrapped text."""
        widths = [self._start_width(i) for i in indexes]
        texts = [k for k, i in enumerate(indexes) if self.columns[i].kind == cols.TEXT]
        excess = sum(widths) - usable
        if excess > 0 and texts:
            room = sum(widths[k] - self.least[indexes[k]] for k in texts)
            for k in texts:
                share = (widths[k] - self.least[indexes[k]]) / room if room else 0
                widths[k] -= min(excess, room) * share
        spare = usable - sum(widths)
        hungry = [k for k in texts if self.wanted[indexes[k]] > widths[k]]
        if spare > 0 and hungry:
            need = sum(self.wanted[indexes[k]] - widths[k] for k in hungry)
            for k in hungry:
                widths[k] += min(spare, need) * (self.wanted[indexes[k]] - widths[k]) / need
        return widths


class Drawer:
    """Draws a part's header and rows, breaking pages where needed (each new page starts with the header)."""

    def __init__(self, pdf: FPDF, table: Table, new_page: Callable[[], float], bottom: float):
        self.pdf = pdf
        self.table = table
        self.new_page = new_page
        self.bottom = bottom

    def draw(self, part: Part, top: float) -> float:
        pdf = self.pdf
        pdf.set_font(FONT, "B", SIZE)
        headers = [wrap(pdf, ascii_safe(self.table.columns[i].heading), w - 2 * PAD_X)
                   for i, w in zip(part.indexes, part.widths, strict=True)]
        header_height = max(len(lines) for lines in headers) * LINE + 2 * PAD_Y
        y = self._header(part, headers, header_height, top)
        pdf.set_font(FONT, "", SIZE)
        for number, row in enumerate(self.table.cells):
            lines = [self._lines(row[i], w) for i, w in zip(part.indexes, part.widths, strict=True)]
            height = max(len(cell) for cell in lines) * LINE + 2 * PAD_Y
            if y + height > self.bottom:
                y = self._header(part, headers, header_height, self.new_page())
                pdf.set_font(FONT, "", SIZE)
            self._row(part, lines, y, height, striped=number % 2 == 1)
            y += height
        return y

    def _lines(self, text: str, width: float) -> list[str]:
        if not text:
            return [""]
        text = ascii_safe(text)
        inner = width - 2 * PAD_X
        if text_width(self.pdf, text) <= inner:
            return [text]
        lines = wrap(self.pdf, text, inner)
        if len(lines) > MAX_LINES:
            lines = lines[:MAX_LINES]
            lines[-1] = wrap(self.pdf, lines[-1] + " ...", inner)[0][:-3].rstrip() + "..."
        return lines

    def _header(self, part: Part, headers: list[list[str]], height: float, y: float) -> float:
        pdf = self.pdf
        pdf.set_font(FONT, "B", SIZE)
        pdf.set_fill_color(*HEADER_FILL)
        pdf.set_draw_color(*RULE)
        x = pdf.l_margin
        for lines, width in zip(headers, part.widths, strict=True):
            pdf.rect(x, y, width, height, style="DF")
            for n, line in enumerate(lines):
                pdf.text(x + PAD_X, baseline(y + PAD_Y + n * LINE), line)
            x += width
        return y + height

    def _row(self, part: Part, lines: list[list[str]], y: float, height: float, striped: bool) -> None:
        pdf = self.pdf
        pdf.set_fill_color(*STRIPE_FILL)
        x = pdf.l_margin
        for i, width, cell in zip(part.indexes, part.widths, lines, strict=True):
            pdf.rect(x, y, width, height, style="DF" if striped else "D")
            right = self.table.columns[i].kind in cols.NUMERIC
            for n, line in enumerate(cell):
                left = x + width - PAD_X - text_width(pdf, line) if right else x + PAD_X
                pdf.text(left, baseline(y + PAD_Y + n * LINE), line)
            x += width


def baseline(line_top: float, size: float = SIZE, line: float = LINE) -> float:
    """The baseline that centres a line of `size`-point capitals in a line box starting at `line_top`."""
    cap = size * 0.3528 * 0.72
    return line_top + (line + cap) / 2
