"""The voice report as a table: measure, value, unit, typical adult range and a coloured flag."""

from __future__ import annotations

import math

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QTableWidget,
    QTableWidgetItem,
    QWidget,
)

COLUMNS = ("Measure", "Value", "Unit", "Typical adult range", "Flag")
OUT_OF_RANGE_BG = QColor("#5c4a1c")
OUT_OF_RANGE_FG = QColor("#f3ddb0")
IN_RANGE_FG = QColor("#7fd19b")
NO_NORM_FG = QColor("#7d8590")
FLAG_TEXT = {"high": "Above range", "low": "Below range", "": "In range"}


def format_value(value: float | None) -> str:
    if value is None or not math.isfinite(value):
        return "n/a"
    magnitude = abs(value)
    if magnitude >= 100:
        return f"{value:.1f}"
    if magnitude >= 10:
        return f"{value:.2f}"
    return f"{value:.3f}"


def range_text(low: float | None, high: float | None) -> str:
    if low is not None and high is not None:
        return f"{low:g} – {high:g}"
    if high is not None:
        return f"≤ {high:g}"
    if low is not None:
        return f"≥ {low:g}"
    return "—"


class VoiceReportTable(QTableWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(0, len(COLUMNS), parent)
        self.setHorizontalHeaderLabels(COLUMNS)
        self.verticalHeader().hide()
        self.setAlternatingRowColors(True)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        header = self.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)

    def set_report(self, report: dict | None) -> None:
        """Show ``voice_report.as_dict()`` rows (or nothing)."""
        measures = (report or {}).get("measures", [])
        self.setRowCount(len(measures))
        for row, measure in enumerate(measures):
            self._fill(row, measure, (report or {}).get("kind", ""))

    def _fill(self, row: int, m: dict, kind: str) -> None:
        flag = m.get("flag")
        has_norm = m.get("normal_low") is not None or m.get("normal_high") is not None
        flag_text = FLAG_TEXT.get(flag, "") if flag is not None else (
            "not for speech" if has_norm and kind == "speech" else "")
        cells = (m["label"], format_value(m.get("value")), m.get("unit", ""),
                 range_text(m.get("normal_low"), m.get("normal_high")), flag_text)
        tip = f"Norm: {m['source']}" if m.get("source") else "No published adult norm"
        for col, text in enumerate(cells):
            item = QTableWidgetItem(text)
            item.setToolTip(tip)
            item.setData(Qt.ItemDataRole.UserRole, m.get("key"))
            if col == 1:
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            self._colour(item, col, flag)
            self.setItem(row, col, item)

    @staticmethod
    def _colour(item: QTableWidgetItem, col: int, flag: str | None) -> None:
        if flag in ("high", "low"):
            item.setBackground(QBrush(OUT_OF_RANGE_BG))
            item.setForeground(QBrush(OUT_OF_RANGE_FG))
        elif flag == "" and col == 4:
            item.setForeground(QBrush(IN_RANGE_FG))
        elif flag is None and col == 4:
            item.setForeground(QBrush(NO_NORM_FG))

    def flag_of(self, key: str) -> str | None:
        """The flag text shown for a measure key (for tests and tooltips)."""
        for row in range(self.rowCount()):
            if self.item(row, 0).data(Qt.ItemDataRole.UserRole) == key:
                return self.item(row, 4).text()
        return None
