"""Text drawn over a slice view: corner annotations, orientation labels, scale bar, notices.

Painted by a transparent widget laid over the graphics view, so text stays crisp and the same
size whatever the zoom. Mouse events pass through it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPainter, QPen
from PySide6.QtWidgets import QWidget

TEXT_COLOR = QColor("#e4e8ec")
DIM_COLOR = QColor("#9aa4ae")
LABEL_COLOR = QColor("#f0c75e")
NOTICE_COLOR = QColor("#f0c75e")
SHADOW = QColor(0, 0, 0, 220)
_NICE_LENGTHS_MM = (1, 2, 5, 10, 20, 50, 100, 200, 500)


@dataclass
class OverlayContent:
    top_left: list[str] = field(default_factory=list)
    top_right: list[str] = field(default_factory=list)
    bottom_left: list[str] = field(default_factory=list)
    bottom_right: list[str] = field(default_factory=list)
    labels: dict[str, str] = field(default_factory=dict)  # left/right/top/bottom
    mm_per_pixel: float | None = None  # for the scale bar; None hides it
    notice: str = ""  # centred message, e.g. "Loading slice..."


def scale_bar_length_mm(mm_per_pixel: float, target_px: float = 100.0) -> float:
    """The largest 1-2-5 length whose bar is at most ``target_px`` screen pixels long."""
    best = _NICE_LENGTHS_MM[0]
    for length in _NICE_LENGTHS_MM:
        if length / mm_per_pixel <= target_px:
            best = length
    return float(best)


def format_length(mm: float) -> str:
    return f"{mm / 10:g} cm" if mm >= 10 else f"{mm:g} mm"


class OverlayPainter(QWidget):
    """Transparent layer that paints :class:`OverlayContent`."""

    def __init__(self, parent: QWidget | None = None, compact: bool = False) -> None:
        super().__init__(parent)
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.setAttribute(Qt.WidgetAttribute.WA_NoSystemBackground)
        self.content = OverlayContent()
        self.text_visible = True
        self.show_scale_bar = True
        self.compact = compact

    def set_content(self, content: OverlayContent) -> None:
        self.content = content
        self.update()

    def paintEvent(self, event) -> None:  # noqa: N802
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setRenderHint(QPainter.RenderHint.TextAntialiasing)
        font = QFont(self.font())
        font.setPointSizeF(8.5 if self.compact else 9.5)
        painter.setFont(font)
        c = self.content
        if self.text_visible:
            self._corner(painter, c.top_left, Qt.AlignmentFlag.AlignLeft, top=True)
            self._corner(painter, c.top_right, Qt.AlignmentFlag.AlignRight, top=True)
            self._corner(painter, c.bottom_left, Qt.AlignmentFlag.AlignLeft, top=False)
            self._corner(painter, c.bottom_right, Qt.AlignmentFlag.AlignRight, top=False)
        self._orientation_labels(painter)
        if self.show_scale_bar and c.mm_per_pixel:
            self._scale_bar(painter, c.mm_per_pixel)
        if c.notice:
            self._notice(painter, c.notice)
        painter.end()

    def _shadowed(self, painter: QPainter, rect: QRectF, flags, text: str, color: QColor) -> None:
        painter.setPen(SHADOW)
        painter.drawText(rect.translated(1, 1), flags, text)
        painter.setPen(color)
        painter.drawText(rect, flags, text)

    def _corner(self, painter: QPainter, lines: list[str], align, top: bool) -> None:
        metrics = QFontMetricsF(painter.font())
        height = metrics.height()
        margin = 8.0
        y = margin if top else self.height() - margin - height * len(lines) - (30 if not top and align == Qt.AlignmentFlag.AlignRight and self.show_scale_bar else 0)
        for n, line in enumerate(lines):
            rect = QRectF(margin, y + n * height, self.width() - 2 * margin, height)
            color = TEXT_COLOR if n == 0 or not self.compact else DIM_COLOR
            self._shadowed(painter, rect, align | Qt.AlignmentFlag.AlignVCenter, line, color)

    def _orientation_labels(self, painter: QPainter) -> None:
        labels = self.content.labels
        if not labels:
            return
        font = QFont(painter.font())
        font.setPointSizeF(font.pointSizeF() + 2.5)
        font.setBold(True)
        painter.save()
        painter.setFont(font)
        w, h = self.width(), self.height()
        box = 40.0
        places = {
            "left": QRectF(4, h / 2 - box / 2, box, box),
            "right": QRectF(w - box - 4, h / 2 - box / 2, box, box),
            "top": QRectF(w / 2 - box, 4 + 18, 2 * box, box / 2 + 4),
            "bottom": QRectF(w / 2 - box, h - box / 2 - 8, 2 * box, box / 2 + 4),
        }
        aligns = {
            "left": Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
            "right": Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
            "top": Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop,
            "bottom": Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignBottom,
        }
        for edge, rect in places.items():
            if labels.get(edge):
                self._shadowed(painter, rect, aligns[edge], labels[edge], LABEL_COLOR)
        painter.restore()

    def _scale_bar(self, painter: QPainter, mm_per_pixel: float) -> None:
        length_mm = scale_bar_length_mm(mm_per_pixel)
        length_px = length_mm / mm_per_pixel
        x1 = self.width() - 12.0
        x0 = x1 - length_px
        y = self.height() - 14.0
        pen = QPen(SHADOW, 4)
        painter.setPen(pen)
        painter.drawLine(QPointF(x0, y), QPointF(x1, y))
        painter.setPen(QPen(TEXT_COLOR, 1.6))
        painter.drawLine(QPointF(x0, y), QPointF(x1, y))
        for x in (x0, x1):
            painter.drawLine(QPointF(x, y - 4), QPointF(x, y + 1))
        rect = QRectF(x0 - 60, y - 20, length_px + 60, 14)
        self._shadowed(painter, rect, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignBottom,
                       format_length(length_mm), TEXT_COLOR)

    def _notice(self, painter: QPainter, text: str) -> None:
        rect = QRectF(0, self.height() / 2 - 20, self.width(), 40)
        self._shadowed(painter, rect, Qt.AlignmentFlag.AlignCenter, text, NOTICE_COLOR)
