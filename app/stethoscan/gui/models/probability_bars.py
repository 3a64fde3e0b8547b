"""Horizontal bars: calibrated probabilities per label, and each input's contribution.

Percentages shown for mutually exclusive labels are rounded so they add up to 100 (largest
remainder), so a clinician never reads 34 % + 33 % + 34 %.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QPainter
from PySide6.QtWidgets import QGridLayout, QLabel, QSizePolicy, QVBoxLayout, QWidget

TOP_COLOUR = "#3fa7d6"
OTHER_COLOUR = "#5b6672"
TRACK_COLOUR = "#101316"
POSITIVE_COLOUR = "#d9a441"
NEGATIVE_COLOUR = "#6f8fa8"


def rounded_percentages(probabilities: Sequence[float], exclusive: bool = True) -> list[int]:
    """Whole percentages; for exclusive labels (softmax) they sum to exactly 100."""
    raw = [max(float(p), 0.0) * 100.0 for p in probabilities]
    total = sum(raw)
    if not exclusive or not raw or abs(total - 100.0) > 1.0:
        return [int(round(v)) for v in raw]
    raw = [v * 100.0 / total for v in raw]
    floors = [math.floor(v) for v in raw]
    missing = 100 - sum(floors)
    order = sorted(range(len(raw)), key=lambda i: raw[i] - floors[i], reverse=True)
    for i in order[:missing]:
        floors[i] += 1
    return floors


def percent_text(probability: float) -> str:
    """A probability in whole percent; never "100 %" or "0 %" (a model is not certain)."""
    if probability > 0.995:
        return ">99 %"
    if probability < 0.005:
        return "<1 %"
    return f"{probability * 100:.0f} %"


def shown_percent(pct: int) -> str:
    """A rounded percentage as shown: 100 as ">99 %", 0 as "<1 %" (a model is not certain)."""
    return ">99 %" if pct >= 100 else "<1 %" if pct <= 0 else f"{pct} %"


class Bar(QWidget):
    """A flat bar: ``value`` in [0, 1], or in [-1, 1] around a centre line when ``signed``."""

    def __init__(self, value: float, colour: str, signed: bool = False,
                 parent: QWidget | None = None) -> None:  # fmt: skip
        super().__init__(parent)
        self.value, self.colour, self.signed = float(value), QColor(colour), signed
        self.setMinimumHeight(10)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt API)
        return QSize(120, 12)

    def paintEvent(self, event) -> None:  # noqa: N802 (Qt API)
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        rect = QRectF(self.rect()).adjusted(0.5, 1.5, -0.5, -1.5)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(TRACK_COLOUR))
        painter.drawRoundedRect(rect, 3, 3)
        value = min(max(self.value, -1.0), 1.0)
        if self.signed:
            centre = rect.left() + rect.width() / 2
            width = abs(value) * rect.width() / 2
            left = centre if value >= 0 else centre - width
            filled = QRectF(left, rect.top(), width, rect.height())
        else:
            filled = QRectF(rect.left(), rect.top(), max(value, 0.0) * rect.width(), rect.height())
        painter.setBrush(self.colour)
        if filled.width() > 0.5:
            painter.drawRoundedRect(filled, 3, 3)
        if self.signed:
            painter.setPen(QColor("#8d96a0"))
            painter.drawLine(int(rect.center().x()), int(rect.top()) - 1,
                             int(rect.center().x()), int(rect.bottom()) + 1)  # fmt: skip
        painter.end()


class ProbabilityBars(QWidget):
    """One row per label: name and percentage, the bar, and the plain-language description."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("probabilityBars")
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.setSpacing(6)
        self.bars: list[Bar] = []
        self.shown_percentages: list[int] = []

    def set_probabilities(self, labels: Sequence[str], descriptions: Sequence[str],
                          probabilities: Sequence[float], top_label: str,
                          exclusive: bool = True) -> None:  # fmt: skip
        _clear(self._layout)
        self.bars = []
        self.shown_percentages = rounded_percentages(probabilities, exclusive)
        for label, text, p, pct in zip(labels, descriptions, probabilities, self.shown_percentages,
                                       strict=True):  # fmt: skip
            self._layout.addWidget(self._row(label, text, float(p), pct, label == top_label))

    def _row(self, label: str, text: str, p: float, pct: int, top: bool) -> QWidget:
        row = QWidget()
        row.setObjectName("probabilityRowTop" if top else "probabilityRow")
        grid = QGridLayout(row)
        grid.setContentsMargins(6, 4, 6, 4)
        grid.setHorizontalSpacing(8)
        grid.setVerticalSpacing(2)
        name = QLabel(f"<b>{label}</b>" if top else label)
        value = QLabel(f"<b>{shown_percent(pct)}</b>" if top else shown_percent(pct))
        value.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        bar = Bar(p, TOP_COLOUR if top else OTHER_COLOUR)
        self.bars.append(bar)
        description = QLabel(text)
        description.setObjectName("labelDescription")
        description.setWordWrap(True)
        name.setMinimumWidth(72)
        value.setMinimumWidth(44)
        grid.addWidget(name, 0, 0)
        grid.addWidget(bar, 0, 1)
        grid.addWidget(value, 0, 2)
        grid.addWidget(description, 1, 0, 1, 3)
        grid.setColumnStretch(1, 1)
        return row


INPUT_TITLES = {"scan": "Brain MRI / scan", "clinical_scores": "Cognitive scores", "audio": "Recording"}


def input_titles(inputs_used: list[str], details: dict | None = None) -> dict[str, str]:
    """A title per input used; the cognitive history names what it held (MMSE, age, sex...)."""
    titles = {name: INPUT_TITLES.get(name, name) for name in inputs_used}
    held = list((details or {}).get("history_inputs") or [])
    if "clinical_scores" in titles and held:
        scores = [h for h in held if h in ("MMSE", "MoCA")]
        others = [h for h in held if h not in scores]
        text = f"Cognitive scores ({', '.join(scores)})" if scores else "Cognitive scores"
        titles["clinical_scores"] = text + (f" with {', '.join(others)}" if others else "")
    return titles


class ContributionBars(QWidget):
    """Each input's contribution (percentage points of the top label's probability)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._grid = QGridLayout(self)
        self._grid.setContentsMargins(0, 0, 0, 0)
        self._grid.setHorizontalSpacing(8)
        self.bars: dict[str, Bar] = {}

    def set_contributions(self, contributions: dict[str, float], top_label: str) -> None:
        _clear(self._grid)
        self.bars = {}
        scale = max([abs(v) for v in contributions.values()] + [0.05])
        for row, (name, value) in enumerate(contributions.items()):
            colour = POSITIVE_COLOUR if value >= 0 else NEGATIVE_COLOUR
            bar = Bar(value / scale, colour, signed=True)
            bar.setToolTip(f"Probability of {top_label} with all inputs minus without this input")
            self.bars[name] = bar
            points = QLabel(f"{value * 100:+.1f} pts")
            points.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            self._grid.addWidget(QLabel(INPUT_TITLES.get(name, name)), row, 0)
            self._grid.addWidget(bar, row, 1)
            self._grid.addWidget(points, row, 2)
        self._grid.setColumnStretch(1, 1)


def _clear(layout) -> None:
    while layout.count():
        item = layout.takeAt(0)
        widget = item.widget()
        if widget is not None:
            widget.setParent(None)
            widget.deleteLater()
