"""The list of results saved with the patient's sessions, in the Results dock.

A mixin of :class:`stethoscan.gui.models.results_panel.ResultsPanel`: its methods use the panel's
``context``, ``history``, ``history_rows``, ``shown`` and ``show_result``. Saved results are read
in the io worker pool.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QListWidgetItem

from stethoscan.gui.models.prediction_request import (
    SavedPrediction,
    patient_result_rows,
    prediction_from_row,
)


class ResultHistory:
    """Reload, mark and reopen the patient's saved results."""

    # -- history -------------------------------------------------------------------------------
    def _on_results_changed(self) -> None:
        latest = getattr(self.context, "latest_prediction", None)
        self.reload_history()
        if latest is not None and (self.shown is None or latest.result_id != self.shown.result_id):
            self.show_result(latest)

    def _on_patient_changed(self) -> None:
        self.shown = None
        self._show_sections(False)
        self.reload_history()
        if self.history_rows:
            self.open_saved(self.history_rows[0])

    def reload_history(self) -> None:
        patient = self.context.patient
        self.history_rows = patient_result_rows(self.context.store, patient.id) if patient else []
        self.history.clear()
        for row in self.history_rows:
            result = row["result"]
            when = str(row.get("created_at", "")).replace("T", " ")[:16]
            item = QListWidgetItem(f"{when} · {row['model_name']} {row['model_version']} · "
                                   f"{result.get('top_label', '?')} "
                                   f"{100 * float(result.get('top_probability', 0)):.0f} %")  # fmt: skip
            item.setToolTip((result.get("input") or {}).get("text", ""))
            item.setData(Qt.ItemDataRole.UserRole, int(row["id"]))
            self.history.addItem(item)
        self.sections["history"].setVisible(bool(self.history_rows))
        self.history.setVisible(bool(self.history_rows))
        if self.shown is not None:
            self._mark_history(self.shown.result_id)

    def _mark_history(self, result_id: int) -> None:
        for row in range(self.history.count()):
            item = self.history.item(row)
            if item.data(Qt.ItemDataRole.UserRole) == result_id:
                self.history.blockSignals(True)
                self.history.setCurrentRow(row)
                self.history.blockSignals(False)

    def _on_history_chosen(self, item: QListWidgetItem) -> None:
        result_id = item.data(Qt.ItemDataRole.UserRole)
        if self.shown is not None and self.shown.result_id == result_id:
            return
        row = next((r for r in self.history_rows if int(r["id"]) == result_id), None)
        if row is not None:
            self.open_saved(row)

    def open_saved(self, row: dict[str, Any]) -> Any:
        """Read a saved result and its map (io pool), then show it."""
        job = self.context.workers.submit("Opening a saved result", _read_saved, row)
        job.finished.connect(self.show_result)
        job.failed.connect(lambda exc: self._note(f"The saved result could not be opened: {exc}"))
        self.load_job = job
        return job


def _read_saved(row: dict[str, Any], task: Any = None) -> SavedPrediction:
    return prediction_from_row(row)
