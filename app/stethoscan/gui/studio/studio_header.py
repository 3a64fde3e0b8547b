"""The studio's top lines: who the takes go to, and which microphone records them."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QHBoxLayout, QToolButton, QVBoxLayout, QWidget

from stethoscan.gui.studio.styled_label import styled_label


def person_name_text(name: str) -> str:
    """A DICOM person name for people: "DOE^JANE" -> "DOE, JANE"; other names unchanged."""
    family, _, rest = name.partition("^")
    given = " ".join(part for part in rest.split("^") if part)
    return f"{family}, {given}" if given else family


def patient_line_html(patient: Any, session_id: int | None, take_session: int | None) -> str:
    """The patient line; ``take_session`` is the session of a running take if it differs."""
    if patient is None:
        line = ("<b>No patient chosen</b> <span style='color:#8d96a0'>· "
                "takes go to an unspecified patient</span>")
    else:
        name = person_name_text(patient.display_name or patient.patient_key)
        where = f"session {session_id}" if session_id else "new session with the first take"
        line = f"<b>{name}</b> <span style='color:#8d96a0'>· {where}</span>"
    if take_session is not None:  # the patient changed mid-take
        line += f" <span style='color:#e8b13d'>· this take goes to session {take_session}</span>"
    return line


class StudioHeader(QWidget):
    """Patient line, microphone line and the "Microphone…" toggle (shows the device picker)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        header = QVBoxLayout(self)
        header.setContentsMargins(0, 0, 0, 0)
        header.setSpacing(2)
        self.patient_label = styled_label("studioPatient", "font-size: 11pt;", wrap=True)
        self.device_label = styled_label("studioDevice", "color: #aab3bd;", wrap=True)
        self.device_button = QToolButton()
        self.device_button.setText("Microphone…")
        self.device_button.setCheckable(True)
        self.device_button.setToolTip("Choose the microphone, sample rate and channels")
        device_row = QHBoxLayout()
        device_row.addWidget(self.device_label, 1)
        device_row.addWidget(self.device_button)
        header.addWidget(self.patient_label)
        header.addLayout(device_row)

    def show_device_problem(self, text: str) -> None:
        self.device_label.setText(f"<span style='color:#f0c75e'>{text}</span>")

    def show_device(self, summary: str) -> None:
        self.device_label.setText(f"Microphone: {summary}")
