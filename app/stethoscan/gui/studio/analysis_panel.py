"""The analysis panel: run the signal pipeline on the open take and show every step's result.

The pipeline (``audio.analysis.pipeline.analyze_recording``) runs in the io worker pool with
progress and cancel; for breath takes the respiratory model (``workflows.respiratory_prediction``,
when installed) then runs in the inference pool. The panel shows the breathing rate, I/E ratio
or cough count, the voice report table, per-segment features, the preprocessing steps with
before/after listening, and the model's per-cycle results. :attr:`AnalysisPanel.result_ready`
hands the result to the review view, which draws the segments and the pitch contour.
"""

from __future__ import annotations

import importlib
import logging
from pathlib import Path
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from stethoscan.core.errors import StethoscanError
from stethoscan.gui.studio.feature_plots import FeatureView
from stethoscan.gui.studio.model_results_view import ModelResultsView
from stethoscan.gui.studio.voice_report_table import VoiceReportTable

_log = logging.getLogger(__name__)
TASK_KINDS = {"breath": "Breath sounds", "voice": "Voice", "cough": "Cough"}
VOICE_KINDS = {None: "Guess vowel or speech", "sustained": "Sustained vowel", "speech": "Connected speech"}
_MODEL_MODULE = "stethoscan.workflows.respiratory_prediction"
_SPEECH_TASKS = {"reading", "counting"}


def run_analysis(clip, task_kind: str, voice_kind: str | None, task=None):
    """The worker function: the whole signal pipeline on ``clip``."""
    from stethoscan.audio.analysis.pipeline import analyze_recording

    return analyze_recording(clip, task_kind, task, voice_kind=voice_kind)


def run_respiratory_model(clip, segments: list, task=None) -> dict | None:
    """``{"rows": per-cycle results, "summary": sentence, "applicability": the check against the
    model's training sounds (dict) or None}``, or None when the respiratory
    workflow is not part of this build (a missing model package raises ModelPackageError)."""
    try:
        module = importlib.import_module(_MODEL_MODULE)
    except ModuleNotFoundError as exc:
        if exc.name and _MODEL_MODULE.startswith(exc.name):
            return None
        raise
    rows = list(module.predict_cycles(clip, segments, task) or [])
    summarise = getattr(module, "summarise_cycles", None)
    summary = summarise(rows) if summarise is not None and rows else ""
    check = getattr(module, "recording_applicability", None)
    applicability = check(clip, rows).to_dict() if check is not None and rows else None
    return {"rows": rows, "summary": summary[:1].upper() + summary[1:] + "." if summary else "",
            "applicability": applicability}


def _applicability_warning(result) -> str:
    check = getattr(result, "model_applicability", None) if result is not None else None
    return str(check.get("warning") or "") if isinstance(check, dict) else ""


def default_kinds(recording_task: str | None) -> tuple[str, str | None]:
    """Task kind and voice kind for a recording made with protocol ``recording_task``."""
    from stethoscan.audio.recording_tasks import RECORDING_TASKS

    for protocol in RECORDING_TASKS:
        if protocol.key == recording_task:
            voice = "sustained" if protocol.key == "vowel_a" else "speech" if protocol.key in _SPEECH_TASKS else None
            return protocol.kind, voice if protocol.kind == "voice" else None
    return "breath", None


class AnalysisPanel(QWidget):
    result_ready = Signal(object)  # AnalysisResult
    model_results_ready = Signal(object)  # list of per-cycle rows

    def __init__(self, context: Any, playback: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.context, self.playback = context, playback
        self.clip = None
        self.result = None
        self.job = None
        self.model_job = None
        self._build_controls()
        self.summary = QLabel("")
        self.summary.setWordWrap(True)
        self.notes = QLabel("")
        self.notes.setWordWrap(True)
        self.notes.setObjectName("browserSummary")
        self.marker_figures = QLabel("")  # the figures of the clinician's saved markers
        self.marker_figures.setObjectName("markerFigures")
        self.marker_figures.setWordWrap(True)
        self.marker_figures.hide()
        self.voice_table = VoiceReportTable()
        self.features = FeatureView()
        self.features.export_requested.connect(self.choose_features_csv)
        self.preprocessing = QWidget()
        self.preprocessing_layout = QGridLayout(self.preprocessing)
        self.model_view = ModelResultsView()
        self.tabs = QTabWidget()
        self.tabs.addTab(self.voice_table, "Voice report")
        self.tabs.addTab(self.features, "Features")
        self.tabs.addTab(_scrolling(self.preprocessing), "Preprocessing")
        self.tabs.addTab(self.model_view, "Model")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addLayout(self.controls)
        layout.addWidget(self.progress)
        layout.addWidget(self.error)
        layout.addWidget(self.summary)
        layout.addWidget(self.marker_figures)
        layout.addWidget(self.notes)
        layout.addWidget(self.tabs, 1)
        self.set_clip(None)

    def _build_controls(self) -> None:
        self.kind_combo = QComboBox()
        for key, text in TASK_KINDS.items():
            self.kind_combo.addItem(text, key)
        self.voice_combo = QComboBox()
        for key, text in VOICE_KINDS.items():
            self.voice_combo.addItem(text, key)
        self.kind_combo.currentIndexChanged.connect(
            lambda: self.voice_combo.setVisible(self.task_kind() == "voice"))
        self.run_button = QPushButton("Run analysis")
        self.run_button.setDefault(True)
        self.run_button.clicked.connect(self.run)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.cancel)
        self.cancel_button.setEnabled(False)
        self.controls = QHBoxLayout()
        self.controls.addWidget(self.kind_combo)
        self.controls.addWidget(self.voice_combo)
        self.controls.addStretch(1)
        self.controls.addWidget(self.run_button)
        self.controls.addWidget(self.cancel_button)
        self.progress = QProgressBar()
        self.progress.setRange(0, 100)
        self.progress.setTextVisible(True)
        self.progress.setMaximumHeight(16)
        self.progress.hide()
        self.error = QLabel("")
        self.error.setObjectName("errorMessage")
        self.error.setWordWrap(True)
        self.error.hide()

    # -- state -------------------------------------------------------------------------------
    def task_kind(self) -> str:
        return str(self.kind_combo.currentData())

    def voice_kind(self) -> str | None:
        return self.voice_combo.currentData() if self.task_kind() == "voice" else None

    def set_clip(self, clip, recording_task: str | None = None) -> None:
        """A new take: forget the old result and preselect the kinds that fit its protocol."""
        self.cancel()
        self.clip, self.result = clip, None
        kind, voice = default_kinds(recording_task)
        self.kind_combo.setCurrentIndex(max(self.kind_combo.findData(kind), 0))
        self.voice_combo.setCurrentIndex(max(self.voice_combo.findData(voice), 0))
        self.voice_combo.setVisible(kind == "voice")
        self.run_button.setEnabled(clip is not None)
        self._show_result(None)

    def set_saved_markers(self, rows: list[tuple[float, float, str, str]]) -> None:
        """Show the figures that follow from the take's saved markers (hidden without any)."""
        from stethoscan.audio.analysis.marker_figures import figures_from_markers

        text = marker_figures_text(figures_from_markers(rows))
        self.marker_figures.setText(text)
        self.marker_figures.setVisible(bool(text))

    def run(self) -> None:
        if self.clip is None or self.is_running:
            return
        self._set_error("")
        kind = self.task_kind()
        self.job = self.context.workers.submit(f"Analysing the {TASK_KINDS[kind].lower()} recording",
                                               run_analysis, self.clip, kind, self.voice_kind())
        self.job.progress.connect(self._on_progress)
        self.job.finished.connect(self._on_finished)
        self.job.failed.connect(self._on_failed)
        self.job.ended.connect(self._on_ended)
        self.run_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.progress.setValue(0)
        self.progress.show()

    @property
    def is_running(self) -> bool:
        return any(j is not None and j.is_running for j in (self.job, self.model_job))

    def cancel(self) -> None:
        for job in (self.job, self.model_job):
            if job is not None and job.is_running:
                job.cancel()

    # -- job signals -------------------------------------------------------------------------
    def _on_progress(self, fraction: float, message: str) -> None:
        self.progress.setValue(int(round(fraction * 100)))
        self.progress.setFormat(f"{message} %p%")

    def _on_ended(self) -> None:
        if not self.is_running:
            self.progress.hide()
            self.cancel_button.setEnabled(False)
            self.run_button.setEnabled(self.clip is not None)

    def _on_finished(self, result) -> None:
        self._show_result(result)
        self.result_ready.emit(result)
        if result.task_kind == "breath":
            self._run_model(result)

    def _run_model(self, result) -> None:
        self.model_view.set_results([], "Running the respiratory sound model…")
        job = self.context.workers.submit("Classifying breathing cycles", run_respiratory_model,
                                          self.clip, list(result.segments), pool="inference")
        self.model_job = job
        job.finished.connect(self._on_model_results)
        job.failed.connect(self._on_model_failed)
        job.ended.connect(self._on_ended)
        self.cancel_button.setEnabled(True)

    def _on_failed(self, exc: BaseException) -> None:
        self._set_error(_message(exc))

    def _on_model_failed(self, exc: BaseException) -> None:
        self.model_view.set_results([], _message(exc))

    def _on_model_results(self, outcome: dict | None) -> None:
        result = self.result  # a new take cancels the model job, so this is its result
        if result is None:
            return
        if outcome is None:
            self.model_view.set_results([], "The respiratory sound model is not part of this build, "
                                            "so the cycles are not classified.")
            return
        result.model_results = outcome["rows"]
        result.model_applicability = outcome.get("applicability")
        self.model_view.set_results(outcome["rows"], "The model found no breathing cycles to classify.",
                                    outcome["summary"], _applicability_warning(result))
        self.model_results_ready.emit(outcome["rows"])

    def _set_error(self, text: str) -> None:
        self.error.setText(text)
        self.error.setVisible(bool(text))

    # -- showing a result ----------------------------------------------------------------------
    def _show_result(self, result) -> None:
        self.result = result
        self.summary.setText(summary_html(result) if result is not None else
                             "Choose the kind of recording and press <b>Run analysis</b>.")
        self.notes.setText(" ".join(result.notes) if result is not None else "")
        self.notes.setVisible(bool(self.notes.text()))
        self.voice_table.set_report(result.voice_report if result is not None else None)
        no_voice = result is not None and not result.voice_report  # not an empty table, a greyed tab
        self.tabs.setTabEnabled(0, not no_voice)
        self.tabs.setTabToolTip(0, "The voice report applies to voice recordings: choose Voice and "
                                   "run the analysis again." if no_voice else "")
        self.features.set_features(result.segment_features if result is not None else [],
                                   self._feature_source(result))
        self._show_preprocessing(result)
        model_status = "Runs on breath recordings after the analysis." if result is None or \
            result.task_kind == "breath" else "The respiratory model applies to breath recordings only."
        self.model_view.set_results(result.model_results if result is not None else [], model_status,
                                    warning=_applicability_warning(result))
        if result is not None:
            self.tabs.setCurrentIndex(0 if result.voice_report else 1)

    def _feature_source(self, result):
        """The samples the features were computed from (as the pipeline does)."""
        if result is None:
            return None
        if result.task_kind == "voice" or result.preprocessed is None:
            return self.clip.mono(), float(self.clip.rate_hz)
        return result.preprocessed.samples, float(result.preprocessed.rate_hz)

    def _show_preprocessing(self, result) -> None:
        grid = self.preprocessing_layout
        while grid.count():
            item = grid.takeAt(0)
            if item.widget() is not None:
                item.widget().deleteLater()
        self.listen_buttons: list[tuple[QPushButton, QPushButton]] = []
        if result is None or result.preprocessed is None:
            grid.addWidget(QLabel("The preprocessing steps appear here after the analysis."), 0, 0)
            return
        for row, step in enumerate(result.preprocessed.steps):
            params = ", ".join(f"{k} {v}" for k, v in step.params.items())
            text = QLabel(f"<b>{row + 1}. {step.name.replace('_', ' ')}</b><br>"
                          f"<span style='color:#8d96a0'>{params}; {step.rate_before_hz} → "
                          f"{step.rate_after_hz} Hz</span>")
            before, after = QPushButton("▶ Before"), QPushButton("▶ After")
            before.clicked.connect(lambda _=False, s=step: self.listen(s.before, s.rate_before_hz))
            after.clicked.connect(lambda _=False, s=step: self.listen(s.after, s.rate_after_hz))
            grid.addWidget(text, row, 0)
            grid.addWidget(before, row, 1)
            grid.addWidget(after, row, 2)
            self.listen_buttons.append((before, after))
        stop = QPushButton("■ Stop")
        stop.clicked.connect(self.playback.stop)
        grid.addWidget(stop, len(result.preprocessed.steps), 2)
        grid.setRowStretch(len(result.preprocessed.steps) + 1, 1)
        grid.setColumnStretch(0, 1)

    def listen(self, samples, rate_hz: int) -> bool:
        """Play one preprocessing stage (the whole take, before or after the step)."""
        return self.playback.play(samples, int(rate_hz))

    # -- export ------------------------------------------------------------------------------
    def choose_features_csv(self) -> None:
        if self.result is None or not self.result.features:
            return
        start = self.context.settings.last_open_dir or str(Path.home())
        path, _ = QFileDialog.getSaveFileName(self, "Export features", str(Path(start) / "features.csv"),
                                              "CSV files (*.csv)")
        if path:
            self.export_features_csv(path)

    def export_features_csv(self, path: str | Path) -> Path | None:
        from stethoscan.audio.analysis.features import write_features_csv

        try:
            written = write_features_csv(self.result.features, path)
        except OSError as exc:
            self._set_error(f"The features could not be written to {Path(path).name} ({exc}). "
                            "Choose a folder you can write to.")
            return None
        self.context.status_message.emit(f"Features of {len(self.result.features)} segments saved to {written.name}")
        return written


def summary_html(result) -> str:
    """The headline figures of a result, as rich text."""

    def figure(value: str, caption: str) -> str:
        return (f"<td style='padding-right:18px'><span style='font-size:15pt; color:#e6e9ed'>"
                f"{value}</span><br><span style='color:#8d96a0'>{caption}</span></td>")

    cells = []
    if result.task_kind == "breath":
        rate = "n/a" if result.breathing_rate_bpm is None else f"{result.breathing_rate_bpm:.1f}"
        ratio = "n/a" if result.ie_ratio is None else f"{result.ie_ratio:.2f}"
        cycles = sum(1 for s in result.segments if s[2] == "cycle")
        span = result.breathing_rate_range_bpm
        caption = "breaths/min"
        if span is not None and span[1] - span[0] > 3.0:  # breath_rate_stability.UNSTABLE_BPM
            caption = f"breaths/min · <span style='color:#f0b35a'>uncertain ({span[0]:.0f}-{span[1]:.0f})</span>"
        cells = [figure(rate, caption), figure(ratio, "I/E ratio"), figure(str(cycles), "cycles")]
    elif result.task_kind == "cough":
        cells = [figure(str(result.cough_count or 0), "coughs")]
    else:
        kind = (result.voice_report or {}).get("kind", "")
        voiced = sum(1 for s in result.segments if s[2] == "voiced")
        cells = [figure(str(voiced), "voiced segments"),
                 figure("vowel" if kind == "sustained" else "speech", "norms applied")]
    cells.append(figure(f"{result.duration_s:.1f} s", f"at {result.rate_hz} Hz"))
    return "<table><tr>" + "".join(cells) + "</tr></table>"


def marker_figures_text(figures) -> str:
    """One line for ``audio.analysis.marker_figures.MarkerFigures``; empty when nothing is marked."""
    if figures.empty:
        return ""
    parts = []
    if figures.rate_bpm is not None:
        parts.append(f"{figures.rate_bpm:.1f} breaths/min over {figures.cycles} "
                     f"cycle{'s' if figures.cycles != 1 else ''}")
    elif figures.inspirations:
        parts.append("mark two inspirations 1-10 s apart for a rate")
    if figures.ie_ratio is not None:
        parts.append(f"I/E ratio {figures.ie_ratio:.2f}")
    if figures.coughs:
        parts.append(f"{figures.coughs} cough{'s' if figures.coughs != 1 else ''}")
    return "From the saved markers: " + " · ".join(parts) if parts else ""


def _message(exc: BaseException) -> str:
    if isinstance(exc, StethoscanError):
        return str(exc)
    return f"The analysis failed ({type(exc).__name__}: {exc}). Details are in the log."


def _scrolling(widget: QWidget) -> QScrollArea:
    area = QScrollArea()
    area.setWidgetResizable(True)
    area.setWidget(widget)
    return area
