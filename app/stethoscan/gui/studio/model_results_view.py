"""The respiratory model's per-cycle results: label, probabilities, evidence, and its notice.

Rows come from ``workflows.respiratory_prediction.predict_cycles`` (dicts, or objects with the
same attributes). Read tolerantly: ``start_s``/``end_s``, ``label`` or ``top_label``,
``probabilities`` (a dict label -> p, or a list beside ``labels``), ``evidence`` (a sentence),
``disclaimer``, ``synthetic_training_data``, ``card_summary``. "Not for diagnostic use" is always
shown, and the synthetic-training notice whenever the model card says so.
"""

from __future__ import annotations

import math
from dataclasses import asdict, is_dataclass
from typing import Any

from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from stethoscan.gui.models.probability_bars import percent_text

COLUMNS = ("Cycle (s)", "Finding", "Probability", "Evidence")
DISCLAIMER = "Not for diagnostic use"
SYNTHETIC_NOTICE = ("The model was trained on synthetic breath sounds (adventitious sounds "
                    "synthesised from their acoustic definitions), not on patients.")


def as_row(result: Any) -> dict[str, Any]:
    if isinstance(result, dict):
        return result
    if is_dataclass(result) and not isinstance(result, type):
        return asdict(result)
    return dict(vars(result))


def probability_pairs(row: dict[str, Any]) -> list[tuple[str, float]]:
    """(label, probability) pairs, most probable first."""
    probs = row.get("probabilities")
    if isinstance(probs, dict):
        pairs = list(probs.items())
    elif isinstance(probs, list | tuple) and isinstance(row.get("labels"), list | tuple):
        pairs = list(zip(row["labels"], probs, strict=False))
    else:
        return []
    pairs = [(str(k), float(v)) for k, v in pairs if isinstance(v, int | float) and math.isfinite(v)]
    return sorted(pairs, key=lambda kv: -kv[1])




def probabilities_text(row: dict[str, Any]) -> str:
    return " · ".join(f"{k} {percent_text(v)}" for k, v in probability_pairs(row))


def notice_text(rows: list[dict[str, Any]], warning: str = "") -> str:
    """The notice over the table: the disclaimer, the synthetic-data sentence if it applies, and
    ``warning`` (the recording is unlike the model's training sounds) when given."""
    parts = [DISCLAIMER + "."]
    extra = {str(r.get("disclaimer")) for r in rows if r.get("disclaimer")} - {DISCLAIMER}
    parts += sorted(extra)
    if any(r.get("synthetic_training_data") for r in rows) or any(
        "synthetic" in str(r.get("card_summary", "")).lower() for r in rows
    ):
        parts.append(SYNTHETIC_NOTICE)
    if warning and rows:
        parts.append(warning)
    return " ".join(parts)


class ModelResultsView(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.notice = QLabel(DISCLAIMER + ".")
        self.notice.setObjectName("warningsBanner")
        self.notice.setWordWrap(True)
        self.notice.setContentsMargins(8, 6, 8, 6)
        self.summary = QLabel("")
        self.summary.setWordWrap(True)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.verticalHeader().hide()
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(True)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.itemSelectionChanged.connect(self._show_details)
        self.details = QLabel("")
        self.details.setWordWrap(True)
        self.details.setObjectName("browserSummary")
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 4, 0, 0)
        layout.addWidget(self.notice)
        layout.addWidget(self.summary)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.details)
        self._rows: list[dict[str, Any]] = []
        self.set_results([], "")

    def set_results(self, results: list[Any], status: str, summary: str = "", warning: str = "") -> None:
        """Show the per-cycle rows; ``status`` explains an empty table (model missing, not run);
        ``summary`` is the workflow's sentence for the recording (else one is made from the rows);
        ``warning``: the recording is unlike the model's training sounds (shown in the notice)."""
        rows = [as_row(r) for r in results]
        self._rows = rows
        windows = bool(rows) and rows[0].get("segmentation") == "fixed windows"
        self.table.setHorizontalHeaderLabels(("Window (s)",) + COLUMNS[1:] if windows else COLUMNS)
        self.details.setText("Select a cycle to see all its probabilities and the evidence." if rows else "")
        self.notice.setText(notice_text(rows, warning))
        self.summary.setText(status if not rows else summary or _summary(rows))
        self.table.setRowCount(len(rows))
        for i, row in enumerate(rows):
            start, end = row.get("start_s"), row.get("end_s")
            times = f"{start:.2f}–{end:.2f}" if isinstance(start, int | float) and isinstance(end, int | float) else ""
            label = row.get("label") or row.get("top_label") or ""
            evidence = row.get("evidence") or row.get("explanation") or ""
            pairs = probability_pairs(row)
            top = percent_text(pairs[0][1]) if pairs else ""
            for col, text in enumerate((times, str(label), top, str(evidence))):
                item = QTableWidgetItem(text)
                item.setToolTip(probabilities_text(row) if col == 2 else text)
                self.table.setItem(i, col, item)
        self.table.resizeRowsToContents()

    def _show_details(self) -> None:
        rows = {index.row() for index in self.table.selectionModel().selectedRows()}
        if len(rows) != 1 or min(rows) >= len(self._rows):
            return
        row = self._rows[min(rows)]
        evidence = row.get("evidence") or row.get("explanation") or ""
        self.details.setText(f"{probabilities_text(row)}. {evidence}".strip())


def _summary(rows: list[dict[str, Any]]) -> str:
    for row in rows:
        if row.get("summary"):
            return str(row["summary"])
    counts: dict[str, int] = {}
    for row in rows:
        label = str(row.get("label") or row.get("top_label") or "?")
        counts[label] = counts.get(label, 0) + 1
    parts = ", ".join(f"{label}: {n}" for label, n in sorted(counts.items()))
    return f"{len(rows)} cycles classified ({parts})."
