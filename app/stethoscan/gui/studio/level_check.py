"""The studio's "Check level" toggle: the live views follow the microphone, nothing is recorded.

Before a take the clinician places the stethoscope or microphone and sets the input gain while
the meter (dBFS, peak hold, clip latch), the waveform and the spectrogram move. The sound comes
from a :class:`stethoscan.audio.level_monitor.LevelMonitor` (no writer, no file), drained on
this object's own ~30 Hz timer exactly as the studio drains a take's recorder.

Record stops the check and then opens the device for the take (the take is a fresh
:class:`~stethoscan.audio.capture_stream.Recorder`: its crash-safe path stays the only one that
writes). Changing or rescanning the microphone, closing or hiding the studio stop it as well. A
microphone that cannot be opened, or fails during the check, is explained in the studio's banner.
"""

from __future__ import annotations

import time

from PySide6.QtCore import QObject, QTimer
from PySide6.QtWidgets import QHBoxLayout, QPushButton

from stethoscan.audio.level_monitor import LevelMonitor
from stethoscan.core.errors import StethoscanError
from stethoscan.gui.studio.device_picker import DevicePicker
from stethoscan.gui.studio.live_views import LiveViews
from stethoscan.gui.studio.studio_banner import StudioBanner
from stethoscan.gui.studio.take_controls import TakeControls

REFRESH_MS = 33  # the same ~30 Hz as a take's live views
CHECKING_TEXT = "Checking level - not recording"
CHECKING_COLOUR = "#6fc3df"
SHORTCUT = "Ctrl+L"
TOOLTIP = (f"Check level ({SHORTCUT}): listen to the microphone and watch the meter, waveform "
           "and spectrogram without recording anything.\nPlace the microphone and set the input "
           "gain so the peaks land beside the green bracket, then press Record.")
_STYLE = ("#checkLevelButton { padding: 5px 8px; }"
          "#checkLevelButton:checked { background: #1d4a5a; border-color: #3f98b8;"
          " color: #dff4fb; }")


def _row_with(controls: TakeControls, button: QPushButton) -> QHBoxLayout | None:
    """The layout row of ``controls`` that holds ``button`` (the transport buttons)."""
    box = controls.layout()
    for i in range(box.count()):
        row = box.itemAt(i).layout()
        if isinstance(row, QHBoxLayout) and row.indexOf(button) >= 0:
            return row
    return None


class LevelCheck(QObject):
    """The "Check level" button and the monitor behind it.

    ``active`` while the microphone is being listened to. Figures for the curious:
    ``open_s`` (opening the device, on the GUI thread) and ``first_update_s`` (from the press to
    the first meter update), both in s.
    """

    def __init__(self, controls: TakeControls, live_views: LiveViews, picker: DevicePicker,
                 banner: StudioBanner, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.controls, self.live_views, self.picker, self.banner = (controls, live_views, picker,
                                                                    banner)
        self.monitor: LevelMonitor | None = None
        self.open_s: float | None = None
        self.first_update_s: float | None = None
        self._pressed_at = 0.0
        self._phase = "idle"
        self._overflows = 0
        self.button = self._make_button()
        self._timer = QTimer(self)
        self._timer.setInterval(REFRESH_MS)
        self._timer.timeout.connect(self._tick)

    def _make_button(self) -> QPushButton:
        button = QPushButton("Check level")
        button.setObjectName("checkLevelButton")
        button.setCheckable(True)
        button.setShortcut(SHORTCUT)
        button.setToolTip(TOOLTIP)
        button.setMinimumHeight(34)
        button.setStyleSheet(_STYLE)
        button.toggled.connect(self._on_toggled)
        record = self.controls.record_button
        row = _row_with(self.controls, record)
        if row is not None:
            row.insertWidget(row.indexOf(record) + 1, button, 1)
        else:  # a different controls layout: at least show it
            self.controls.layout().addWidget(button)
        return button

    @property
    def active(self) -> bool:
        return self.monitor is not None

    # -- the studio's side ----------------------------------------------------------------------
    def show_phase(self, phase: str) -> None:
        """The studio's phase changed: checking is possible between takes only."""
        self._phase = phase
        available = phase in ("idle", "review")
        if not available:
            self.stop()
        self.button.setEnabled(available)
        if self.active:
            self._show_checking()

    def start(self) -> bool:
        """Listen to the chosen microphone; False (and a message in the banner) if it fails."""
        if self.active:
            return True
        self._pressed_at = time.monotonic()
        self.first_update_s = None
        self.banner.clear()
        try:
            config, choice = self.picker.capture_config()
            spectrogram = self.live_views.spectrogram_for(choice.rate_hz)
            monitor = LevelMonitor(config)
            monitor.start()
        except StethoscanError as exc:
            self._set_checked(False)
            self.banner.show_message(str(exc), "error")
            return False
        self.open_s = time.monotonic() - self._pressed_at
        if choice.fallback_reason:
            self.banner.show_message(choice.fallback_reason, "warning")
        self.monitor = monitor
        self.live_views.start(choice.rate_hz, spectrogram)
        self._overflows = 0
        self.controls.show_overflows(0)
        self._set_checked(True)
        self._show_checking()
        self._timer.start()
        return True

    def stop(self) -> None:
        """Stop listening and free the microphone (a take can open it right after)."""
        self._timer.stop()
        monitor, self.monitor = self.monitor, None
        self._set_checked(False)
        if monitor is None:
            return
        monitor.stop()
        monitor.poll_events()
        self.live_views.settle()
        self.controls.show_phase(self._phase)

    # -- inside -------------------------------------------------------------------------------
    def _on_toggled(self, checked: bool) -> None:
        if checked:
            self.start()
        else:
            self.stop()

    def _set_checked(self, checked: bool) -> None:
        if self.button.isChecked() != checked:
            self.button.blockSignals(True)
            self.button.setChecked(checked)
            self.button.blockSignals(False)

    def _show_checking(self) -> None:
        self.controls.state_label.setText(
            f"<span style='color:{CHECKING_COLOUR}'>{CHECKING_TEXT}</span>")

    def _tick(self) -> None:
        monitor = self.monitor
        if monitor is None:
            self._timer.stop()
            return
        blocks = monitor.read_live_blocks()
        self.live_views.feed(blocks, REFRESH_MS / 1000.0)
        if blocks and self.first_update_s is None:
            self.first_update_s = time.monotonic() - self._pressed_at
        overflows = monitor.status().overflows
        if overflows != self._overflows:
            self._overflows = overflows
            self.controls.show_overflows(overflows)
        for event in monitor.poll_events():
            if event.kind == "device_failed":
                self.stop()
                self.banner.show_message(event.message, "error")
                return
