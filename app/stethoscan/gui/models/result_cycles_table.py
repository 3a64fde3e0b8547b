"""The per-cycle results table of the Results dock (respiratory models).

A mixin of :class:`stethoscan.gui.models.results_panel.ResultsPanel`: its methods use the panel's
``cycles_table``, ``sections`` and ``spectrogram``.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableWidget, QTableWidgetItem

from stethoscan.gui.models.probability_bars import percent_text


class ResultCyclesTable:
    """One row per breathing cycle: its span (s), finding, probability and evidence."""

    def _cycles_table(self) -> QTableWidget:
        table = QTableWidget(0, 4)
        table.setObjectName("cyclesTable")
        table.setHorizontalHeaderLabels(["Cycle (s)", "Finding", "p", "Evidence"])
        table.verticalHeader().setVisible(False)
        table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        header = table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        table.setWordWrap(True)
        return table

    def _show_cycles(self, p: Any) -> None:
        cycles = list((p.details or {}).get("cycles") or [])
        shown = bool(cycles)
        self.sections["cycles"].setVisible(shown)
        self.cycles_table.setVisible(shown)
        if not shown:
            return
        summary = (p.details or {}).get("summary", "")
        self.sections["cycles"].setText(f"BREATHING CYCLES — {summary}" if summary else "BREATHING CYCLES")
        self.cycles_table.setRowCount(len(cycles))
        for row, cycle in enumerate(cycles):
            values = (f"{cycle['start_s']:.2f}–{cycle['end_s']:.2f}", str(cycle.get("label", "")),
                      percent_text(float(cycle.get("probability", 0))), str(cycle.get("evidence", "")))  # fmt: skip
            for col, text in enumerate(values):
                item = QTableWidgetItem(text)
                item.setToolTip(text)
                self.cycles_table.setItem(row, col, item)
        self._fit_cycles_table()
        if self.spectrogram is not None and self.spectrogram.isVisibleTo(self):
            rows = len((p.saliency_axes or {}).get("frequencies_hz") or []) or p.saliency.shape[0]
            self.spectrogram.set_cycles(cycles, rows)

    def _fit_cycles_table(self) -> None:
        """Rows as tall as their wrapped evidence; the table as tall as its rows (up to 360 px)."""
        table = self.cycles_table
        table.resizeRowsToContents()
        height = table.horizontalHeader().height() + sum(table.rowHeight(r) for r in range(table.rowCount()))
        table.setFixedHeight(min(height + 4, 360))

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt API)
        super().resizeEvent(event)
        if self.cycles_table.isVisible():
            self._fit_cycles_table()
