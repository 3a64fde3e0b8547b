"""The analysis panel in the review view on real recordings: breath figures and proposed cycles
accepted as markers, the voice report table and pitch contour, features, CSV export,
preprocessing listening, cancel, and the model results with their notice."""

from __future__ import annotations

import csv

import numpy as np
import pytest
from gui_gestures import drag
from PySide6.QtCore import QPointF, Qt

from stethoscan.gui.studio.model_results_view import ModelResultsView
from stethoscan.gui.studio.voice_report_table import OUT_OF_RANGE_BG

pytestmark = pytest.mark.real_data


@pytest.fixture
def context(make_context):
    return make_context("ANALYSIS-TEST", "Analysis test")


@pytest.fixture
def view(review_view):
    return review_view


def open_and_analyse(view, qtbot, path, kind: str):
    before = view.take
    view.import_file(path)
    qtbot.waitUntil(lambda: view.take is not None and view.take is not before, timeout=20000)
    panel = view.analysis
    panel.kind_combo.setCurrentIndex(panel.kind_combo.findData(kind))
    panel.run()
    assert panel.is_running and panel.cancel_button.isEnabled()
    qtbot.waitUntil(lambda: panel.result is not None, timeout=60000)
    qtbot.waitUntil(lambda: not panel.is_running, timeout=60000)  # the model job too, if any
    return panel.result


def test_breath_analysis_shows_rate_ratio_and_proposes_phases_to_accept(view, context, qtbot, shared_data, tmp_path,
                                                                       monkeypatch):
    result = open_and_analyse(view, qtbot, shared_data / "icbhi-sample" / "104_1b1_Ll_sc_Litt3200.wav", "breath")
    panel = view.analysis
    summary = panel.summary.text()
    assert f"{result.breathing_rate_bpm:.1f}" in summary and "breaths/min" in summary
    assert f"{result.ie_ratio:.2f}" in summary and "I/E ratio" in summary
    # The breathing phases are proposed over the waveform and spectrogram (cycles are implied).
    phases = [s for s in result.segments if s[2] in ("inspiration", "expiration")]
    proposals = view.markers.proposals
    assert len(proposals) == len(phases) > 0
    assert sorted((p.start_s, p.end_s, p.label) for p in proposals) == sorted(phases)
    assert view.marker_panel.proposal_bar.isVisibleTo(view.marker_panel)
    assert context.store.list_markers(view.recording.id) == []  # nothing saved before accepting
    # Dragging across the proposals selects time; it does not move them.
    vb = view.waveform.view_box
    start, end = (QPointF(view.graphics.mapFromScene(vb.mapViewToScene(QPointF(t, 0.0)))) for t in (3.3, 4.4))
    before = [(p.start_s, p.end_s) for p in view.markers.proposals]
    drag(qtbot, view, start, end)
    assert view.selection.span() == pytest.approx((3.3, 4.4), abs=0.1)
    assert [(p.start_s, p.end_s) for p in view.markers.proposals] == before
    # The clinician moves one proposal's edge with the mouse, then accepts them all.
    first = proposals[0]
    edge = view.markers.regions_of(first)[0].lines[0]
    grab = QPointF(view.graphics.mapFromScene(vb.mapViewToScene(QPointF(first.start_s, 0.0))))
    moved = QPointF(view.graphics.mapFromScene(vb.mapViewToScene(QPointF(first.start_s + 0.3, 0.0))))
    old_start = first.start_s
    drag(qtbot, view, grab, moved)
    assert first.start_s == pytest.approx(old_start + 0.3, abs=0.08) and edge.value() == pytest.approx(first.start_s)
    view.marker_panel.accept_button.click()
    saved = context.store.list_markers(view.recording.id)
    assert len(saved) == len(phases)
    assert saved[0].source == "clinician" and saved[0].start_s == pytest.approx(first.start_s, abs=1e-3)
    assert {m.source for m in saved[1:]} == {"auto"}
    # Features: one per cycle, shown as images and plots, exported as CSV.
    features = panel.features
    assert features.segment_combo.count() == len(result.segment_features) > 0
    assert features.image.image.shape == result.segment_features[0].log_mel_db.shape
    features.view_combo.setCurrentText("LPC envelope vs spectrum")
    curves = [item for item in features.plot.listDataItems()]
    assert len(curves) == 2 and curves[1].xData.max() == pytest.approx(2000.0, rel=0.01)
    csv_path = panel.export_features_csv(tmp_path / "features.csv")
    with csv_path.open() as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == len(result.features) and "mfcc0_mean" in rows[0] and "lpc1" in rows[0]
    # Preprocessing steps can be listened to before and after.
    assert len(panel.listen_buttons) == len(result.preprocessed.steps) == 3
    played = []
    monkeypatch.setattr(view.playback, "play", lambda samples, rate: played.append((samples, rate)))
    panel.listen_buttons[2][0].click()
    panel.listen_buttons[2][1].click()
    gate = result.preprocessed.steps[2]
    assert played[0][0] is gate.before and played[1][0] is gate.after and played[1][1] == gate.rate_after_hz
    # The model tab always carries the notice.
    assert "Not for diagnostic use" in panel.model_view.notice.text()
    model_text = panel.model_view.summary.text()
    if panel.model_view.table.rowCount() == 0:  # no model package installed here: said so
        assert "install" in model_text or "not part of this build" in model_text
    else:
        assert panel.model_view.table.rowCount() == len(result.model_results)


def test_figures_follow_the_clinicians_saved_markers(view, context, qtbot, shared_data):
    """Accepted phases give the automatic rate again; the expert's own cycle starts, marked by
    hand, give the expert's rate (here where the automatic rate is about half of it)."""
    wav = shared_data / "icbhi-sample" / "104_1b1_Ll_sc_Litt3200.wav"
    result = open_and_analyse(view, qtbot, wav, "breath")
    panel = view.analysis
    assert not panel.marker_figures.isVisibleTo(panel)  # nothing saved yet
    view.marker_panel.accept_button.click()
    text = panel.marker_figures.text()
    assert text.startswith("From the saved markers:") and panel.marker_figures.isVisibleTo(panel)
    marked_rate = float(text.split(":")[1].split("breaths/min")[0])
    assert marked_rate == pytest.approx(result.breathing_rate_bpm, abs=0.051)  # the same cycles
    for marker in list(view.markers.saved):
        view.markers.remove(marker)
    assert not panel.marker_figures.isVisibleTo(panel)
    starts = np.loadtxt(wav.with_suffix(".txt"), ndmin=2)[:, 0]
    for start in starts:
        view.markers.add(start, start + 0.6, "inspiration")
    view.markers.add(2.0, 2.4, "cough")
    whole = [b - a for a, b in zip(starts[:-1], starts[1:], strict=True) if 1.0 <= b - a <= 10.0]
    expected = 60.0 * len(whole) / sum(whole)
    assert f"{expected:.1f} breaths/min over {len(whole)} cycles" in panel.marker_figures.text()
    assert "1 cough" in panel.marker_figures.text()
    saved = context.store.list_markers(view.recording.id)  # and they are in the database
    assert sum(m.label == "inspiration" for m in saved) == len(starts)


def test_voice_report_table_flags_and_pitch_contour(view, qtbot, shared_data):
    result = open_and_analyse(view, qtbot, shared_data / "fsdd-voice" / "0_jackson_0.wav", "voice")
    table = view.analysis.voice_table
    measures = result.voice_report["measures"]
    assert table.rowCount() == len(measures) >= 15
    by_key = {table.item(r, 0).data(Qt.ItemDataRole.UserRole): r for r in range(table.rowCount())}
    f0 = next(m for m in measures if m["key"] == "f0_mean")
    row = by_key["f0_mean"]
    assert float(table.item(row, 1).text()) == pytest.approx(f0["value"], rel=1e-3)
    assert table.item(row, 2).text() == "Hz" and table.item(row, 3).text() == "85 – 255"
    for m in measures:
        r = by_key[m["key"]]
        out_of_range = m["flag"] in ("high", "low")
        assert (table.item(r, 4).background().color() == OUT_OF_RANGE_BG) == out_of_range
        expected = {"high": "Above range", "low": "Below range", "": "In range"}.get(m["flag"])
        if expected is not None:
            assert table.item(r, 4).text() == expected
    # The F0 contour is drawn over the spectrogram at the measured pitch.
    x, y = view.spectrogram.pitch_curve.getData()
    voiced = np.isfinite(y)
    assert voiced.sum() > 5
    assert np.nanmedian(y) == pytest.approx(np.nanmedian(np.asarray(result.voice_report["pitch_hz"], float)), rel=0.01)
    assert view.spectrogram.legend.isVisible()
    assert {p.label for p in view.markers.proposals} >= {"voiced"}


def test_cough_count_and_cancel(view, qtbot, shared_data):
    panel = view.analysis
    view.import_file(shared_data / "icbhi-sample" / "101_1b1_Al_sc_Meditron.wav")
    qtbot.waitUntil(lambda: view.take is not None, timeout=20000)
    panel.kind_combo.setCurrentIndex(panel.kind_combo.findData("cough"))
    panel.run()
    job = panel.job
    panel.cancel_button.click()
    qtbot.waitUntil(lambda: not job.is_running, timeout=30000)
    assert job.state == "cancelled" and panel.result is None
    assert panel.run_button.isEnabled() and not panel.progress.isVisible()
    panel.run()
    qtbot.waitUntil(lambda: panel.result is not None, timeout=60000)
    assert panel.result.cough_count is not None
    assert f"{panel.result.cough_count}" in panel.summary.text() and "coughs" in panel.summary.text()
    assert len([p for p in view.markers.proposals if p.label == "cough"]) == panel.result.cough_count


def test_model_results_show_probabilities_evidence_and_notices(qtbot):
    view = ModelResultsView()
    qtbot.addWidget(view)
    rows = [
        {"start_s": 1.15, "end_s": 4.85, "label": "wheeze", "probabilities": {"normal": 0.2, "wheeze": 0.7, "crackle": 0.1},
         "evidence": "Continuous musical sound at 400 Hz during expiration (2.9-4.8 s).",
         "synthetic_training_data": True, "disclaimer": "Not for diagnostic use"},
        {"start_s": 4.85, "end_s": 6.83, "top_label": "normal", "labels": ["normal", "wheeze"],
         "probabilities": [0.9, 0.1]},
        {"start_s": 6.83, "end_s": 9.0, "label": "crackle", "probabilities": {"crackle": 0.9996, "normal": 0.0004}},
    ]
    view.set_results(rows, "")
    assert view.table.rowCount() == 3
    assert view.table.item(2, 2).text() == ">99 %"  # a model is never shown as certain
    assert view.table.item(2, 2).toolTip() == "crackle >99 % · normal <1 %"
    assert view.table.item(0, 2).text() == "70 %"
    assert view.table.item(0, 2).toolTip() == "wheeze 70 % · normal 20 % · crackle 10 %"
    assert view.table.item(1, 1).text() == "normal" and view.table.item(1, 2).toolTip() == "normal 90 % · wheeze 10 %"
    assert "400 Hz" in view.table.item(0, 3).text()
    view.table.selectRow(0)
    assert view.details.text().startswith("wheeze 70 %") and "400 Hz" in view.details.text()
    assert "Not for diagnostic use" in view.notice.text() and "synthetic" in view.notice.text()
    assert "normal: 1" in view.summary.text() and "wheeze: 1" in view.summary.text()
    view.set_results(rows, "", warning="This recording is unlike the model's training data (x).")
    assert view.notice.text().endswith("This recording is unlike the model's training data (x).")
    view.set_results([], "The respiratory sound model is not installed in this build.")
    assert "synthetic" not in view.notice.text() and "not installed" in view.summary.text()
    assert "unlike" not in view.notice.text()
    assert view.table.horizontalHeaderItem(0).text() == "Cycle (s)"
    view.set_results([{**rows[0], "segmentation": "fixed windows"}], "")  # no cycles were found
    assert view.table.horizontalHeaderItem(0).text() == "Window (s)"


def test_features_tab_says_when_the_analysis_found_no_segments(qtbot):
    from stethoscan.gui.studio.feature_plots import FeatureView

    view = FeatureView()
    qtbot.addWidget(view)
    view.set_features([], None)
    assert "Run the analysis" in view.plot.titleLabel.text
    view.set_features([], (np.zeros(4000, np.float32), 4000.0))  # analysed: nothing found
    assert "found no segments" in view.plot.titleLabel.text and not view.export_button.isEnabled()
