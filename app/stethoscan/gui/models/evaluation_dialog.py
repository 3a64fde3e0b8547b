"""Evaluate a model on a clinic's labelled data, or look at an evaluation, inside the app.

The same evaluation as ``stethoscan evaluate`` (``commands.evaluate.evaluate_model``), run by the
inference worker with progress and Cancel; its files (metrics.json and the three plots) go to a
new folder under the app's data folder (``evaluations/``), shown when done. "Open results…"
shows any folder that ``stethoscan evaluate --out`` wrote; "Model's own figures" shows the
package's held-out test and real-recording figures that its trainer wrote.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from stethoscan.core.errors import StethoscanError
from stethoscan.gui.models.evaluation_view import EvaluationView, package_sections

PREFERRED_SIZE_PX = (1080, 720)
SPLITS = (("all recordings", "all"), ("official test split", "test"), ("official train split", "train"))
OWN_FIGURES = "Model's own figures…"


def evaluable_packages() -> list[Any]:
    """Installed and bundled packages whose kind has an evaluator."""
    from stethoscan.commands.evaluate import EVALUATORS
    from stethoscan.inference import registry

    return [e for e in registry.list_packages([]) if e.pipeline in EVALUATORS]


def output_folder(model_name: str) -> Path:
    from stethoscan.core import paths

    stamp = time.strftime("%Y%m%d-%H%M%S")
    return paths.data_dir() / "evaluations" / f"{model_name}-{stamp}"


def _evaluate(model: str, out: Path, data: Path, split: str, task: Any = None) -> dict:
    from stethoscan.commands.evaluate import evaluate_model

    return evaluate_model(model, out, data_path=data, split=split, task=task)


def fitted_size(screen: Any) -> tuple[int, int]:
    """PREFERRED_SIZE_PX, smaller on a screen with less room (a 1366 x 768 laptop with a
    taskbar), leaving space for the window frame."""
    width, height = PREFERRED_SIZE_PX
    if screen is None:
        return width, height
    room = screen.availableGeometry()
    return min(width, room.width() - 16), min(height, room.height() - 48)


class EvaluationDialog(QDialog):
    def __init__(self, context: Any, model_name: str | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("evaluationDialog")
        self.setWindowTitle("Evaluate a model on labelled data")
        self.context = context
        self.job: Any = None
        self.out_dir: Path | None = None
        self.data_shown: str | None = None
        self.entries = evaluable_packages()
        self.model_combo = QComboBox()
        for entry in self.entries:
            self.model_combo.addItem(f"{entry.name} {entry.version}", entry.name)
        if model_name is not None and self.model_combo.findData(model_name) >= 0:
            self.model_combo.setCurrentIndex(self.model_combo.findData(model_name))
        self.model_combo.currentIndexChanged.connect(lambda _i: self._on_model())
        self.data_edit = QLineEdit()
        self.data_edit.setPlaceholderText("Folder: ICBHI layout (WAV + TXT) or WAVs with labels.csv; "
                                          "for the MCI model one CSV row per visit")  # fmt: skip
        browse = QPushButton("Browse…")
        browse.clicked.connect(self.choose_data)
        self.split_combo = QComboBox()
        for title, key in SPLITS:
            self.split_combo.addItem(title, key)
        self.run_button = QPushButton("Evaluate")
        self.run_button.setObjectName("runButton")
        self.run_button.clicked.connect(self.evaluate)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.cancel)
        self.open_button = QPushButton("Open results…")
        self.open_button.setToolTip("Show a folder written by 'stethoscan evaluate --out'.")
        self.open_button.clicked.connect(lambda: self.open_results())
        self.own_combo = QComboBox()
        self.own_combo.setToolTip("The figures the model's trainer wrote into its package.")
        self.own_combo.activated.connect(lambda _i: self.show_own_figures(self.own_combo.currentText()))
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setTextVisible(False)
        self.progress.setFixedHeight(8)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.error = QLabel("")
        self.error.setObjectName("modelError")
        self.error.setWordWrap(True)
        self.view = EvaluationView()
        self._lay_out(browse)
        self._on_model()
        self._set_running(False)
        self.resize(*fitted_size(self.screen()))

    def _lay_out(self, browse: QPushButton) -> None:
        top = QHBoxLayout()
        top.addWidget(QLabel("Model:"))
        top.addWidget(self.model_combo, 1)
        top.addWidget(QLabel("Recordings:"))
        top.addWidget(self.split_combo)
        data = QHBoxLayout()
        data.addWidget(QLabel("Labelled data:"))
        data.addWidget(self.data_edit, 1)
        data.addWidget(browse)
        buttons = QHBoxLayout()
        buttons.addWidget(self.open_button)
        buttons.addWidget(self.own_combo)
        buttons.addStretch(1)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.run_button)
        layout = QVBoxLayout(self)
        for row in (top, data, buttons):
            layout.addLayout(row)
        for widget in (self.progress, self.status, self.error):
            layout.addWidget(widget)
        self.scroll = QScrollArea()  # a long title or a low screen scrolls, nothing is squeezed
        self.scroll.setWidgetResizable(True)
        self.scroll.setWidget(self.view)
        layout.addWidget(self.scroll, 1)

    def _entry(self) -> Any:
        index = self.model_combo.currentIndex()
        return self.entries[index] if 0 <= index < len(self.entries) else None

    def _on_model(self) -> None:
        entry = self._entry()
        respiratory = entry is not None and entry.pipeline == "respiratory_cycles"
        self.split_combo.setEnabled(respiratory)
        if not respiratory:
            self.split_combo.setCurrentIndex(0)
        self.own_combo.clear()
        self.own_combo.addItem(OWN_FIGURES)
        for title in package_sections(entry.path) if entry is not None else {}:
            self.own_combo.addItem(title)
        self.own_combo.setEnabled(self.own_combo.count() > 1)

    def choose_data(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Labelled data folder")
        if path:
            self.data_edit.setText(path)

    # -- running -------------------------------------------------------------------------------
    def evaluate(self) -> Any:
        """Evaluate the chosen model on the chosen folder (inference worker); returns the Job."""
        entry = self._entry()
        if entry is None or (self.job is not None and self.job.is_running):
            return None
        text = self.data_edit.text().strip()
        if not text or not Path(text).is_dir():
            self.status.clear()  # a refusal, not the previous run's "Done"
            self.error.setText("Choose the folder of labelled data first (Browse…)." if not text
                               else f"The folder {text} does not exist.")  # fmt: skip
            return None
        self.error.clear()
        self.out_dir = output_folder(entry.name)
        split = self.split_combo.currentData()
        self.data_shown = f"{text} ({self.split_combo.currentText()})" if self.split_combo.isEnabled() else text
        self.job = self.context.workers.submit(f"Evaluating {entry.name}", _evaluate, entry.name,
                                               self.out_dir, Path(text), split, pool="inference")  # fmt: skip
        self.job.progress.connect(self._on_progress)
        self.job.finished.connect(self._on_finished)
        self.job.failed.connect(self._on_failed)
        self.job.cancelled.connect(self._on_cancelled)
        self.progress.setValue(0)
        self.status.setText(f"Evaluating {entry.name} on {text}…")
        self.view.clear("The results of this evaluation will show here.")
        self._set_running(True)
        return self.job

    def cancel(self) -> None:
        if self.job is not None and self.job.is_running:
            self.status.setText("Cancelling…")
            self.job.cancel()

    def done(self, result: int) -> None:
        """Closing the window stops its evaluation (it would otherwise hold the model worker)."""
        self.cancel()
        super().done(result)

    def _set_running(self, running: bool) -> None:
        self.run_button.setEnabled(not running and bool(self.entries))
        self.cancel_button.setEnabled(running)
        self.progress.setVisible(running)

    def _on_progress(self, fraction: float, message: str) -> None:
        self.progress.setValue(int(fraction * 1000))
        if message:
            self.status.setText(message[:1].upper() + message[1:] + "…")

    def _on_finished(self, _report: dict) -> None:
        self._set_running(False)
        self.open_results(self.out_dir, self.data_shown)
        self.status.setText(f"Done. The figures and plots are saved in {self.out_dir}.")

    def _on_failed(self, exc: BaseException) -> None:
        from stethoscan.gui.models.model_panel import failure_message

        self._set_running(False)
        self.status.clear()
        self.error.setText(failure_message(exc))

    def _on_cancelled(self) -> None:
        self._set_running(False)
        self.status.setText("Cancelled: no evaluation was written.")

    # -- showing -------------------------------------------------------------------------------
    def open_results(self, folder: Path | str | None = None, data: str | None = None) -> bool:
        """Show an evaluation folder (asks for one when not given); False when it is not one.
        ``data`` names what it ran on when its metrics.json does not."""
        if folder is None:
            folder = QFileDialog.getExistingDirectory(self, "An evaluation folder (with metrics.json)")
            if not folder:
                return False
        try:
            self.view.show_folder(Path(folder), data)
        except StethoscanError as exc:
            self.error.setText(str(exc))
            return False
        self.error.clear()
        return True

    def show_own_figures(self, title: str) -> bool:
        entry = self._entry()
        sections = package_sections(entry.path) if entry is not None else {}
        if title not in sections:
            return False
        report, plots = sections[title]
        self.view.show_report(report, plots, f"{entry.name} {entry.version}: {title} (from its package)")
        self.error.clear()
        return True
