"""The live recording studio (a dock): guided task, Record / Pause / Stop / Discard, live views.

The capture itself is :class:`stethoscan.audio.capture_stream.Recorder` (callback -> queues ->
writer thread); the studio only starts and stops it and drains its live queue and its events on a
~30 Hz :class:`QTimer`, so nothing here runs on the audio or writer threads. A finished take is
saved to the current patient session in a worker (see :mod:`.take_quality`), shown in the review
view (``context.select_recording``) and judged: Keep or Retake. A microphone that fails mid-take
ends the take; what was recorded is kept and a banner says so.

Parts: :mod:`.studio_banner` (problems), :mod:`.studio_header` (patient and microphone lines),
:mod:`.task_prompt` (task, prompt, target, take counter), :mod:`.take_controls` (buttons, clock,
overflows), :mod:`.live_views` (meter, waveform, spectrogram), :mod:`.take_quality` (verdict),
:mod:`.level_check` ("Check level": the live views without recording, stopped by Record).

Shortcuts: Ctrl+L check level, Ctrl+R record, Ctrl+P pause/resume, Ctrl+S stop and save,
Ctrl+Shift+X discard, Ctrl+K keep, Ctrl+Shift+R retake.
"""

from __future__ import annotations

import logging
import sqlite3
from typing import Any

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication, QMessageBox, QVBoxLayout, QWidget

from stethoscan.audio.capture_stream import CaptureEvent, Recorder, RecordingResult
from stethoscan.audio.recording_tasks import RecordingTask
from stethoscan.core.errors import AudioError, RecordsError, StethoscanError
from stethoscan.gui.studio.device_picker import DevicePicker, device_summary
from stethoscan.gui.studio.level_check import LevelCheck
from stethoscan.gui.studio.live_views import LiveViews, prepare_spectrogram
from stethoscan.gui.studio.studio_banner import StudioBanner
from stethoscan.gui.studio.studio_header import StudioHeader, patient_line_html
from stethoscan.gui.studio.take_controls import TakeControls
from stethoscan.gui.studio.take_quality import (
    TakeQualityPanel,
    remove_take,
    save_finished_take,
)
from stethoscan.gui.studio.task_prompt import TaskPrompt, take_text, task_or_free
from stethoscan.workflows.recording_session import (
    SavedTake,
    next_take_number,
    save_take,
    start_take,
)

_log = logging.getLogger(__name__)
REFRESH_MS = 33  # the live queue, the events and the meter: ~30 Hz
CONFIRM_DISCARD_AFTER_S = 10.0  # discarding a longer take asks first


def device_failure_text(label: str, elapsed_s: float) -> str:
    return (f"The microphone stopped ({label}: unplugged or not sending sound). "
            f"The recording so far ({elapsed_s:.1f} s) was saved.")


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
        self._device_label = ""
        self._failure_shown = False
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
        self.header = StudioHeader()
        self.patient_label, self.device_label = self.header.patient_label, self.header.device_label
        self.device_button = self.header.device_button
        layout.addWidget(self.header)
        self.picker = DevicePicker(self.context.settings.audio)
        self.picker.changed.connect(self._on_device_choice_changed)
        self.picker.hide()
        self.device_button.toggled.connect(lambda on: self.picker.setVisible(on))
        layout.addWidget(self.picker)
        self.task_prompt = TaskPrompt()
        self.task_prompt.task_changed.connect(self._refresh_take_counter)
        layout.addWidget(self.task_prompt)
        self._build_take_controls(layout)
        layout.addWidget(self._build_live_views(), 1)
        self.level_check = LevelCheck(self.controls, self.live_views, self.picker, self.banner, self)
        self.check_level_button = self.level_check.button
        self.picker.rescan_button.pressed.connect(self.level_check.stop)  # before the rescan
        self.quality_panel = TakeQualityPanel()
        self.quality_panel.keep_clicked.connect(self.keep)
        self.quality_panel.retake_clicked.connect(self.retake)
        layout.addWidget(self.quality_panel)

    def _build_take_controls(self, layout: QVBoxLayout) -> None:
        self.controls = TakeControls()
        controls = self.controls
        # The names the tests and shortcuts know the widgets by.
        self.task_combo, self.take_label = self.task_prompt.combo, self.task_prompt.take_label
        self.prompt_label, self.target_label = (self.task_prompt.prompt_label,
                                                self.task_prompt.target_label)
        self.record_button, self.pause_button = controls.record_button, controls.pause_button
        self.stop_button, self.discard_button = controls.stop_button, controls.discard_button
        self.elapsed_label, self.progress = controls.elapsed_label, controls.progress
        self.record_button.clicked.connect(self.record)
        self.pause_button.clicked.connect(self.toggle_pause)
        self.stop_button.clicked.connect(self.stop)
        self.discard_button.clicked.connect(self.discard)
        layout.addWidget(controls)

    def _build_live_views(self) -> LiveViews:
        self.live_views = LiveViews(self.context.settings.audio.spectrogram_dynamic_range_db)
        views = self.live_views
        self.meter, self.waveform, self.spectrogram = views.meter, views.waveform, views.spectrogram
        return views

    def _warm_up(self) -> None:
        job = self.context.workers.submit("Preparing the recording studio", prepare_spectrogram,
                                          self.context.settings.audio.sample_rate_hz)
        job.finished.connect(
            lambda spectrogram: self.live_views.keep_spare(spectrogram, self.phase == "idle"))
        self._warm_job = job

    # -- lines of text ------------------------------------------------------------------------
    def task(self) -> RecordingTask | None:
        return self.task_prompt.task()

    def task_key(self) -> str:
        return self.task_prompt.task_key()

    def take_text(self, take: int, task_key: str) -> str:
        """ "Take 2 of 3" for a guided task, "Take 4 (3 asked)" past the protocol, "Take 2" free."""
        return take_text(take, task_key)

    def _refresh_take_counter(self) -> None:
        if self._take is not None and self.phase != "idle":
            _session, key, take = self._take
        else:
            key, session = self.task_key(), self.context.session_id
            take = 1 if session is None else next_take_number(self.context.store, session, key)
        self.task_prompt.show_take(take, key)

    def _refresh_patient_line(self) -> None:
        take_session = None
        if self._take is not None and self.phase not in ("idle", "review") \
                and self._take[0] != self.context.session_id:
            take_session = self._take[0]
        self.patient_label.setText(patient_line_html(self.context.patient, self.context.session_id,
                                                     take_session))
        self._refresh_take_counter()

    def _refresh_device_line(self) -> None:
        try:
            choice = self.picker.resolve()
        except AudioError as exc:
            self.header.show_device_problem(str(exc))
            return
        self._device_label = choice.device.label
        self.header.show_device(device_summary(choice))

    def _on_device_choice_changed(self) -> None:
        if self.level_check.active:
            self.level_check.stop()
            self.context.status_message.emit("Level check stopped: the microphone changed.")
        self._refresh_device_line()
        self.context.save_settings()

    # -- phases -------------------------------------------------------------------------------
    def _set_phase(self, phase: str) -> None:
        self.phase = phase
        self.controls.show_phase(phase)
        self.level_check.show_phase(phase)
        self.task_combo.setEnabled(phase in ("idle", "review"))
        self.picker.set_recording(phase != "idle" and phase != "review")
        self._refresh_take_counter()

    def _show_overflows(self, count: int) -> None:
        self.overflows = count
        self.controls.show_overflows(count)

    # -- actions ------------------------------------------------------------------------------
    def record(self) -> None:
        """Start the next take of the chosen task (a take waiting for a verdict is kept)."""
        if self.phase not in ("idle", "review"):
            return
        self.level_check.stop()  # frees the microphone for the take
        if self.phase == "review":
            self.keep()
        self.banner.clear()
        try:
            config, choice = self.picker.capture_config()
            session_id = self.context.ensure_session()
            spectrogram = self.live_views.spectrogram_for(choice.rate_hz)
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
        self.live_views.start(choice.rate_hz, spectrogram)
        self._set_phase("starting")
        self._timer.start()

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
        self.task_prompt.choose(task_key)
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
        self.live_views.feed(recorder.read_live_blocks(), REFRESH_MS / 1000.0)
        status = recorder.status()
        self._show_elapsed(status.elapsed_s)
        if status.overflows != self.overflows:
            self._show_overflows(status.overflows)
        for event in recorder.poll_events():
            self._on_event(event)

    def _show_elapsed(self, elapsed_s: float) -> None:
        self.elapsed_s = elapsed_s
        task = task_or_free(self._take[1]) if self._take else None
        self.controls.show_elapsed(elapsed_s, task.record_s if task else None)

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
        self.live_views.settle()
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

    def hideEvent(self, event) -> None:  # noqa: N802 (Qt API)
        self.level_check.stop()  # nobody watches the meter: let the microphone go
        super().hideEvent(event)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
        if watched is self._watched_window and event.type() == QEvent.Type.Close:
            self.shutdown()
        return False

    def shutdown(self) -> None:
        """Stop a level check, stop a running take and save it to its session (the window closes
        or the app quits)."""
        self.level_check.stop()
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
