"""Record / Pause / Stop / Discard, the elapsed time, the take's state, the overflow counter and
the progress towards the task's length."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QProgressBar, QPushButton, QVBoxLayout, QWidget

from stethoscan.gui.studio.styled_label import styled_label

PHASE_TEXTS = {  # phase -> (state text, colour)
    "idle": ("Ready", "#8d96a0"), "starting": ("Opening the microphone…", "#aab3bd"),
    "recording": ("● Recording", "#ff8a75"), "paused": ("❚❚ Paused", "#e8b13d"),
    "finishing": ("Saving the take…", "#aab3bd"),
    "saving": ("Checking the take…", "#aab3bd"), "review": ("Take saved", "#59c27a"),
}


def _button(text: str, name: str, shortcut: str, tip: str) -> QPushButton:
    button = QPushButton(text)
    button.setObjectName(name)
    button.setShortcut(shortcut)
    button.setToolTip(f"{tip} ({shortcut})")
    button.setMinimumHeight(34)
    button.setStyleSheet("QPushButton { padding: 5px 8px; }")
    return button


class TakeControls(QWidget):
    """The transport buttons and the take's clock; the studio connects the buttons."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        box = QVBoxLayout(self)
        box.setContentsMargins(0, 0, 0, 0)
        box.setSpacing(8)
        box.addLayout(self._build_buttons())
        status = QVBoxLayout()
        status.setSpacing(3)
        status.addLayout(self._build_status_row())
        self.progress = QProgressBar()
        self.progress.setObjectName("takeProgress")
        self.progress.setTextVisible(False)
        self.progress.setMaximumHeight(6)
        self.progress.setRange(0, 200)
        status.addWidget(self.progress)
        box.addLayout(status)

    def _build_buttons(self) -> QHBoxLayout:
        row = QHBoxLayout()
        self.record_button = _button("● Record", "recordButton", "Ctrl+R", "Record a take")
        self.record_button.setStyleSheet(
            "#recordButton { color: #ff8a75; font-weight: 600; font-size: 11pt; padding: 5px 8px; }"
            "#recordButton:disabled { color: #6b737d; }")
        self.pause_button = _button("Pause", "pauseButton", "Ctrl+P", "Pause or resume")
        self.stop_button = _button("■ Stop", "stopButton", "Ctrl+S", "Stop and save the take")
        self.discard_button = _button("Discard", "discardButton", "Ctrl+Shift+X",
                                      "Throw this take away")
        row.addWidget(self.record_button, 2)
        for button in (self.pause_button, self.stop_button, self.discard_button):
            row.addWidget(button, 1)
        return row

    def _build_status_row(self) -> QHBoxLayout:
        row = QHBoxLayout()
        self.elapsed_label = styled_label(
            "elapsedTime", "font-size: 20pt; font-weight: 600; color: #eef1f4;"
            " font-family: monospace;", text="0.0 s")
        self.state_label = styled_label("recordingState", "font-size: 11pt;")
        self.overflow_label = styled_label("overflowCounter")
        self.overflow_label.setToolTip("Input overflows: blocks of sound the computer could not "
                                       "take in time (should stay 0)")
        row.addWidget(self.elapsed_label)
        row.addSpacing(10)
        row.addWidget(self.state_label, 1)
        row.addWidget(self.overflow_label, 0, Qt.AlignmentFlag.AlignRight)
        return row

    def show_phase(self, phase: str) -> None:
        """Enable the buttons that make sense in ``phase`` and say what is happening."""
        live = phase in ("recording", "paused", "starting")
        self.record_button.setEnabled(phase in ("idle", "review"))
        self.pause_button.setEnabled(phase in ("recording", "paused"))
        self.pause_button.setText("Resume" if phase == "paused" else "Pause")
        self.stop_button.setEnabled(live)
        self.discard_button.setEnabled(live or phase in ("finishing", "review"))
        text, colour = PHASE_TEXTS[phase]
        self.state_label.setText(f"<span style='color:{colour}'>{text}</span>")

    def show_overflows(self, count: int) -> None:
        colour = "#e8b13d" if count else "#8d96a0"
        self.overflow_label.setText(f"<span style='color:{colour}'>Overflows: {count}</span>")

    def show_elapsed(self, elapsed_s: float, target_s: float | None) -> None:
        """The clock, and the bar towards ``target_s`` (empty without a target)."""
        # Only touch the widgets when what they show changes: a repaint of styled labels on
        # every tick would cost more than all the live views together.
        text = f"{elapsed_s:.1f} s"
        if self.elapsed_label.text() != text:
            self.elapsed_label.setText(text)
        maximum = self.progress.maximum()
        value = int(min(elapsed_s / target_s, 1.0) * maximum) if target_s else 0
        if self.progress.value() != value:
            self.progress.setValue(value)
