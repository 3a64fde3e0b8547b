"""After each take: the automatic quality check in words and figures, with Keep and Retake.

A finished take is saved to its patient session at once (:func:`save_finished_take`, through
``workflows.recording_session.save_take``, in a worker), so nothing is lost if the program stops
while the clinician decides. *Keep* leaves it there; *Retake* removes it (database row and file,
:func:`remove_take`) and records the same take again.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from stethoscan.audio.capture_stream import RecordingResult
from stethoscan.audio.signal_quality import QualityCriteria, QualityReport
from stethoscan.records.patient_store import PatientStore
from stethoscan.workflows.recording_session import SavedTake, criteria_for, save_take

_GOOD = "#59c27a"
_WARN = "#e8b13d"
_TEXT = "#d5dae0"
_DIM = "#8d96a0"


def save_finished_take(store: PatientStore, session_id: int, result: RecordingResult,
                       task: Any = None) -> SavedTake:
    """Worker function: check the take's quality and add it to the session (task protocol)."""
    if task is not None:
        task.progress(0.1, "Checking the take")
    return save_take(store, session_id, result)


def remove_take(store: PatientStore, saved: SavedTake) -> None:
    """Delete a take the clinician rejected (Retake): its database row and its audio file."""
    store.delete_recording(saved.recording_id)
    saved.path.unlink(missing_ok=True)


def quality_figures(report: QualityReport, criteria: QualityCriteria) -> list[tuple[str, str, bool]]:
    """``(name, value with unit, within the task's limits)`` for each figure of the check."""
    clipping_ok = report.clipped_fraction <= criteria.max_clipped_fraction
    active_ok = report.active_s >= criteria.min_active_s and (
        criteria.max_active_s is None or report.active_s <= criteria.max_active_s)
    rows = [
        ("Length", f"{report.duration_s:.1f} s", report.duration_s >= criteria.min_take_s - 0.05),
        ("Sound", f"{report.active_s:.1f} s  (task: {criteria.duration_text()})", active_ok),
        ("Signal-to-noise", f"{report.snr_db:.0f} dB  (needs {criteria.min_snr_db:g} dB)",
         report.snr_db >= criteria.min_snr_db),
        ("Level", f"{report.signal_dbfs:.0f} dBFS, peak {report.peak_dbfs:.1f} dBFS",
         report.signal_dbfs >= criteria.min_signal_dbfs),
        ("Clipping", f"{100 * report.clipped_fraction:.2f} %  ({report.clipped_samples} samples)",
         clipping_ok),
        ("Silence", f"{100 * report.silent_fraction:.0f} %  (longest {report.longest_silence_s:.1f} s)",
         True),
    ]
    if criteria.expected_events is not None:
        rows.append(("Sounds counted", f"{report.events}  (task: {criteria.expected_events})",
                     report.events >= criteria.expected_events))
    return rows


def sentence(problem: str) -> str:
    """A worded problem as a sentence: "Too quiet: move the microphone closer."."""
    text = problem.strip()
    return (text[:1].upper() + text[1:]).rstrip(".") + "."


class TakeQualityPanel(QFrame):
    """The verdict, the problems in words, the figures, and Keep / Retake.

    Signals
    -------
    keep_clicked, retake_clicked
    """

    keep_clicked = Signal()
    retake_clicked = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("takeQuality")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.setStyleSheet("#takeQuality { background: #171b20; border: 1px solid #2a3038;"
                           " border-radius: 6px; }")
        self.saved: SavedTake | None = None
        self.headline = QLabel("")
        self.headline.setObjectName("takeVerdict")
        self.problems = QLabel("")
        self.problems.setObjectName("takeProblems")
        self.problems.setWordWrap(True)
        self.problems.setTextFormat(Qt.TextFormat.RichText)
        self.figures = QGridLayout()
        self.figures.setHorizontalSpacing(12)
        self.figures.setVerticalSpacing(3)
        self.keep_button = QPushButton("Keep")
        self.keep_button.setObjectName("keepTake")
        self.keep_button.setShortcut("Ctrl+K")
        self.keep_button.setToolTip("Keep this take in the session (Ctrl+K)")
        self.retake_button = QPushButton("Retake")
        self.retake_button.setObjectName("retakeTake")
        self.retake_button.setShortcut("Ctrl+Shift+R")
        self.retake_button.setToolTip("Delete this take and record it again now (Ctrl+Shift+R)")
        self.keep_button.clicked.connect(self.keep_clicked)
        self.retake_button.clicked.connect(self.retake_clicked)
        self._build_layout()
        self.hide()

    def _build_layout(self) -> None:
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 10, 12, 10)
        layout.setSpacing(6)
        layout.addWidget(self.headline)
        layout.addWidget(self.problems)
        layout.addLayout(self.figures)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.retake_button)
        buttons.addWidget(self.keep_button)
        layout.addLayout(buttons)

    def show_take(self, saved: SavedTake, task_key: str, take_text: str) -> None:
        """Show the check of ``saved`` (a take of ``task_key``; ``take_text`` e.g. "Take 2 of 3")."""
        self.saved = saved
        report = saved.report
        verdict, colour = ("Good take", _GOOD) if report.passed else ("Retake suggested", _WARN)
        self.headline.setText(f"<span style='color:{colour}; font-size:13pt; font-weight:600'>"
                              f"{'✓' if report.passed else '⚠'} {verdict}</span>"
                              f"<span style='color:{_DIM}'>  ·  {take_text} saved</span>")
        lines = [sentence(p) for p in report.problems]
        if saved.status == "interrupted":
            lines.insert(0, "The microphone stopped during this take; the part before was kept.")
        self.problems.setText("<br>".join(f"<span style='color:{_WARN}; font-size:11pt'>{line}</span>"
                                          for line in lines))
        self.problems.setVisible(bool(lines))
        self._fill_figures(quality_figures(report, criteria_for(task_key)))
        self.keep_button.setDefault(report.passed)
        self.retake_button.setDefault(not report.passed)
        self.show()

    def _fill_figures(self, rows: list[tuple[str, str, bool]]) -> None:
        while self.figures.count():
            item = self.figures.takeAt(0)
            if item.widget() is not None:
                item.widget().deleteLater()
        for row, (name, value, ok) in enumerate(rows):
            label = QLabel(name)
            label.setStyleSheet(f"color: {_DIM};")
            shown = QLabel(value)
            shown.setObjectName(f"figure_{name.lower().replace(' ', '_').replace('-', '_')}")
            shown.setStyleSheet(f"color: {_TEXT if ok else _WARN};")
            self.figures.addWidget(label, row, 0, Qt.AlignmentFlag.AlignRight)
            self.figures.addWidget(shown, row, 1)
        self.figures.setColumnStretch(1, 1)

    def clear(self) -> None:
        self.saved = None
        self.hide()
