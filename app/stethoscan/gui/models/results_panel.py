"""The Results dock: what a model said, how sure it is, why, and with which caveats.

Shows the calibrated probabilities as bars with the labels' plain-language descriptions (top
label highlighted), "Not for diagnostic use" whenever the package is research-only, the
synthetic-training notice, warnings beside the result, the inputs used and their contributions,
the saliency regions in words and the saliency overlay controls (toggle, opacity, colour map).
A volume's map goes to the scan viewer through ``context.scan_overlay_changed`` (all three
planes); a recording's map is drawn here over its log-mel spectrogram, with the per-cycle
results. Results saved with the patient's sessions are listed and can be reopened.

The cycle table, the saliency display and the saved-results list are mixins of
:class:`ResultsPanel` in :mod:`result_cycles_table`, :mod:`result_saliency_display` and
:mod:`result_history`.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QScrollArea,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from stethoscan.gui.models.prediction_request import SavedPrediction
from stethoscan.gui.models.probability_bars import ContributionBars, ProbabilityBars, shown_percent
from stethoscan.gui.models.result_cycles_table import ResultCyclesTable
from stethoscan.gui.models.result_history import ResultHistory
from stethoscan.gui.models.result_saliency_display import (
    COLOURMAPS,
    METHOD_TITLES,
    ResultSaliencyDisplay,
)
from stethoscan.gui.models.saliency_caution import caution_for

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


class ResultsPanel(ResultCyclesTable, ResultSaliencyDisplay, ResultHistory, QWidget):
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
        self.top_label.setText(f"Most likely: {p.top_label} — {shown_percent(self._top_percent(p))}")
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
        from stethoscan.gui.models.probability_bars import input_titles

        titles = input_titles(p.inputs_used, p.details)
        # only the inputs really used (the pipeline gives 0 for an absent one)
        contributions = {k: v for k, v in p.contributions.items() if k in p.inputs_used}
        used = ", ".join(titles.values()) or "not stated"
        self.inputs_label.setText(used + (". Contribution to the probability of "
                                          f"{p.top_label}:" if contributions else ""))  # fmt: skip
        self.contributions.set_contributions(contributions, p.top_label)  # short titles
        several = len(p.inputs_used) > 1 or bool(contributions)  # else the "On:" line says it
        for widget in (self.sections["inputs"], self.inputs_label):
            widget.setVisible(several)
        self.contributions.setVisible(bool(contributions))

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
