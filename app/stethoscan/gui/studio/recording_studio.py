"""The live recording studio (a dock): guided task, Record / Pause / Stop / Discard, live views.

The capture itself is :class:`stethoscan.audio.capture_stream.Recorder` (callback -> queues ->
writer thread); the studio only starts and stops it and drains its live queue and its events on a
~30 Hz :class:`QTimer`, so nothing here runs on the audio or writer threads. A finished take is
saved to the current patient session in a worker (see :mod:`.take_quality`), shown in the review
view (``context.select_recording``) and judged: Keep or Retake. A microphone that fails mid-take
ends the take; what was recorded is kept and a banner says so.

Shortcuts: Ctrl+R record, Ctrl+P pause/resume, Ctrl+S stop and save, Ctrl+Shift+X discard,
Ctrl+K keep, Ctrl+Shift+R retake.
"""

from __future__ import annotations

import logging
import sqlite3
from typing import Any

import numpy as np
from PySide6.QtCore import QEvent, QObject, Qt, QTimer
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from stethoscan.audio.capture_stream import CaptureEvent, Recorder, RecordingResult
from stethoscan.audio.live_spectrogram import LiveSpectrogram
from stethoscan.audio.recording_tasks import RECORDING_TASKS, RecordingTask, get_task
from stethoscan.core.errors import AudioError, RecordsError, StethoscanError
from stethoscan.gui.studio.device_picker import DevicePicker, device_summary
from stethoscan.gui.studio.live_meter import LevelMeterWidget
from stethoscan.gui.studio.live_spectrogram_view import LiveSpectrogramView, new_live_spectrogram
from stethoscan.gui.studio.live_waveform import LiveWaveformView
from stethoscan.gui.studio.take_quality import (
    TakeQualityPanel,
    remove_take,
    save_finished_take,
)
from stethoscan.workflows.recording_session import (
    FREE_TASK,
    SavedTake,
    next_take_number,
    save_take,
    start_take,
)

_log = logging.getLogger(__name__)
REFRESH_MS = 33  # the live queue, the events and the meter: ~30 Hz
PLOT_EVERY_TICKS = 2  # the waveform and spectrogram are redrawn at ~15 Hz (half the cost)
CONFIRM_DISCARD_AFTER_S = 10.0  # discarding a longer take asks first
FREE_PROMPT = "Free recording: press Record, and Stop when you have what you need."
_LIVE_PHASES = ("starting", "recording", "paused", "finishing")


class StudioBanner(QWidget):
    """A non-modal message above the studio (styled like the viewer's warnings banner)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("warningsBanner")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(10, 6, 6, 6)
        self.text = QLabel()
        self.text.setObjectName("studioBannerText")
        self.text.setWordWrap(True)
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        close = QToolButton()
        close.setText("✕")
        close.setAutoRaise(True)
        close.setToolTip("Hide this message")
        close.clicked.connect(self.clear)
        layout.addWidget(self.text, 1)
        layout.addWidget(close, 0, Qt.AlignmentFlag.AlignTop)
        self.kind = ""
        self.hide()

    def show_message(self, text: str, kind: str = "warning") -> None:
        """``kind``: "warning" (amber) or "error" (red)."""
        self.kind = kind
        self.setProperty("kind", kind)
        self.style().unpolish(self)
        self.style().polish(self)
        self.text.setText(text)
        self.show()

    def clear(self) -> None:
        self.kind = ""
        self.text.setText("")
        self.hide()


def prepare_spectrogram(rate_hz: int, task: Any = None) -> LiveSpectrogram:
    """Worker function: build a live spectrogram once so librosa is loaded before Record."""
    return new_live_spectrogram(rate_hz)


def device_failure_text(label: str, elapsed_s: float) -> str:
    return (f"The microphone stopped ({label}: unplugged or not sending sound). "
            f"The recording so far ({elapsed_s:.1f} s) was saved.")


def person_name_text(name: str) -> str:
    """A DICOM person name for people: "DOE^JANE" -> "DOE, JANE"; other names unchanged."""
    family, _, rest = name.partition("^")
    given = " ".join(part for part in rest.split("^") if part)
    return f"{family}, {given}" if given else family


def _button(text: str, name: str, shortcut: str, tip: str) -> QPushButton:
    button = QPushButton(text)
    button.setObjectName(name)
    button.setShortcut(shortcut)
    button.setToolTip(f"{tip} ({shortcut})")
    button.setMinimumHeight(34)
    button.setStyleSheet("QPushButton { padding: 5px 8px; }")
    return button


class RecordingStudio(QWidget):
    """The dock content; ``RecordingStudio(context, parent=None)`` as the dock registry asks."""

    def __init__(self, context: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("recordingStudio")
        self.context = context
        self.recorder: Recorder | None = None
        self.phase = "idle"  # idle | starting | recording | paused | finishing | saving | review
        self.pending: SavedTake | None = None  # saved take waiting for Keep / Retake
        self.last_result: RecordingResult | None = None
        self.save_job: Any = None
        self.elapsed_s = 0.0
        self.overflows = 0
        self.confirm_discard = self._ask_discard  # tests replace it
        self._take: tuple[int, str, int] | None = None  # session id, task key, take number
        self._spare_spectrogram: LiveSpectrogram | None = None
        self._device_label = ""
        self._failure_shown = False
        self._ticks = 0
        self._watched_window: QWidget | None = None
        self._timer = QTimer(self)
        self._timer.setInterval(REFRESH_MS)
        self._timer.timeout.connect(self._tick)
        self._build_ui()
        context.patient_changed.connect(lambda _p: self._refresh_patient_line())
        context.session_changed.connect(lambda _s: self._refresh_patient_line())
        context.recordings_changed.connect(self._refresh_take_counter)
        app = QApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.shutdown)
        self._refresh_patient_line()
        self._on_task_changed()
        self._refresh_device_line()
        self._set_phase("idle")
        self._warm_up()

    # -- construction -------------------------------------------------------------------------
    def _build_ui(self) -> None:
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 8, 10, 8)
        layout.setSpacing(8)
        self.banner = StudioBanner()
        layout.addWidget(self.banner)
        layout.addLayout(self._build_header())
        self.picker = DevicePicker(self.context.settings.audio)
        self.picker.changed.connect(self._on_device_choice_changed)
        self.picker.hide()
        layout.addWidget(self.picker)
        layout.addLayout(self._build_task_section())
        layout.addLayout(self._build_transport())
        layout.addLayout(self._build_status_row())
        layout.addLayout(self._build_live_views(), 1)
        self.quality_panel = TakeQualityPanel()
        self.quality_panel.keep_clicked.connect(self.keep)
        self.quality_panel.retake_clicked.connect(self.retake)
        layout.addWidget(self.quality_panel)

    def _build_header(self) -> QVBoxLayout:
        header = QVBoxLayout()
        header.setSpacing(2)
        self.patient_label = QLabel()
        self.patient_label.setObjectName("studioPatient")
        self.patient_label.setStyleSheet("font-size: 11pt;")
        self.patient_label.setWordWrap(True)
        device_row = QHBoxLayout()
        self.device_label = QLabel()
        self.device_label.setObjectName("studioDevice")
        self.device_label.setStyleSheet("color: #aab3bd;")
        self.device_label.setWordWrap(True)
        self.device_button = QToolButton()
        self.device_button.setText("Microphone…")
        self.device_button.setCheckable(True)
        self.device_button.setToolTip("Choose the microphone, sample rate and channels")
        self.device_button.toggled.connect(lambda on: self.picker.setVisible(on))
        device_row.addWidget(self.device_label, 1)
        device_row.addWidget(self.device_button)
        header.addWidget(self.patient_label)
        header.addLayout(device_row)
        return header

    def _build_task_section(self) -> QVBoxLayout:
        section = QVBoxLayout()
        section.setSpacing(6)
        row = QHBoxLayout()
        row.addWidget(QLabel("Task"))
        self.task_combo = QComboBox()
        self.task_combo.setObjectName("taskPicker")
        for task in RECORDING_TASKS:
            self.task_combo.addItem(task.title, task.key)
        self.task_combo.addItem("Free recording", FREE_TASK)
        self.task_combo.currentIndexChanged.connect(self._on_task_changed)
        row.addWidget(self.task_combo, 1)
        section.addLayout(row)
        self.prompt_label = QLabel()
        self.prompt_label.setObjectName("taskPrompt")
        self.prompt_label.setWordWrap(True)
        self.prompt_label.setStyleSheet("font-size: 15pt; color: #eef1f4; padding: 6px 2px;")
        section.addWidget(self.prompt_label)
        self.passage_label = QLabel()
        self.passage_label.setObjectName("taskPassage")
        self.passage_label.setWordWrap(True)
        self.passage_label.setStyleSheet("font-size: 13pt; color: #d5dae0; padding: 4px;")
        self.passage_area = QScrollArea()
        self.passage_area.setWidget(self.passage_label)
        self.passage_area.setWidgetResizable(True)
        self.passage_area.setMinimumHeight(120)
        self.passage_area.setStyleSheet("QScrollArea { background: #14171b; border: 1px solid #2a3038;"
                                        " border-radius: 4px; }")
        section.addWidget(self.passage_area)
        targets = QHBoxLayout()
        self.target_label = QLabel()
        self.target_label.setObjectName("taskTarget")
        self.target_label.setStyleSheet("color: #aab3bd;")
        self.target_label.setWordWrap(True)
        self.take_label = QLabel()
        self.take_label.setObjectName("takeCounter")
        self.take_label.setStyleSheet("font-size: 12pt; font-weight: 600; color: #e6e9ed;")
        targets.addWidget(self.target_label, 1)
        targets.addWidget(self.take_label, 0, Qt.AlignmentFlag.AlignRight)
        section.addLayout(targets)
        return section

    def _build_transport(self) -> QHBoxLayout:
        row = QHBoxLayout()
        self.record_button = _button("● Record", "recordButton", "Ctrl+R", "Record a take")
        self.record_button.setStyleSheet(
            "#recordButton { color: #ff8a75; font-weight: 600; font-size: 11pt; padding: 5px 8px; }"
            "#recordButton:disabled { color: #6b737d; }")
        self.pause_button = _button("Pause", "pauseButton", "Ctrl+P", "Pause or resume")
        self.stop_button = _button("■ Stop", "stopButton", "Ctrl+S", "Stop and save the take")
        self.discard_button = _button("Discard", "discardButton", "Ctrl+Shift+X",
                                      "Throw this take away")
        self.record_button.clicked.connect(self.record)
        self.pause_button.clicked.connect(self.toggle_pause)
        self.stop_button.clicked.connect(self.stop)
        self.discard_button.clicked.connect(self.discard)
        row.addWidget(self.record_button, 2)
        for button in (self.pause_button, self.stop_button, self.discard_button):
            row.addWidget(button, 1)
        return row

    def _build_status_row(self) -> QVBoxLayout:
        box = QVBoxLayout()
        box.setSpacing(3)
        row = QHBoxLayout()
        self.elapsed_label = QLabel("0.0 s")
        self.elapsed_label.setObjectName("elapsedTime")
        self.elapsed_label.setStyleSheet("font-size: 20pt; font-weight: 600; color: #eef1f4;"
                                         " font-family: monospace;")
        self.state_label = QLabel()
        self.state_label.setObjectName("recordingState")
        self.state_label.setStyleSheet("font-size: 11pt;")
        self.overflow_label = QLabel()
        self.overflow_label.setObjectName("overflowCounter")
        self.overflow_label.setToolTip("Input overflows: blocks of sound the computer could not "
                                       "take in time (should stay 0)")
        row.addWidget(self.elapsed_label)
        row.addSpacing(10)
        row.addWidget(self.state_label, 1)
        row.addWidget(self.overflow_label, 0, Qt.AlignmentFlag.AlignRight)
        self.progress = QProgressBar()
        self.progress.setObjectName("takeProgress")
        self.progress.setTextVisible(False)
        self.progress.setMaximumHeight(6)
        self.progress.setRange(0, 200)
        box.addLayout(row)
        box.addWidget(self.progress)
        return box

    def _build_live_views(self) -> QHBoxLayout:
        row = QHBoxLayout()
        row.setSpacing(6)
        self.meter = LevelMeterWidget()
        plots = QVBoxLayout()
        plots.setSpacing(2)
        self.waveform = LiveWaveformView()
        dynamic_range = self.context.settings.audio.spectrogram_dynamic_range_db
        self.spectrogram = LiveSpectrogramView(dynamic_range_db=dynamic_range)
        plots.addWidget(self.waveform, 2)
        plots.addWidget(self.spectrogram, 3)
        row.addWidget(self.meter)
        row.addLayout(plots, 1)
        return row

    def _warm_up(self) -> None:
        job = self.context.workers.submit("Preparing the recording studio", prepare_spectrogram,
                                          self.context.settings.audio.sample_rate_hz)
        job.finished.connect(self._keep_spare_spectrogram)
        self._warm_job = job

    def _keep_spare_spectrogram(self, spectrogram: LiveSpectrogram) -> None:
        self._spare_spectrogram = spectrogram
        if self.phase == "idle" and self.spectrogram.column_count == 0:
            self.spectrogram.start(spectrogram)  # empty, but with its Hz axis

    # -- lines of text ------------------------------------------------------------------------
    def task(self) -> RecordingTask | None:
        key = self.task_combo.currentData()
        return None if key == FREE_TASK else get_task(key)

    def task_key(self) -> str:
        return str(self.task_combo.currentData())

    def _on_task_changed(self) -> None:
        task = self.task()
        self.prompt_label.setText(task.prompt if task else FREE_PROMPT)
        self.passage_label.setText(task.passage if task else "")
        self.passage_area.setVisible(bool(task and task.passage))
        if task is None:
            self.target_label.setText("No target: stop when you are done.")
        else:
            self.target_label.setText(f"Target: {task.target_text} · stops by itself after "
                                      f"{task.record_s:g} s")
        self._refresh_take_counter()

    def take_text(self, take: int, task_key: str) -> str:
        """ "Take 2 of 3" for a guided task, "Take 4 (3 asked)" past the protocol, "Take 2" free."""
        if task_key == FREE_TASK:
            return f"Take {take}"
        takes = get_task(task_key).takes
        return f"Take {take} of {takes}" if take <= takes else f"Take {take} ({takes} asked)"

    def _refresh_take_counter(self) -> None:
        if self._take is not None and self.phase != "idle":
            _session, key, take = self._take
        else:
            key, session = self.task_key(), self.context.session_id
            take = 1 if session is None else next_take_number(self.context.store, session, key)
        self.take_label.setText(self.take_text(take, key))

    def _refresh_patient_line(self) -> None:
        patient = self.context.patient
        if patient is None:
            self.patient_label.setText("<b>No patient chosen</b> <span style='color:#8d96a0'>· "
                                       "takes go to an unspecified patient</span>")
        else:
            name = person_name_text(patient.display_name or patient.patient_key)
            session = self.context.session_id
            where = f"session {session}" if session else "new session with the first take"
            self.patient_label.setText(f"<b>{name}</b> <span style='color:#8d96a0'>· {where}</span>")
        if self._take is not None and self.phase not in ("idle", "review") \
                and self._take[0] != self.context.session_id:  # the patient changed mid-take
            self.patient_label.setText(self.patient_label.text() + " <span style='color:#e8b13d'>"
                                       f"· this take goes to session {self._take[0]}</span>")
        self._refresh_take_counter()

    def _refresh_device_line(self) -> None:
        try:
            choice = self.picker.resolve()
        except AudioError as exc:
            self.device_label.setText(f"<span style='color:#f0c75e'>{exc}</span>")
            return
        self._device_label = choice.device.label
        self.device_label.setText(f"Microphone: {device_summary(choice)}")

    def _on_device_choice_changed(self) -> None:
        self._refresh_device_line()
        self.context.save_settings()

    # -- phases -------------------------------------------------------------------------------
    def _set_phase(self, phase: str) -> None:
        self.phase = phase
        live = phase in ("recording", "paused", "starting")
        self.record_button.setEnabled(phase in ("idle", "review"))
        self.pause_button.setEnabled(phase in ("recording", "paused"))
        self.pause_button.setText("Resume" if phase == "paused" else "Pause")
        self.stop_button.setEnabled(live)
        self.discard_button.setEnabled(live or phase in ("finishing", "review"))
        self.task_combo.setEnabled(phase in ("idle", "review"))
        self.picker.set_recording(phase != "idle" and phase != "review")
        texts = {
            "idle": ("Ready", "#8d96a0"), "starting": ("Opening the microphone…", "#aab3bd"),
            "recording": ("● Recording", "#ff8a75"), "paused": ("❚❚ Paused", "#e8b13d"),
            "finishing": ("Saving the take…", "#aab3bd"),
            "saving": ("Checking the take…", "#aab3bd"), "review": ("Take saved", "#59c27a"),
        }
        text, colour = texts[phase]
        self.state_label.setText(f"<span style='color:{colour}'>{text}</span>")
        self._refresh_take_counter()

    def _show_overflows(self, count: int) -> None:
        self.overflows = count
        colour = "#e8b13d" if count else "#8d96a0"
        self.overflow_label.setText(f"<span style='color:{colour}'>Overflows: {count}</span>")

    # -- actions ------------------------------------------------------------------------------
    def record(self) -> None:
        """Start the next take of the chosen task (a take waiting for a verdict is kept)."""
        if self.phase not in ("idle", "review"):
            return
        if self.phase == "review":
            self.keep()
        self.banner.clear()
        try:
            config, choice = self.picker.capture_config()
            session_id = self.context.ensure_session()
            spectrogram = self._spectrogram_for(choice.rate_hz)
            recorder = start_take(self.context.store, session_id, self.task_key(), config)
        except StethoscanError as exc:
            self.banner.show_message(str(exc), "error")
            return
        if choice.fallback_reason:
            self.banner.show_message(choice.fallback_reason, "warning")
        self.recorder = recorder
        self._take = (session_id, self.task_key(), int(recorder.tags["take"]))
        self._device_label = recorder.device_label
        self._failure_shown = False
        self.last_result = None
        self.elapsed_s = 0.0
        self._show_overflows(0)
        self.meter.start(choice.rate_hz)
        self.waveform.start(choice.rate_hz)
        self.spectrogram.start(spectrogram)
        self._set_phase("starting")
        self._timer.start()

    def _spectrogram_for(self, rate_hz: int) -> LiveSpectrogram:
        spare, self._spare_spectrogram = self._spare_spectrogram, None
        if spare is not None and spare.rate_hz == rate_hz:
            return spare
        return new_live_spectrogram(rate_hz)

    def toggle_pause(self) -> None:
        if self.recorder is None:
            return
        if self.phase == "recording":
            self.recorder.pause()
            self._set_phase("paused")
        elif self.phase == "paused":
            self.recorder.resume()
            self._set_phase("recording")

    def stop(self) -> None:
        """Stop and save; the take becomes final in the writer thread ("finished" event)."""
        if self.recorder is not None and self.phase in ("starting", "recording", "paused"):
            self.recorder.stop(wait=False)
            self._set_phase("finishing")

    def discard(self) -> None:
        """Throw the current take away: nothing of it stays on disk or in the database."""
        if self.phase == "review":
            self._remove_pending()
            self._set_phase("idle")
            self.context.status_message.emit("The take was discarded.")
            return
        recorder = self.recorder
        if recorder is None:
            return
        if self.elapsed_s > CONFIRM_DISCARD_AFTER_S and not self.confirm_discard(self.elapsed_s):
            return
        self._timer.stop()
        self.recorder = None
        recorder.discard()
        recorder.poll_events()
        self.meter.decay(60.0)
        self._set_phase("idle")
        self.context.status_message.emit("The take was discarded.")

    def _ask_discard(self, elapsed_s: float) -> bool:
        answer = QMessageBox.question(
            self, "Discard the take",
            f"Throw away the {elapsed_s:.0f} s recorded in this take? It cannot be recovered.",
            QMessageBox.StandardButton.Discard | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Cancel)
        return answer == QMessageBox.StandardButton.Discard

    def keep(self) -> None:
        """The take waiting for a verdict stays in the session."""
        if self.pending is None:
            return
        session, key, take = self._take or (0, self.task_key(), 0)
        self.pending = None
        self.quality_panel.clear()
        self._set_phase("idle")
        self.context.status_message.emit(f"{self.take_text(take, key)} kept.")

    def retake(self) -> None:
        """Remove the take waiting for a verdict and record the same task again now."""
        if self.pending is None or self._take is None:
            return
        task_key = self._take[1]
        self._remove_pending()
        self._set_phase("idle")
        self.task_combo.setCurrentIndex(self.task_combo.findData(task_key))
        self.record()

    def _remove_pending(self) -> None:
        saved, self.pending = self.pending, None
        self.quality_panel.clear()
        if saved is None:
            return
        current = self.context.recording
        if current is not None and current.id == saved.recording_id:
            self.context.select_recording(None)
        remove_take(self.context.store, saved)
        self.context.recordings_changed.emit()

    # -- the live loop (GUI timer) ------------------------------------------------------------
    def _tick(self) -> None:
        recorder = self.recorder
        if recorder is None:
            self._timer.stop()
            return
        blocks = recorder.read_live_blocks()
        if blocks:
            data = np.concatenate(blocks) if len(blocks) > 1 else blocks[0]
            self.meter.push(data)
            self.waveform.push(data)
            self.spectrogram.push(data)
        else:
            self.meter.decay(REFRESH_MS / 1000.0)
        self._ticks += 1
        if self._ticks % PLOT_EVERY_TICKS == 0:
            self.waveform.refresh()
            self.spectrogram.refresh()
        status = recorder.status()
        self._show_elapsed(status.elapsed_s)
        if status.overflows != self.overflows:
            self._show_overflows(status.overflows)
        for event in recorder.poll_events():
            self._on_event(event)

    def _show_elapsed(self, elapsed_s: float) -> None:
        # Only touch the widgets when what they show changes: a repaint of styled labels on
        # every tick would cost more than all the live views together.
        self.elapsed_s = elapsed_s
        text = f"{elapsed_s:.1f} s"
        if self.elapsed_label.text() != text:
            self.elapsed_label.setText(text)
        task = get_task(self._take[1]) if self._take and self._take[1] != FREE_TASK else None
        value = int(min(elapsed_s / task.record_s, 1.0) * self.progress.maximum()) if task else 0
        if self.progress.value() != value:
            self.progress.setValue(value)

    def _on_event(self, event: CaptureEvent) -> None:
        if event.kind == "started" and self.phase == "starting":
            self._set_phase("recording")
        elif event.kind == "device_failed":
            self._failure_shown = True
            text = (device_failure_text(self._device_label, event.elapsed_s)
                    if event.elapsed_s > 0 else event.message)
            self.banner.show_message(text, "error")
        elif event.kind == "disk_failed":
            self._failure_shown = True
            self.banner.show_message(event.message, "error")
        elif event.kind == "finished":
            self._on_finished(event.result)

    def _on_finished(self, result: RecordingResult | None) -> None:
        self._timer.stop()
        self.recorder = None
        self.last_result = result
        self.meter.decay(60.0)
        self.waveform.refresh()
        self.spectrogram.refresh()
        if result is None or result.path is None:
            if not self._failure_shown and result is not None:
                self.banner.show_message(result.message, "warning")
            self._set_phase("idle")
            return
        self._show_elapsed(result.duration_s)
        if result.status == "interrupted" and self.banner.kind == "error" and result.frames:
            self.banner.show_message(device_failure_text(self._device_label, result.duration_s),
                                     "error")
        self._set_phase("saving")
        session_id = self._take[0] if self._take else self.context.ensure_session()
        job = self.context.workers.submit("Saving the take", save_finished_take,
                                          self.context.store, session_id, result)
        job.finished.connect(self._on_saved)
        job.failed.connect(self._on_save_failed)
        self.save_job = job

    def _on_saved(self, saved: SavedTake) -> None:
        self.save_job = None
        self.pending = saved
        self._set_phase("review")
        session, key, take = self._take or (0, self.task_key(), 1)
        self.quality_panel.show_take(saved, key, self.take_text(take, key))
        self.context.recordings_changed.emit()
        self.context.select_recording(self.context.store.get_recording(saved.recording_id))

    def _on_save_failed(self, error: BaseException) -> None:
        self.save_job = None
        self._set_phase("idle")
        where = self.last_result.path if self.last_result is not None else None
        self.banner.show_message(f"The take could not be added to the session: {error} "
                                 f"The audio file is kept at {where}.", "error")

    # -- closing ------------------------------------------------------------------------------
    def showEvent(self, event) -> None:  # noqa: N802 (Qt API)
        super().showEvent(event)
        window = self.window()
        if window is not self and window is not self._watched_window:
            window.installEventFilter(self)
            self._watched_window = window

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
        if watched is self._watched_window and event.type() == QEvent.Type.Close:
            self.shutdown()
        return False

    def shutdown(self) -> None:
        """Stop a running take and save it to its session (the window closes or the app quits)."""
        self._timer.stop()
        recorder, self.recorder = self.recorder, None
        if recorder is None:
            return
        result = recorder.stop(wait=True, timeout=30.0)
        recorder.poll_events()
        if result is None or result.path is None or self._take is None:
            return
        try:
            save_take(self.context.store, self._take[0], result)
        except (AudioError, RecordsError, sqlite3.Error):
            _log.exception("A take stopped at shut-down could not be added to its session")
        self._set_phase("idle")
