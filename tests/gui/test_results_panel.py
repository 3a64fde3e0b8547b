"""The Results panel: a prediction run through the Models panel end to end, its bars, notices,
warnings, contributions and saliency overlay, saved in the database and listed again when the
patient is reopened; audio maps drawn over the recording's spectrogram."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile
from ai_test_packages import (
    image2d_manifest,
    install_test_package,
    mci_manifest,
    mr_series,
    mr_volume,
    respiratory_manifest,
    volume3d_manifest,
)

from stethoscan.core import paths
from stethoscan.gui.models.model_panel import ModelPanel
from stethoscan.gui.models.prediction_request import SavedPrediction
from stethoscan.gui.models.probability_bars import rounded_percentages
from stethoscan.gui.models.result_saliency_display import OVERLAY_NAME
from stethoscan.gui.models.results_panel import ResultsPanel
from stethoscan.inference.prediction import Prediction

LESION_2D, LESION_3D = "gui-results-2d", "gui-results-3d"
MCI, RESP = "gui-results-mci", "gui-results-resp"


@pytest.fixture(scope="module", autouse=True)
def _uninstall_test_packages(uninstall_test_packages):
    """Test packages installed here are removed after the module."""


@pytest.fixture(scope="module")
def packages(tmp_path_factory):
    folder = tmp_path_factory.mktemp("packages")
    for manifest in (image2d_manifest(LESION_2D), volume3d_manifest(LESION_3D), mci_manifest(MCI),
                     respiratory_manifest(RESP)):
        install_test_package(folder, manifest)


@pytest.fixture
def context(make_context):
    return make_context("P-7", "Roe^Ann", "19470505", "F", 14)


@pytest.fixture
def panels(context, packages, qtbot):
    models, results = ModelPanel(context), ResultsPanel(context)
    for widget in (models, results):
        qtbot.addWidget(widget)
        widget.resize(400, 900)
        widget.show()
    return models, results


def run_model(models, name, qtbot):
    assert models.select_model(name), [o.name for o in models.offers]
    with qtbot.waitSignal(models.prediction_finished, timeout=60000) as blocker:
        models.run()
    return blocker.args[0]


def test_percentages_add_up_to_100_for_exclusive_labels():
    assert sum(rounded_percentages([1 / 3, 1 / 3, 1 / 3])) == 100
    assert rounded_percentages([0.666, 0.334]) == [67, 33]
    assert sum(rounded_percentages([0.2349, 0.2411, 0.2587, 0.2653])) == 100
    assert rounded_percentages([0.9, 0.8], exclusive=False) == [90, 80]  # multi-label: as is


def test_a_scan_prediction_end_to_end_with_its_overlay_and_history(panels, context, qtbot):
    models, results = panels
    volume = mr_volume()
    context.set_volume(mr_series(volume), volume)
    overlays = []
    context.scan_overlay_changed.connect(lambda name, spec: overlays.append((name, spec)))
    saved = run_model(models, LESION_3D, qtbot)
    p = saved.prediction

    # the result shown, with its bars, notices and regions
    assert results.shown is saved
    assert len(results.bars.bars) == 2 and sum(results.bars.shown_percentages) == 100
    assert [b.value for b in results.bars.bars] == pytest.approx(p.probabilities)
    assert results.bars.shown_percentages[p.labels.index(p.top_label)] == max(results.bars.shown_percentages)
    assert "Not for diagnostic use" in results.disclaimer.text() and results.disclaimer.isVisible()
    assert results.synthetic_label.isVisible() and "synthetic" in results.synthetic_label.text()
    assert f"Most likely: {p.top_label}" in results.top_label.text()
    assert "a bright round lesion" in " ".join(
        w.text() for w in results.bars.findChildren(type(results.top_label)))
    assert "Grad-CAM" in results.method_label.text() and p.saliency_regions
    assert p.saliency_regions[0] in results.regions_label.text()

    # the overlay on the volume's grid
    name, spec = overlays[-1]
    assert name == OVERLAY_NAME and spec["kind"] == "heatmap"
    assert spec["data"].shape == volume.shape and 0.0 <= spec["data"].min() <= spec["data"].max() <= 1.0
    results.opacity_slider.setValue(80)
    results.colormap_combo.setCurrentIndex(results.colormap_combo.findData("turbo"))
    qtbot.waitUntil(lambda: overlays[-1][1] is not None and overlays[-1][1]["opacity"] == 0.8
                    and overlays[-1][1]["colormap"] == "turbo", timeout=2000)
    results.overlay_box.setChecked(False)
    qtbot.waitUntil(lambda: overlays[-1] == (OVERLAY_NAME, None), timeout=2000)
    results.overlay_box.setChecked(True)

    # saved in the database, with the map beside it
    rows = context.store.list_results(context.session_id)
    assert len(rows) == 1 and rows[0]["result"]["top_label"] == p.top_label
    assert (paths.data_dir() / rows[0]["result"]["saliency_file"]).is_file()

    # the patient is closed and opened again: the result is listed and shown from the database
    first = context.patient
    context.set_patient(context.store.upsert_patient("P-8", "Other^Pat"))
    assert results.shown is None and results.history.count() == 0
    context.set_patient(context.store.get_patient(first.id))
    qtbot.waitUntil(lambda: results.shown is not None, timeout=10000)
    assert results.history.count() == 1 and results.shown.result_id == saved.result_id
    reread = results.shown.prediction.saliency
    assert reread.shape == volume.shape and np.abs(reread - p.saliency).max() <= 1 / 255 + 1e-6
    qtbot.waitUntil(lambda: overlays[-1][1] is not None, timeout=2000)
    assert overlays[-1][1]["data"].shape == volume.shape


def test_a_map_of_another_scan_is_not_drawn_on_the_open_one(panels, context, qtbot):
    models, results = panels
    volume = mr_volume()
    context.set_volume(mr_series(volume), volume)
    run_model(models, LESION_3D, qtbot)
    other = mr_volume(uid="9.9.9")
    overlays = []
    context.scan_overlay_changed.connect(lambda name, spec: overlays.append((name, spec)))
    context.set_volume(mr_series(other), other)
    qtbot.waitUntil(lambda: bool(overlays), timeout=2000)
    assert overlays[-1] == (OVERLAY_NAME, None)
    assert "Open the scan this result was computed on" in results.overlay_note.text()


def test_a_2d_models_map_is_drawn_on_the_slice_it_was_computed_on(panels, context, qtbot):
    models, results = panels
    volume = mr_volume()
    context.set_volume(mr_series(volume), volume)
    overlays = []
    context.scan_overlay_changed.connect(lambda name, spec: overlays.append((name, spec)))
    saved = run_model(models, LESION_2D, qtbot)
    k = saved.prediction.details["slice_index"]
    assert k == volume.shape[0] // 2 and any("only slice" in w for w in saved.prediction.warnings)
    data = overlays[-1][1]["data"]
    assert data.shape == volume.shape and data[k].max() > 0
    assert not np.delete(data, k, axis=0).any()
    assert "on the scan slice" in results.method_label.text()


def test_warnings_inputs_and_contributions_are_shown_beside_the_result(panels, context, qtbot):
    models, results = panels
    for day, mmse, moca in (("2021-01-10", 29, 27), ("2022-01-12", 26, 23), ("2023-01-15", 24, 20)):
        context.store.add_visit(context.patient.id, day, mmse=mmse, moca=moca)
    volume = mr_volume()  # 12 slices: the MCI model cannot use it, the history still counts
    context.set_volume(mr_series(volume), volume)
    saved = run_model(models, MCI, qtbot)
    p = saved.prediction
    assert p.inputs_used == ["clinical_scores"]
    assert any("scan was not used" in w for w in p.warnings)
    assert results.warnings_label.isVisible()
    assert all(w in results.warnings_label.text() for w in p.warnings)
    # the history held the scores and the patient's age (from the birth date), sex and education
    assert p.details["history_inputs"] == ["MMSE", "MoCA", "age", "sex", "education"]
    assert "Cognitive scores (MMSE, MoCA) with age, sex, education" in results.inputs_label.text()
    assert set(results.contributions.bars) == {"clinical_scores"} and p.contributions["scan"] == 0
    assert len(results.bars.bars) == 3 and sum(results.bars.shown_percentages) == 100
    assert "3 visits" in results.input_label.text()


def _mri_only_prediction(contributions: dict[str, float]) -> Prediction:
    return Prediction(
        model_name=MCI, version="0.1.0", labels=["CN", "MCI", "dementia"],
        descriptions=["normal", "mild", "dementia"], probabilities=[0.8, 0.19, 0.01],
        top_label="CN", top_probability=0.8, synthetic_training_data=True,
        warnings=["No cognitive scores (MMSE/MoCA) were given: the history was not used."],
        inputs_used=["scan"], contributions=contributions, details={"history_inputs": []},
    )  # fmt: skip


@pytest.mark.parametrize("contributions", [{"scan": 0.23}, {"scan": 0.23, "clinical_scores": 0.0}],
                         ids=["scan-only", "absent-input-at-0"])  # fmt: skip
def test_an_mri_only_result_lists_only_the_scan(panels, qtbot, contributions):
    """No contradiction: the warning says no scores, so neither the inputs nor the bars name them."""
    _, results = panels
    results.show_result(SavedPrediction(1, _mri_only_prediction(contributions), {"text": "T1"}))
    assert "No cognitive scores" in results.warnings_label.text()
    assert "Cognitive" not in results.inputs_label.text()
    assert list(results.contributions.bars) == ["scan"]
    labels = " ".join(w.text() for w in results.contributions.findChildren(type(results.top_label)))
    assert "Cognitive" not in labels and "+23.0 pts" in labels


def _audio_prediction(times, freqs) -> Prediction:
    saliency = np.zeros((len(freqs), len(times)), np.float32)
    saliency[10:20, 100:140] = 1.0
    cycles = [{"index": 0, "start_s": 0.0, "end_s": 2.5, "label": "normal", "probability": 0.8,
               "evidence": "no crackle or wheeze evidence"},
              {"index": 1, "start_s": 2.5, "end_s": 5.0, "label": "wheeze", "probability": 0.7,
               "evidence": "wheeze evidence at 2.00-2.80 s, 300-450 Hz"}]  # fmt: skip
    return Prediction(
        model_name=RESP, version="0.1.0", labels=["normal", "crackle", "wheeze", "both"],
        descriptions=["none", "crackles", "wheezes", "both"], probabilities=[0.2, 0.1, 0.6, 0.1],
        top_label="wheeze", top_probability=0.6, synthetic_training_data=True, saliency=saliency,
        saliency_space="spectrogram", saliency_method="gradcam",
        saliency_regions=["2.00-2.80 s, 300-450 Hz"],
        saliency_axes={"times_s": list(times), "frequencies_hz": list(freqs)},
        details={"cycles": cycles, "summary": "wheezes in 1 of 2 cycles"},
    )  # fmt: skip


def test_audio_saliency_is_drawn_over_the_recordings_spectrogram(panels, context, qtbot, tmp_path):
    _, results = panels
    rate = 8000
    t = np.arange(5 * rate) / rate
    wav = tmp_path / "chest.wav"
    soundfile.write(wav, (0.2 * np.sin(2 * np.pi * 400 * t)).astype(np.float32), rate)
    times = np.arange(250) * 0.02
    from stethoscan.training.respiratory_features import PatchSpec

    freqs = PatchSpec().mel_frequencies_hz()  # the package's bands (48, 50-2000 Hz)
    emitted = []
    context.scan_overlay_changed.connect(lambda *args: emitted.append(args))
    results.show_result(SavedPrediction(1, _audio_prediction(times, freqs),
                                        {"recording_path": str(wav), "text": "chest.wav"}))  # fmt: skip
    view = results.spectrogram
    assert view is not None and view.isVisible() and emitted == []  # nothing sent to the scan viewer
    assert view.overlay.image.shape == (48, 250)
    qtbot.waitUntil(lambda: view.background.image is not None, timeout=20000)
    background = view.background.image
    assert background.shape[0] == 48
    assert int(np.argmax(background.mean(axis=1))) == int(np.argmin(np.abs(freqs - 400)))  # the 400 Hz tone
    ticks = [label for _, label in view.plot.getAxis("left")._tickLevels[0]]
    assert "100" in ticks and "1000" in ticks
    assert results.cycles_table.rowCount() == 2
    assert results.cycles_table.item(1, 3).text().startswith("wheeze evidence at 2.00-2.80 s")
    assert "wheezes in 1 of 2 cycles" in results.sections["cycles"].text()
    results.overlay_box.setChecked(False)
    assert not view.overlay.isVisible()
    results.opacity_slider.setValue(30)
    assert view.overlay.opacity() == pytest.approx(0.3)


def test_history_holds_every_session_of_the_patient_and_no_one_elses(context):
    from stethoscan.gui.models.prediction_request import patient_result_rows

    store, me = context.store, context.patient
    other = store.upsert_patient("P-OTHER", "Other^Pat")
    ids = []
    for patient in (me, other, me):
        session = store.start_session(patient.id)
        ids.append(store.add_result(session, "m", "1", "{}", {"top_label": "x", "top_probability": 0.5}))
    rows = patient_result_rows(store, me.id)
    assert [r["id"] for r in rows] == [ids[2], ids[0]]
    assert [r["id"] for r in patient_result_rows(store, other.id)] == [ids[1]]


def test_single_frame_peaks_stay_visible_on_a_long_recording():
    """The drawn map widens each value over a few frames (1/250 of the recording); the peak keeps
    its place and value and the stored map is unchanged."""
    from stethoscan.gui.models.spectrogram_saliency import visible_map

    saliency = np.zeros((48, 1000), np.float32)
    saliency[20, 400] = 1.0
    saliency[30, 700] = 0.4
    shown = visible_map(saliency)
    assert shown.shape == saliency.shape and saliency.sum() == pytest.approx(1.4)
    assert np.flatnonzero(shown[20]).tolist() == [398, 399, 400, 401, 402]
    assert shown[30, 698:703].tolist() == [pytest.approx(0.4)] * 5 and shown.max() == 1.0
    assert (shown[[20, 30]] > 0).sum() == 10 and not shown[19].any()
    assert np.array_equal(visible_map(saliency[:, :200]), saliency[:, :200])  # short: as it is


def test_caution_when_random_networks_also_hit_the_evidence():
    """Said only when random networks hit the evidence clearly more often than chance."""
    from stethoscan.gui.models.saliency_caution import random_network_caution

    mci = {"gradcam": {"pointing_game": 0.98, "subset_checks": {"randomized_pointing_game": 0.75,
                                                                "chance": 0.03}}}  # fmt: skip
    text = random_network_caution(mci, "gradcam")
    assert "75%" in text and "3%" in text and "random weights" in text
    flat = {"ig": {"randomized_pointing_game": 0.2, "chance": 0.17}}
    assert random_network_caution(flat, "ig") == ""
    assert random_network_caution(flat, "gradcam") == ""


def test_a_model_is_never_shown_as_certain(qtbot):
    """Rounded to 100 % / 0 %, a probability is shown as ">99 %" / "<1 %" in the bars, the
    headline and the per-cycle table (as in the studio's model tab)."""
    from PySide6.QtWidgets import QLabel

    from stethoscan.gui.models.probability_bars import ProbabilityBars, percent_text, shown_percent

    bars = ProbabilityBars()
    qtbot.addWidget(bars)
    bars.set_probabilities(["normal", "wheeze"], ["", ""], [0.0004, 0.9996], "wheeze")
    texts = [w.text() for w in bars.findChildren(QLabel)]
    assert bars.shown_percentages == [0, 100]
    assert "<b>&gt;99 %</b>" in texts or "<b>>99 %</b>" in texts
    assert "<1 %" in texts and "100 %" not in " ".join(texts) and "0 %" not in texts
    assert [shown_percent(v) for v in (0, 1, 57, 99, 100)] == ["<1 %", "1 %", "57 %", "99 %", ">99 %"]
    assert [percent_text(v) for v in (0.0, 0.004, 0.5, 0.996, 1.0)] == ["<1 %", "<1 %", "50 %", ">99 %", ">99 %"]
