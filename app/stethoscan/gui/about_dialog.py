"""Help ▸ About: versions, licences of the demo data, and the "Not for diagnostic use" statement."""

from __future__ import annotations

import platform
from importlib import metadata

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QVBoxLayout, QWidget

from stethoscan import __version__
from stethoscan.core import paths

NOT_FOR_DIAGNOSTIC_USE = (
    "Stethoscan is research software. It is not a medical device and is not for diagnostic use: "
    "images, measurements and AI results must not be used to diagnose or treat patients."
)
_LIBRARIES = ("PySide6-Essentials", "pyqtgraph", "numpy", "pydicom", "torch", "librosa")


def library_versions() -> dict[str, str]:
    """Installed versions of the main libraries (read from package metadata, nothing imported)."""
    versions = {"Python": platform.python_version()}
    for name in _LIBRARIES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


class AboutDialog(QDialog):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("aboutDialog")
        self.setWindowTitle("About Stethoscan")
        rows = "".join(f"<tr><td>{k}</td><td>&nbsp;&nbsp;{v}</td></tr>" for k, v in library_versions().items())
        text = (
            f"<h2>Stethoscan {__version__}</h2>"
            "<p>Offline clinical workstation: DICOM scans, breath and voice recordings, "
            "and local AI models that explain themselves.</p>"
            f"<p style='color:#f0c75e'><b>Not for diagnostic use.</b> {NOT_FOR_DIAGNOSTIC_USE}</p>"
            f"<table>{rows}</table>"
            "<p>Demo data: brain MRI from the studyforrest project (PDDL); stethoscope recording "
            "from the ICBHI 2017 Respiratory Sound Database (CC0). See "
            "resources/demo/ATTRIBUTION.md.</p>"
            f"<p>Logs: {paths.log_dir()}</p>"
        )
        self.label = QLabel(text)
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok)
        buttons.accepted.connect(self.accept)
        layout = QVBoxLayout(self)
        layout.addWidget(self.label)
        layout.addWidget(buttons)
        self.setMinimumWidth(520)
