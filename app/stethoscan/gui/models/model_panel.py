"""The Models dock: the models that fit the data in front of the clinician, and running them.

Scan models are offered while a volume is open (matching modality and dimensions), audio models
while a recording is selected, score models when the patient has visits with MMSE or MoCA.
Each row shows name, version, task, what it would use, and the "research use only" and
"trained on synthetic data" badges. Run goes to the single inference worker (progress, Cancel);
the saliency picker lists only the methods the package validated. The result is saved with the
patient's session and announced through ``context.results_changed``; the live result is also
left in ``context.latest_prediction`` for the results panel.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from stethoscan.core.errors import ModelPackageError, StethoscanError
from stethoscan.gui.models.model_fit import ModelOffer, gather_data, model_offers
from stethoscan.gui.models.prediction_request import build_request, run_prediction
from stethoscan.gui.models.probability_bars import percent_text

_log = logging.getLogger(__name__)
METHOD_TITLES = {"gradcam": "Grad-CAM", "ig": "Integrated Gradients", "occlusion": "Occlusion"}
PREPROCESSING_OVERLAYS = ("brain_mask", "model_crop")
_BADGE = ("QLabel {{ background: {bg}; color: {fg}; border-radius: 3px; padding: 1px 6px;"
          " font-size: 8pt; font-weight: 600; }}")  # fmt: skip
_STYLE = """
#modelRow QLabel#modelName { font-weight: 600; font-size: 10.5pt; }
#modelRow QLabel#modelMeta { color: #9aa4ae; }
#modelRow QLabel#modelReason { color: #8d96a0; font-style: italic; }
#dataSummary { color: #c9d1d9; }
#runButton { background: #2f6f9f; border-color: #3f8fc6; color: #ffffff; font-weight: 600; }
#runButton:disabled { background: #262b32; color: #6b737d; border-color: #353d48; }
#modelStatus { color: #aab3bd; }
#modelError { color: #f5c4c8; font-weight: 600; }
"""


def badge(text: str, background: str, foreground: str) -> QLabel:
    label = QLabel(text)
    label.setObjectName("badge")
    label.setStyleSheet(_BADGE.format(bg=background, fg=foreground))
    return label


def badges_for(entry: Any) -> list[QLabel]:
    out = []
    if entry.research_use_only:
        out.append(badge("RESEARCH USE ONLY", "#5a2626", "#ffd6d0"))
    if entry.synthetic_training_data:
        out.append(badge("TRAINED ON SYNTHETIC DATA", "#3b2d5c", "#e2d6ff"))
    return out


class ModelRow(QWidget):
    """One package in the list: name and version, task, inputs (or why it does not fit), badges."""

    def __init__(self, offer: ModelOffer, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("modelRow")
        entry = offer.entry
        name = QLabel(f"{entry.name}  <span style='color:#8d96a0'>v{entry.version}</span>")
        name.setObjectName("modelName")
        meta = QLabel(f"Task: {entry.task.replace('_', ' ')}" + (" · installed" if entry.source == "user" else ""))
        meta.setObjectName("modelMeta")
        uses = QLabel(f"Uses: {offer.inputs_text()}" if offer.fits else offer.reason)
        uses.setObjectName("modelMeta" if offer.fits else "modelReason")
        uses.setWordWrap(True)
        badges = QHBoxLayout()
        badges.setSpacing(4)
        for item in badges_for(entry):
            badges.addWidget(item)
        badges.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 5, 6, 6)
        layout.setSpacing(2)
        for widget in (name, meta, uses):
            layout.addWidget(widget)
        layout.addLayout(badges)
        self.setEnabled(offer.fits)


class ModelPanel(QWidget):
    prediction_finished = Signal(object)  # SavedPrediction
    run_failed = Signal(str)  # the message shown

    def __init__(self, context: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("modelPanel")
        self.setStyleSheet(_STYLE)
        self.context = context
        self.offers: list[ModelOffer] = []
        self.problems: list[str] = []
        self.job: Any = None
        self.preprocess_job: Any = None
        self._build()
        for signal in (context.volume_loaded, context.recording_selected, context.visits_changed,
                       context.patient_changed):  # fmt: skip
            signal.connect(lambda *_: self.refresh())
        self.refresh()

    # -- construction -------------------------------------------------------------------------
    def _build(self) -> None:
        self.data_label = QLabel()
        self.data_label.setObjectName("dataSummary")
        self.data_label.setWordWrap(True)
        self.model_list = QListWidget()
        self.model_list.setObjectName("modelList")
        self.model_list.setSpacing(2)
        self.model_list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.model_list.currentRowChanged.connect(lambda _row: self._on_selection())
        self.show_all = QCheckBox("Show all installed models")
        self.show_all.toggled.connect(lambda _on: self.refresh())
        self.summary_label = QLabel()
        self.summary_label.setWordWrap(True)
        self.summary_label.setObjectName("modelMeta")
        self.method_combo = QComboBox()
        self.method_combo.setObjectName("saliencyMethod")
        self.method_combo.setToolTip("Only the explanation methods that passed this model's "
                                     "sanity checks are offered.")  # fmt: skip
        self.method_combo.currentIndexChanged.connect(lambda _i: self._update_method_options())
        self.steps_spin = QSpinBox()
        self.steps_spin.setRange(8, 256)
        self.steps_spin.setValue(32)
        self.steps_spin.setPrefix("steps ")
        self.steps_spin.setToolTip("Integrated Gradients: integration steps (more = smoother, slower)")
        self.preprocessing_box = QCheckBox("Show the preprocessing on the scan (brain mask, model box)")
        self.preprocessing_box.toggled.connect(self._on_preprocessing_toggled)
        self.card_button = QPushButton("Model card")
        self.card_button.clicked.connect(self.show_model_card)
        self.evaluate_button = QPushButton("Evaluate…")
        self.evaluate_button.setToolTip("Evaluate a model on your labelled data, or look at an "
                                        "evaluation (accuracy, recall, F1, confusion matrix, ROC).")  # fmt: skip
        self.evaluate_button.clicked.connect(self.show_evaluation)
        self.run_button = QPushButton("Run")
        self.run_button.setObjectName("runButton")
        self.run_button.clicked.connect(self.run)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.cancel)
        self.install_button = QPushButton("Install…")
        self.install_button.setToolTip("Install a model package (folder or zip); it is verified first.")
        self.install_button.clicked.connect(self.choose_install)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setTextVisible(False)
        self.progress.setFixedHeight(8)
        self.status_label = QLabel()
        self.status_label.setObjectName("modelStatus")
        self.status_label.setWordWrap(True)
        self.error_label = QLabel()
        self.error_label.setObjectName("modelError")
        self.error_label.setWordWrap(True)
        self.error_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self._lay_out()
        self._set_running(False)

    def _lay_out(self) -> None:
        method_row = QHBoxLayout()
        method_row.addWidget(QLabel("Explanation:"))
        method_row.addWidget(self.method_combo, 1)
        method_row.addWidget(self.steps_spin)
        buttons = QHBoxLayout()
        buttons.addWidget(self.card_button)
        buttons.addWidget(self.evaluate_button)
        buttons.addStretch(1)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.run_button)
        footer = QHBoxLayout()
        footer.addWidget(self.show_all, 1)
        footer.addWidget(self.install_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.addWidget(self.data_label)
        layout.addWidget(self.model_list, 1)
        layout.addLayout(footer)
        layout.addWidget(self.summary_label)
        layout.addLayout(method_row)
        layout.addWidget(self.preprocessing_box)
        layout.addLayout(buttons)
        layout.addWidget(self.progress)
        layout.addWidget(self.status_label)
        layout.addWidget(self.error_label)

    # -- the list -----------------------------------------------------------------------------
    def refresh(self) -> None:
        """Re-read the registry and the data in front of the clinician."""
        from stethoscan.inference import registry

        previous = self.selected_offer().name if self.selected_offer() else None
        self.problems = []
        entries = registry.list_packages(self.problems)
        self.data = gather_data(self.context)
        if self.data.volume is not getattr(self, "_volume_shown", None):
            self._volume_shown = self.data.volume  # a new scan: the viewer dropped its overlays
            self.preprocessing_box.blockSignals(True)
            self.preprocessing_box.setChecked(False)
            self.preprocessing_box.blockSignals(False)
        offers = model_offers(entries, self.data)
        self.offers = offers if self.show_all.isChecked() else [o for o in offers if o.fits]
        lines = self.data.describe()
        self.data_label.setText("<br>".join(lines) if lines else
                                "Open a scan, select a recording or enter cognitive scores: the "
                                "models that fit them are listed here.")  # fmt: skip
        self._fill_list(previous)
        if self.problems:
            self.error_label.setText("Some model packages cannot be read: " + "; ".join(self.problems))

    def _fill_list(self, previous: str | None) -> None:
        self.model_list.blockSignals(True)
        self.model_list.clear()
        for offer in self.offers:
            item = QListWidgetItem()
            row = ModelRow(offer)
            item.setSizeHint(row.sizeHint())
            item.setToolTip(offer.entry.summary)
            if not offer.fits:
                item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsSelectable)
            self.model_list.addItem(item)
            self.model_list.setItemWidget(item, row)
        self.model_list.blockSignals(False)
        names = [o.name for o in self.offers]
        fitting = [i for i, o in enumerate(self.offers) if o.fits]
        row = names.index(previous) if previous in names and self.offers[names.index(previous)].fits else (
            fitting[0] if fitting else -1)
        self.model_list.setCurrentRow(row)
        self._on_selection()

    def selected_offer(self) -> ModelOffer | None:
        row = self.model_list.currentRow() if hasattr(self, "model_list") else -1
        if 0 <= row < len(self.offers) and self.offers[row].fits:
            return self.offers[row]
        return None

    def select_model(self, name: str) -> bool:
        for row, offer in enumerate(self.offers):
            if offer.name == name and offer.fits:
                self.model_list.setCurrentRow(row)
                return True
        return False

    def _on_selection(self) -> None:
        offer = self.selected_offer()
        self.method_combo.clear()
        if offer is None:
            self.summary_label.setText("")
        else:
            self.summary_label.setText(offer.entry.summary)
            for method in offer.entry.validated_saliency_methods:
                self.method_combo.addItem(METHOD_TITLES.get(method, method), method)
            self.method_combo.addItem("No explanation map", None)
        scan_mci = offer is not None and offer.entry.pipeline == "mci_fusion" and "scan" in offer.inputs
        self.preprocessing_box.setVisible(scan_mci)
        self._update_method_options()
        self._set_running(self.job is not None and self.job.is_running)

    def _update_method_options(self) -> None:
        self.steps_spin.setVisible(self.method_combo.currentData() == "ig")

    # -- running ------------------------------------------------------------------------------
    def run(self) -> Any:
        """Run the selected model on the data in front of the clinician; returns the Job."""
        offer = self.selected_offer()
        if offer is None or (self.job is not None and self.job.is_running):
            return None
        method = self.method_combo.currentData()
        extra = {"n_steps": self.steps_spin.value()} if method == "ig" else None
        request = build_request(offer, gather_data(self.context), method, extra)
        session_id = self.context.ensure_session()
        self.error_label.clear()
        title = f"Running {offer.name}"
        job = self.context.workers.submit(title, run_prediction, request, self.context.store,
                                          session_id, pool="inference")  # fmt: skip
        self.job = job
        job.progress.connect(self._on_progress)
        job.finished.connect(self._on_finished)
        job.failed.connect(self._on_failed)
        job.cancelled.connect(self._on_cancelled)
        self.progress.setValue(0)
        self.status_label.setText(f"{title} on {request.input.get('text', 'the data')}…")
        self._set_running(True)
        return job

    def cancel(self) -> None:
        if self.job is not None and self.job.is_running:
            self.status_label.setText("Cancelling…")
            self.job.cancel()

    def _set_running(self, running: bool) -> None:
        self.run_button.setEnabled(not running and self.selected_offer() is not None)
        self.cancel_button.setEnabled(running)
        self.progress.setVisible(running)

    def _on_progress(self, fraction: float, message: str) -> None:
        self.progress.setValue(int(fraction * 1000))
        if message:
            self.status_label.setText(message[:1].upper() + message[1:] + "…")

    def _on_finished(self, saved: Any) -> None:
        self._set_running(False)
        prediction = saved.prediction
        self.status_label.setText(f"Done: {prediction.top_label} ({percent_text(prediction.top_probability)}). "
                                  "The result is in the Results panel and saved with the session.")  # fmt: skip
        self.context.latest_prediction = saved
        self.context.results_changed.emit()
        self.prediction_finished.emit(saved)

    def _on_failed(self, exc: BaseException) -> None:
        self._set_running(False)
        self.status_label.clear()
        message = failure_message(exc)
        self.error_label.setText(message)
        self.run_failed.emit(message)

    def _on_cancelled(self) -> None:
        self._set_running(False)
        self.status_label.setText("Cancelled: nothing was saved.")

    # -- model card, install, preprocessing -----------------------------------------------------
    def show_model_card(self) -> Any:
        from stethoscan.gui.models.model_card_dialog import ModelCardDialog

        offer = self.selected_offer()
        if offer is None:
            return None
        self.card_dialog = ModelCardDialog(offer.entry, self)
        self.card_dialog.show()
        return self.card_dialog

    def show_evaluation(self) -> Any:
        """The evaluation dialog, with the selected model (if any) chosen."""
        from stethoscan.gui.models.evaluation_dialog import EvaluationDialog

        offer = self.selected_offer()
        self.evaluation_dialog = EvaluationDialog(self.context, offer.name if offer else None, self)
        self.evaluation_dialog.show()
        return self.evaluation_dialog

    def choose_install(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Install a model package (folder)")
        if not path:
            path, _ = QFileDialog.getOpenFileName(self, "Install a model package (zip)", "",
                                                  "Model packages (*.zip)")  # fmt: skip
        if path:
            self.install_package(path)

    def install_package(self, path: str | Path) -> Any:
        """Verify and install a package folder or zip (io pool); refusals are shown."""
        job = self.context.workers.submit("Installing a model package", _install, str(path))
        job.finished.connect(lambda entry: self._on_installed(entry))
        job.failed.connect(self._on_failed)
        self.status_label.setText("Verifying the package…")
        self.install_job = job
        return job

    def _on_installed(self, entry: Any) -> None:
        self.status_label.setText(f"Installed {entry.name} {entry.version} (verified).")
        self.error_label.clear()
        self.refresh()

    def _on_preprocessing_toggled(self, shown: bool) -> None:
        if not shown:
            for name in PREPROCESSING_OVERLAYS:
                self.context.scan_overlay_changed.emit(name, None)
            return
        data = gather_data(self.context)
        if data.volume is None:
            return
        from stethoscan.workflows.mci_prediction import preprocess_for_viewer

        description = getattr(data.series, "description", "") or ""
        job = self.context.workers.submit("Preprocessing the brain MRI", _preprocess,
                                          preprocess_for_viewer, data.volume, description)  # fmt: skip
        job.finished.connect(self._on_preprocessed)
        job.failed.connect(self._on_preprocess_failed)
        self.preprocess_job = job

    def _on_preprocessed(self, overlays: dict[str, dict]) -> None:
        if not self.preprocessing_box.isChecked():
            return
        for name, spec in overlays.items():
            self.context.scan_overlay_changed.emit(name, visible_mask(spec))
        self.status_label.setText("The scan shows the brain mask (green) and the model's input "
                                  "box (blue) that the MCI model uses.")  # fmt: skip

    def _on_preprocess_failed(self, exc: BaseException) -> None:
        self.preprocessing_box.setChecked(False)
        self.error_label.setText(failure_message(exc))


MASK_COLOURS = {"green": "#39d98a", "blue": "#4aa3ff"}


def visible_mask(spec: dict) -> dict:
    """A preprocessing mask drawn as a clearly visible outline in its own colour."""
    spec = dict(spec)
    if spec.get("kind") == "mask":
        spec.setdefault("color", MASK_COLOURS.get(str(spec.get("colormap")), "#39d98a"))
        spec["opacity"] = max(float(spec.get("opacity", 0.0)), 0.85)
        spec["label"] = str(spec.get("label", "")).replace(" (MCI model preprocessing)", "").split(" (")[0]
    return spec


def _install(path: str, task: Any = None) -> Any:
    from stethoscan.inference import registry

    return registry.install(Path(path))


def _preprocess(function: Any, volume: Any, description: str, task: Any = None) -> dict:
    return function(volume, description=description)


def failure_message(exc: BaseException) -> str:
    """What the clinician reads when a run or install fails."""
    if isinstance(exc, ModelPackageError):
        return f"The model package was refused (check failed: {exc.check}). {exc}"
    if isinstance(exc, StethoscanError):
        return str(exc)
    _log.error("Model run failed: %s", type(exc).__name__)
    return (f"The model could not be run ({type(exc).__name__}: {exc}). "
            "Details are in the log.")  # fmt: skip
