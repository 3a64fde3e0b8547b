"""The Results dock: what a model said, how sure it is, why, and with which caveats.

Shows the calibrated probabilities as bars with the labels' plain-language descriptions (top
label highlighted), "Not for diagnostic use" whenever the package is research-only, the
synthetic-training notice, warnings beside the result, the inputs used and their contributions,
the saliency regions in words and the saliency overlay controls (toggle, opacity, colour map).
A volume's map goes to the scan viewer through ``context.scan_overlay_changed`` (all three
planes); a recording's map is drawn here over its log-mel spectrogram, with the per-cycle
results. Results saved with the patient's sessions are listed and can be reopened.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QScrollArea,
    QSlider,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from stethoscan.gui.models.prediction_request import (
    SavedPrediction,
    patient_result_rows,
    prediction_from_row,
)
from stethoscan.gui.models.probability_bars import ContributionBars, ProbabilityBars
from stethoscan.gui.models.saliency_caution import caution_for
from stethoscan.gui.models.scan_saliency import map_on_volume_grid

OVERLAY_NAME = "saliency"
COLOURMAPS = (("Inferno", "inferno"), ("Heat", "CET-L3"), ("Turbo", "turbo"),
              ("Viridis", "viridis"), ("Plasma", "plasma"))  # fmt: skip
METHOD_TITLES = {"gradcam": "Grad-CAM", "ig": "Integrated Gradients", "occlusion": "Occlusion"}
SYNTHETIC_NOTICE = ("This model was trained on synthetic data only; it has not been validated on "
                    "real patients.")  # fmt: skip
_STYLE = """
#disclaimerBanner { background: #4a1d22; color: #ffd9dc; border: 1px solid #7a2f36;
                    border-radius: 4px; padding: 6px 8px; font-weight: 700; }
#syntheticNotice { background: #2c2447; color: #e2d6ff; border-radius: 4px; padding: 5px 8px; }
#warningsBox { background: #3a3015; color: #f3ddb0; border: 1px solid #5c4a1c; border-radius: 4px;
               padding: 5px 8px; }
#topFinding { font-size: 13pt; font-weight: 700; color: #e6e9ed; }
#certaintyNote { color: #f0c75e; }
#resultTitle { color: #aab3bd; }
#sectionTitle { color: #8d96a0; font-weight: 700; margin-top: 6px; }
#labelDescription, #cardSummary, #overlayNote { color: #8d96a0; }
#probabilityRowTop { background: #17324a; border-radius: 4px; }
#emptyResults { color: #6b737d; font-style: italic; padding: 16px; }
"""


def uncertainty_note(labels: list[str], percentages: list[int], top_label: str) -> str:
    """A warning when the runner-up is within 10 percentage points of the top label."""
    if len(labels) < 2 or top_label not in labels:
        return ""
    top = percentages[labels.index(top_label)]
    others = [(pct, lab) for lab, pct in zip(labels, percentages, strict=True) if lab != top_label]
    second, name = max(others)
    if top - second >= 10:
        return ""
    return f"Uncertain: {name} is almost as likely ({second} %)."


def no_map_reason(p: Any) -> str:
    cycles = (p.details or {}).get("cycles") or []
    if cycles and all(c.get("label") == "normal" for c in cycles):
        return "No map: every breathing cycle was classified normal, so there is no finding to locate."
    return ("No explanation map for this result: none was asked for, or no method passed this "
            "model's sanity checks (see the model card).")


def _label(text: str = "", name: str = "", wrap: bool = True) -> QLabel:
    label = QLabel(text)
    if name:
        label.setObjectName(name)
    label.setWordWrap(wrap)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return label


class ResultsPanel(QWidget):
    overlay_emitted = Signal(str, object)  # what was sent to the viewer (for tests and logs)

    def __init__(self, context: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("resultsPanel")
        self.setStyleSheet(_STYLE)
        self.context = context
        self.shown: SavedPrediction | None = None
        self.history_rows: list[dict[str, Any]] = []
        self.load_job: Any = None
        self.spectrogram_job: Any = None
        self._overlay_timer = QTimer(self, singleShot=True, interval=60)
        self._overlay_timer.timeout.connect(self.apply_overlay)
        self._build()
        context.results_changed.connect(self._on_results_changed)
        context.patient_changed.connect(lambda _p: self._on_patient_changed())
        context.volume_loaded.connect(lambda *_: self._overlay_timer.start())
        self._on_patient_changed()

    # -- construction -------------------------------------------------------------------------
    def _build(self) -> None:
        self.empty_label = _label("Run a model from the Models panel: its result, with how sure "
                                  "it is and why, appears here.", "emptyResults")  # fmt: skip
        self.disclaimer = _label("", "disclaimerBanner")
        self.title_label = _label("", "resultTitle")
        self.input_label = _label("", "resultTitle")
        self.top_label = _label("", "topFinding")
        self.certainty_label = _label("", "certaintyNote")
        self.bars = ProbabilityBars()
        self.synthetic_label = _label(SYNTHETIC_NOTICE, "syntheticNotice")
        self.warnings_label = _label("", "warningsBox")
        self.inputs_label = _label()
        self.contributions = ContributionBars()
        self.method_label = _label()
        self.regions_label = _label()
        self.caution_label = _label("", "overlayNote")
        self.overlay_box = QCheckBox("Show the map")
        self.overlay_box.setChecked(True)
        self.opacity_slider = QSlider(Qt.Orientation.Horizontal)
        self.opacity_slider.setRange(0, 100)
        self.opacity_slider.setValue(50)
        self.opacity_slider.setToolTip("Opacity of the map")
        self.colormap_combo = QComboBox()
        for title, name in COLOURMAPS:
            self.colormap_combo.addItem(title, name)
        self.overlay_note = _label("", "overlayNote")
        self.spectrogram = None  # created on the first audio result (pyqtgraph plot)
        self.cycles_table = self._cycles_table()
        self.summary_label = _label("", "cardSummary")
        self.history = QListWidget()
        self.history.setObjectName("resultHistory")
        self.history.setMaximumHeight(140)
        self.history.itemActivated.connect(self._on_history_chosen)
        self.history.itemClicked.connect(self._on_history_chosen)
        for signal in (self.overlay_box.toggled, self.opacity_slider.valueChanged,
                       self.colormap_combo.currentIndexChanged):  # fmt: skip
            signal.connect(lambda *_: self._on_overlay_controls())
        self._lay_out()
        self._show_sections(False)

    def _cycles_table(self) -> QTableWidget:
        table = QTableWidget(0, 4)
        table.setObjectName("cyclesTable")
        table.setHorizontalHeaderLabels(["Cycle (s)", "Finding", "p", "Evidence"])
        table.verticalHeader().setVisible(False)
        table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        header = table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        table.setWordWrap(True)
        return table

    def _lay_out(self) -> None:
        controls = QHBoxLayout()
        controls.addWidget(self.overlay_box)
        controls.addWidget(QLabel("Opacity"))
        controls.addWidget(self.opacity_slider, 1)
        controls.addWidget(self.colormap_combo)
        self.content = QWidget()
        layout = QVBoxLayout(self.content)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.setSpacing(6)
        self.sections: dict[str, QLabel] = {}
        for widget in (self.empty_label, self.bars, self.synthetic_label, self.warnings_label):
            layout.addWidget(widget)
        layout.addWidget(self._section("inputs", "Inputs used"))
        layout.addWidget(self.inputs_label)
        layout.addWidget(self.contributions)
        layout.addWidget(self._section("explanation", "Why: where the model looked"))
        layout.addWidget(self.method_label)
        layout.addWidget(self.regions_label)
        layout.addWidget(self.caution_label)
        self.controls_widget = QWidget()
        self.controls_widget.setLayout(controls)
        controls.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.controls_widget)
        layout.addWidget(self.overlay_note)
        self.spectrogram_slot = QVBoxLayout()
        layout.addLayout(self.spectrogram_slot)
        layout.addWidget(self._section("cycles", "Breathing cycles"))
        layout.addWidget(self.cycles_table)
        layout.addWidget(self._section("about", "About this model"))
        layout.addWidget(self.summary_label)
        layout.addWidget(self._section("history", "Saved results for this patient"))
        layout.addWidget(self.history)
        layout.addStretch(1)
        self.scroll = QScrollArea()
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.scroll.setWidget(self.content)
        header = QVBoxLayout()  # stays in view while the details scroll
        header.setContentsMargins(8, 8, 8, 0)
        header.setSpacing(4)
        for widget in (self.disclaimer, self.title_label, self.input_label, self.top_label,
                       self.certainty_label):  # fmt: skip
            header.addWidget(widget)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(2)
        outer.addLayout(header)
        outer.addWidget(self.scroll, 1)

    def _section(self, key: str, title: str) -> QLabel:
        label = _label(title.upper(), "sectionTitle")
        self.sections[key] = label
        return label

    def _show_sections(self, shown: bool) -> None:
        self.empty_label.setVisible(not shown)
        for widget in (self.title_label, self.input_label, self.top_label, self.bars,
                       self.summary_label, self.sections["about"]):  # fmt: skip
            widget.setVisible(shown)
        if not shown:
            for widget in (self.disclaimer, self.certainty_label, self.synthetic_label, self.warnings_label,
                           self.sections["inputs"], self.inputs_label, self.contributions,
                           self.sections["explanation"], self.method_label, self.regions_label,
                           self.caution_label, self.controls_widget, self.overlay_note, self.sections["cycles"],
                           self.cycles_table):  # fmt: skip
                widget.setVisible(False)
            if self.spectrogram is not None:
                self.spectrogram.setVisible(False)

    # -- showing a result ---------------------------------------------------------------------
    def show_result(self, saved: SavedPrediction) -> None:
        """Show ``saved`` (live or from the database) and its saliency map."""
        self.shown = saved
        p = saved.prediction
        self._show_sections(True)
        self.disclaimer.setText(f"⚠  {p.disclaimer or 'Not for diagnostic use'} — research "
                                "software, not a medical device.")  # fmt: skip
        self.disclaimer.setVisible(bool(p.research_use_only))
        when = (saved.created_at or "").replace("T", " ")[:16]
        self.title_label.setText(f"{p.model_name} {p.version}" + (f" · {when} UTC" if when else ""))
        self.input_label.setText(f"On: {saved.input.get('text') or 'the selected data'}")
        self.bars.set_probabilities(p.labels, p.descriptions, p.probabilities, p.top_label,
                                    exclusive=self._exclusive(p))  # fmt: skip
        top_index = p.labels.index(p.top_label) if p.top_label in p.labels else 0
        self.top_label.setText(f"Most likely: {p.top_label} — {self._top_percent(p)} %")
        self.top_label.setToolTip(p.descriptions[top_index] if p.descriptions else "")
        self.certainty_label.setText(uncertainty_note(p.labels, self.bars.shown_percentages, p.top_label))
        self.certainty_label.setVisible(bool(self.certainty_label.text()))
        self.synthetic_label.setVisible(bool(p.synthetic_training_data))
        self.warnings_label.setText("\n".join(f"⚠  {w}" for w in p.warnings))
        self.warnings_label.setVisible(bool(p.warnings))
        self._show_inputs(p)
        self._show_explanation(p)
        self._show_cycles(p)
        self.summary_label.setText(p.card_summary)
        self.apply_overlay()
        self._mark_history(saved.result_id)

    def _top_percent(self, p: Any) -> int:
        return self.bars.shown_percentages[p.labels.index(p.top_label)] if p.top_label in p.labels else 0

    @staticmethod
    def _exclusive(p: Any) -> bool:
        return abs(sum(p.probabilities) - 1.0) < 0.01

    def _show_inputs(self, p: Any) -> None:
        from stethoscan.gui.models.probability_bars import INPUT_TITLES

        used = ", ".join(INPUT_TITLES.get(i, i) for i in p.inputs_used) or "not stated"
        self.inputs_label.setText(used + (". Contribution to the probability of "
                                          f"{p.top_label}:" if p.contributions else ""))  # fmt: skip
        self.contributions.set_contributions(dict(p.contributions), p.top_label)
        several = len(p.inputs_used) > 1 or bool(p.contributions)  # else the "On:" line says it
        for widget in (self.sections["inputs"], self.inputs_label):
            widget.setVisible(several)
        self.contributions.setVisible(bool(p.contributions))

    def _show_explanation(self, p: Any) -> None:
        has_map = p.saliency is not None
        for widget in (self.sections["explanation"], self.method_label):
            widget.setVisible(True)
        if p.saliency_method:
            where = {"volume": "on the scan (all three planes)", "image": "on the scan slice",
                     "spectrogram": "on the spectrogram below"}.get(p.saliency_space or "", "")
            self.method_label.setText(f"{METHOD_TITLES.get(p.saliency_method, p.saliency_method)} "
                                      f"map {where}. Strongest regions:")  # fmt: skip
        else:
            self.method_label.setText(no_map_reason(p))
        regions = "".join(f"<li>{r}</li>" for r in p.saliency_regions)
        self.regions_label.setText(f"<ul style='margin-left:-20px'>{regions}</ul>" if regions else "")
        self.regions_label.setVisible(bool(regions))
        caution = caution_for(p.model_name, p.saliency_method) if has_map else ""
        self.caution_label.setText(caution)
        self.caution_label.setVisible(bool(caution))
        self.controls_widget.setVisible(has_map)
        self.overlay_note.setVisible(False)
        audio = self._recording_shown(p)
        if audio:
            self._ensure_spectrogram()
            self.spectrogram.set_saliency(p.saliency, p.saliency_axes)
            self.spectrogram.set_background(None, None)
            self._start_background(p)
        if self.spectrogram is not None:
            self.spectrogram.setVisible(audio)

    def _recording_shown(self, p: Any) -> bool:
        """A recording result whose spectrogram can be drawn (with or without a map)."""
        on_spectrogram = p.saliency is not None and p.saliency_space == "spectrogram"
        has_axes = bool((p.saliency_axes or {}).get("frequencies_hz"))
        recorded = bool(self.shown and self.shown.input.get("recording_path"))
        return on_spectrogram or (has_axes and recorded)

    def _show_cycles(self, p: Any) -> None:
        cycles = list((p.details or {}).get("cycles") or [])
        shown = bool(cycles)
        self.sections["cycles"].setVisible(shown)
        self.cycles_table.setVisible(shown)
        if not shown:
            return
        summary = (p.details or {}).get("summary", "")
        self.sections["cycles"].setText(f"BREATHING CYCLES — {summary}" if summary else "BREATHING CYCLES")
        self.cycles_table.setRowCount(len(cycles))
        for row, cycle in enumerate(cycles):
            values = (f"{cycle['start_s']:.2f}–{cycle['end_s']:.2f}", str(cycle.get("label", "")),
                      f"{100 * float(cycle.get('probability', 0)):.0f} %", str(cycle.get("evidence", "")))  # fmt: skip
            for col, text in enumerate(values):
                item = QTableWidgetItem(text)
                item.setToolTip(text)
                self.cycles_table.setItem(row, col, item)
        self._fit_cycles_table()
        if self.spectrogram is not None and self.spectrogram.isVisibleTo(self):
            rows = len((p.saliency_axes or {}).get("frequencies_hz") or []) or p.saliency.shape[0]
            self.spectrogram.set_cycles(cycles, rows)

    def _fit_cycles_table(self) -> None:
        """Rows as tall as their wrapped evidence; the table as tall as its rows (up to 360 px)."""
        table = self.cycles_table
        table.resizeRowsToContents()
        height = table.horizontalHeader().height() + sum(table.rowHeight(r) for r in range(table.rowCount()))
        table.setFixedHeight(min(height + 4, 360))

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt API)
        super().resizeEvent(event)
        if self.cycles_table.isVisible():
            self._fit_cycles_table()

    # -- the spectrogram (audio results) ---------------------------------------------------------
    def _ensure_spectrogram(self) -> None:
        if self.spectrogram is None:
            from stethoscan.gui.models.spectrogram_saliency import SpectrogramSaliencyView

            self.spectrogram = SpectrogramSaliencyView()
            self.spectrogram_slot.addWidget(self.spectrogram)
            self._on_overlay_controls()

    def _start_background(self, p: Any) -> None:
        from stethoscan.gui.models.spectrogram_saliency import recording_log_mel

        path = self.shown.input.get("recording_path") if self.shown else None
        if not path:
            return
        job = self.context.workers.submit("Computing the spectrogram", recording_log_mel, path, p.model_name)
        shown = self.shown
        job.finished.connect(lambda result: self._on_background(shown, result))
        job.failed.connect(lambda _exc: self._note("The recording's spectrogram could not be "
                                                   "computed; the map is shown alone."))  # fmt: skip
        self.spectrogram_job = job

    def _on_background(self, shown: Any, result: dict[str, Any]) -> None:
        if shown is self.shown and self.spectrogram is not None:
            self.spectrogram.set_background(result["db"], result["times_s"])

    # -- overlays --------------------------------------------------------------------------------
    def _on_overlay_controls(self) -> None:
        opacity = self.opacity_slider.value() / 100.0
        if self.spectrogram is not None:
            self.spectrogram.set_colormap(self.colormap_combo.currentData())
            self.spectrogram.set_opacity(opacity)
            self.spectrogram.set_overlay_visible(self.overlay_box.isChecked())
        self._overlay_timer.start()  # the volume overlay: coalesce slider drags

    def overlay_spec(self) -> dict[str, Any] | None:
        """The scan overlay for the shown result on the open volume, or None (with a note why)."""
        p = self.shown.prediction if self.shown else None
        if p is None or p.saliency is None or p.saliency_space not in ("volume", "image"):
            return None
        series_uid = getattr(self.context.series, "series_uid", None)
        data, why = map_on_volume_grid(p, self.shown.input, self.context.volume, series_uid)
        if data is None:
            self._note(why)
            return None
        method = METHOD_TITLES.get(p.saliency_method or "", p.saliency_method or "map")
        return {"data": data, "kind": "heatmap", "colormap": self.colormap_combo.currentData(),
                "opacity": self.opacity_slider.value() / 100.0,
                "label": f"{method} ({p.top_label})"}  # fmt: skip

    def apply_overlay(self) -> None:
        """Send the shown result's map to the scan viewer, or remove it."""
        p = self.shown.prediction if self.shown else None
        if p is None or p.saliency_space == "spectrogram":
            return
        spec = self.overlay_spec() if self.overlay_box.isChecked() else None
        if spec is not None:
            self.overlay_note.setVisible(False)
        self.context.scan_overlay_changed.emit(OVERLAY_NAME, spec)
        self.overlay_emitted.emit(OVERLAY_NAME, spec)

    def _note(self, text: str) -> None:
        self.overlay_note.setText(text)
        self.overlay_note.setVisible(True)

    # -- history -------------------------------------------------------------------------------
    def _on_results_changed(self) -> None:
        latest = getattr(self.context, "latest_prediction", None)
        self.reload_history()
        if latest is not None and (self.shown is None or latest.result_id != self.shown.result_id):
            self.show_result(latest)

    def _on_patient_changed(self) -> None:
        self.shown = None
        self._show_sections(False)
        self.reload_history()
        if self.history_rows:
            self.open_saved(self.history_rows[0])

    def reload_history(self) -> None:
        patient = self.context.patient
        self.history_rows = patient_result_rows(self.context.store, patient.id) if patient else []
        self.history.clear()
        for row in self.history_rows:
            result = row["result"]
            when = str(row.get("created_at", "")).replace("T", " ")[:16]
            item = QListWidgetItem(f"{when} · {row['model_name']} {row['model_version']} · "
                                   f"{result.get('top_label', '?')} "
                                   f"{100 * float(result.get('top_probability', 0)):.0f} %")  # fmt: skip
            item.setToolTip((result.get("input") or {}).get("text", ""))
            item.setData(Qt.ItemDataRole.UserRole, int(row["id"]))
            self.history.addItem(item)
        self.sections["history"].setVisible(bool(self.history_rows))
        self.history.setVisible(bool(self.history_rows))
        if self.shown is not None:
            self._mark_history(self.shown.result_id)

    def _mark_history(self, result_id: int) -> None:
        for row in range(self.history.count()):
            item = self.history.item(row)
            if item.data(Qt.ItemDataRole.UserRole) == result_id:
                self.history.blockSignals(True)
                self.history.setCurrentRow(row)
                self.history.blockSignals(False)

    def _on_history_chosen(self, item: QListWidgetItem) -> None:
        result_id = item.data(Qt.ItemDataRole.UserRole)
        if self.shown is not None and self.shown.result_id == result_id:
            return
        row = next((r for r in self.history_rows if int(r["id"]) == result_id), None)
        if row is not None:
            self.open_saved(row)

    def open_saved(self, row: dict[str, Any]) -> Any:
        """Read a saved result and its map (io pool), then show it."""
        job = self.context.workers.submit("Opening a saved result", _read_saved, row)
        job.finished.connect(self.show_result)
        job.failed.connect(lambda exc: self._note(f"The saved result could not be opened: {exc}"))
        self.load_job = job
        return job


def _read_saved(row: dict[str, Any], task: Any = None) -> SavedPrediction:
    return prediction_from_row(row)
