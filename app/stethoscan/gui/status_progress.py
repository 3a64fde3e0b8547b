"""Status-bar progress of running jobs: title, progress bar and a cancel button per job.

Every job submitted to :class:`Workers` appears here automatically (``Workers.job_started``) and
disappears when it ends. Jobs that end within ``SHOW_DELAY_MS`` never flash up.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QToolButton, QWidget

SHOW_DELAY_MS = 150


class JobProgress(QWidget):
    """One job: "Title  [=====    ]  ✕"."""

    def __init__(self, job: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("jobProgress")
        self.job = job
        layout = QHBoxLayout(self)
        layout.setContentsMargins(6, 0, 0, 0)
        layout.setSpacing(6)
        self.label = QLabel(job.title)
        self.label.setObjectName("jobTitle")
        self.bar = QProgressBar()
        self.bar.setRange(0, 1000)
        self.bar.setFixedWidth(150)
        self.bar.setFixedHeight(12)
        self.bar.setTextVisible(False)
        self.cancel_button = QToolButton()
        self.cancel_button.setObjectName("cancelJobButton")
        self.cancel_button.setText("✕")
        self.cancel_button.setAutoRaise(True)
        self.cancel_button.setToolTip(f"Cancel: {job.title}")
        self.cancel_button.clicked.connect(job.cancel)
        layout.addWidget(self.label)
        layout.addWidget(self.bar)
        layout.addWidget(self.cancel_button)
        job.progress.connect(self._on_progress)

    def _on_progress(self, fraction: float, message: str) -> None:
        self.bar.setValue(int(round(fraction * 1000)))
        tip = f"{self.job.title}: {fraction * 100:.0f}%"
        self.setToolTip(f"{tip} — {message}" if message else tip)


class StatusProgress(QWidget):
    """The area in the status bar holding one :class:`JobProgress` per running job."""

    def __init__(self, workers: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("statusProgress")
        self._layout = QHBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.setSpacing(10)
        self._layout.setAlignment(Qt.AlignmentFlag.AlignRight)
        self.rows: dict[int, JobProgress] = {}
        workers.job_started.connect(self.add_job)

    def add_job(self, job: Any) -> None:
        row = JobProgress(job, self)
        row.hide()
        self.rows[id(job)] = row
        self._layout.addWidget(row)
        job.ended.connect(lambda: self._remove(job))
        QTimer.singleShot(SHOW_DELAY_MS, lambda: self._reveal(job))

    def _reveal(self, job: Any) -> None:
        row = self.rows.get(id(job))
        if row is not None and job.is_running:
            row.show()

    def _remove(self, job: Any) -> None:
        row = self.rows.pop(id(job), None)
        if row is not None:
            row.hide()
            row.deleteLater()

    def visible_jobs(self) -> list[Any]:
        return [row.job for row in self.rows.values() if row.job.is_running]
