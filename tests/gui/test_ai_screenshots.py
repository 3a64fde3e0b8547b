"""End to end through the main window (issue 4 "Done when"): a model runs on the real brain MRI
and on a real ICBHI recording, with saliency overlays, and the screenshots are saved.

- ``ai_scan_overlay.png``: visits entered in the Cognitive scores panel, the bundled mci-fusion
  model run from the Models panel on the open MRI, its Grad-CAM (validated by the package's
  sanity checks) over the scan in three planes with the top regions named, the Results panel.
- ``ai_mci_preprocessing.png``: the MCI model's brain mask and input box on the same MRI.
- ``ai_audio_saliency.png``: the bundled respiratory-cycles model on a recording with wheezes:
  per-cycle results over the recording's log-mel spectrogram, its validated saliency map over
  it, and each abnormal cycle's evidence named in time (s) and frequency (Hz).
- ``ai_audio_saliency_test_package.png``: the same display with a test package that offers
  Grad-CAM, whose map covers the whole recording (axes and extent checked).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from ai_test_packages import REPO, install_test_package, respiratory_manifest
from PySide6.QtCore import QDate, Qt
from PySide6.QtGui import QImage

from stethoscan.core.settings import Settings
from stethoscan.gui.app_context import AppContext
from stethoscan.gui.main_window import MainWindow
from stethoscan.gui.workers import Workers
from stethoscan.records.patient_store import PatientStore

OUT = REPO / "test-artifacts" / "screenshots"
pytestmark = pytest.mark.slow
REGION_IN_WORDS = r"\d+\.\d\d-\d+\.\d\d s, \d+-\d+ Hz"  # e.g. "3.20-3.90 s, 300-450 Hz"
VISITS = (("2019-04-02", "29", "27", 0.0), ("2021-05-11", "27", "24", 0.5), ("2023-06-20", "24", "20", 0.5))


def bundled_saliency(name: str) -> dict:
    """The bundled package's ``[saliency]`` table (validated methods, check figures)."""
    import tomllib

    return tomllib.loads((REPO / "models" / name / "manifest.toml").read_text("utf-8"))["saliency"]


def bundled_validated(name: str) -> list[str]:
    """The saliency methods the bundled package's own sanity checks validated."""
    return bundled_saliency(name)["validated_methods"]


def random_hit_rate(name: str, method: str) -> float:
    """How often networks with random weights hit the evidence in the package's checks."""
    checks = bundled_saliency(name)["checks"][method]
    return checks.get("subset_checks", checks)["randomized_pointing_game"]


@pytest.fixture(scope="module", autouse=True)
def _uninstall_test_packages(uninstall_test_packages):
    """Test packages installed here are removed after the module."""


@pytest.fixture
def themed(qapp):
    """The real dark theme for the screenshots; the test application is restored afterwards."""
    import pyqtgraph as pg

    from stethoscan.gui.application import apply_theme

    saved = (qapp.styleSheet(), qapp.palette(), qapp.style().name(),
             {k: pg.getConfigOption(k) for k in ("imageAxisOrder", "background", "foreground")})  # fmt: skip
    apply_theme(qapp)
    yield qapp
    sheet, palette, style, options = saved
    qapp.setStyleSheet(sheet)
    qapp.setPalette(palette)
    qapp.setStyle(style)
    pg.setConfigOptions(**options)


@pytest.fixture
def window(themed, qtbot, tmp_path):
    workers = Workers()
    store = PatientStore(tmp_path / "patients.sqlite3")
    context = AppContext(Settings(), store, workers)
    win = MainWindow(context)
    qtbot.addWidget(win)
    win.resize(1600, 1000)
    win.show()
    qtbot.waitExposed(win)
    yield win
    win.close()
    workers.shutdown()
    store.close()


def dock_panel(window, key: str):
    dock = window.docks[key]
    dock.show()
    dock.raise_()
    return dock.widget().materialize()


def save(window, qtbot, name: str) -> QImage:
    qtbot.wait(300)  # let layouts and pyqtgraph settle
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / name
    assert window.grab().save(str(path))
    image = QImage(str(path))
    assert not image.isNull() and image.width() >= 1200
    return image


def warm_pixels(image: QImage, x0: float, y0: float, x1: float, y1: float) -> int:
    """Sampled pixels in a region (fractions of the size) that are orange/red/yellow, as a
    heat map draws them; grey anatomy, blue lines and green outlines are not counted."""
    hits = 0
    for y in range(int(y0 * image.height()), int(y1 * image.height()), 2):
        for x in range(int(x0 * image.width()), int(x1 * image.width()), 2):
            c = image.pixelColor(x, y)
            hits += c.red() > 140 and c.red() - c.blue() > 70 and c.red() >= c.green()
    return hits


def enter_visits(window, qtbot) -> None:
    scores = dock_panel(window, "scores")
    for day, mmse, moca, cdr in VISITS:
        scores.date_edit.setDate(QDate.fromString(day, "yyyy-MM-dd"))
        scores.mmse_edit.setText(mmse)
        scores.moca_edit.setText(moca)
        scores.cdr_combo.setCurrentIndex(scores.cdr_combo.findData(cdr))
        assert scores.add_visit() is not None, scores.error_label.text()
    assert scores.table.rowCount() == len(VISITS)


def run_selected(window, qtbot, name: str, preferred: str):
    """Run ``name`` from the Models panel with the ``preferred`` saliency method, or the first
    one the package validated (the picker offers no other)."""
    dock_panel(window, "results")  # open before the run: it shows the live result
    models = dock_panel(window, "models")
    models.refresh()
    assert models.select_model(name), [o.name for o in models.offers]
    offered = [models.method_combo.itemData(i) for i in range(models.method_combo.count())]
    method = preferred if preferred in offered else offered[0]
    models.method_combo.setCurrentIndex(offered.index(method))
    with qtbot.waitSignal(models.prediction_finished, timeout=90000) as blocker:
        models.run()
    return models, blocker.args[0]


def show_map_in_three_planes(window, qtbot, saved) -> None:
    """The Results panel sent the map to the viewer; the cross-hair goes to its peak."""
    viewer, p = window.scan_viewer, saved.prediction
    results = dock_panel(window, "results")
    qtbot.waitUntil(lambda: results.shown is saved, timeout=5000)
    qtbot.waitUntil(lambda: "saliency" in viewer.state.overlays, timeout=5000)
    assert viewer.state.overlays["saliency"]["data"].shape == window.context.volume.shape
    assert p.saliency_regions and p.saliency_regions[0] in results.regions_label.text()
    viewer.state.set_cursor(*np.unravel_index(int(np.argmax(p.saliency)), p.saliency.shape))
    results.opacity_slider.setValue(60)


def test_mci_model_on_the_real_brain_mri_in_three_planes(window, qtbot, shared_data):
    """The bundled model with its validated Grad-CAM in three planes and the top regions named
    (``ai_scan_overlay.png``), and the preprocessing (``ai_mci_preprocessing.png``)."""
    assert "gradcam" in bundled_validated("mci-fusion")
    context, viewer = window.context, window.scan_viewer
    with qtbot.waitSignal(viewer.loading_state, timeout=90000,
                          check_params_cb=lambda state: state in ("loaded", "failed")) as loaded:
        window.open_paths([str(shared_data / "brain-t1-dicom")])
    assert loaded.args == ["loaded"] and context.volume is not None and context.patient is not None
    volume = context.volume
    enter_visits(window, qtbot)  # a clinician enters the visits, then runs the model
    viewer.actions_["three_plane"].setChecked(True)

    models, saved = run_selected(window, qtbot, "mci-fusion", "gradcam")
    p = saved.prediction
    assert p.inputs_used == ["scan", "clinical_scores"] and set(p.contributions) == set(p.inputs_used)
    assert context.store.list_results(context.session_id)[-1]["id"] == saved.result_id
    results = dock_panel(window, "results")
    qtbot.waitUntil(lambda: results.shown is saved, timeout=5000)
    assert "Not for diagnostic use" in results.disclaimer.text()
    assert sum(results.bars.shown_percentages) == 100 and len(results.bars.bars) == 3
    assert p.saliency_method == "gradcam" and p.saliency.shape == volume.shape
    assert not any("sanity checks" in w for w in p.warnings)
    show_map_in_three_planes(window, qtbot, saved)
    assert "Grad-CAM" in results.method_label.text()
    assert len(p.saliency_regions) >= 2 and all("region, slices" in r for r in p.saliency_regions)
    assert all(r in results.regions_label.text() for r in p.saliency_regions)
    # random networks also hit the atrophy in the checks: the panel says so, with the figures
    assert results.caution_label.isVisible() and "random weights" in results.caution_label.text()
    assert f"{random_hit_rate('mci-fusion', 'gradcam'):.0%}" in results.caution_label.text()
    with_map = save(window, qtbot, "ai_scan_overlay.png")
    maps = [p]

    # the preprocessing overlays; every map lies inside the brain mask the preprocessing found
    models.preprocessing_box.setChecked(True)
    qtbot.waitUntil(lambda: "brain_mask" in viewer.state.overlays, timeout=60000)
    brain = viewer.state.overlays["brain_mask"]["data"] > 0
    assert brain.shape == volume.shape and 0.05 < brain.mean() < 0.6
    for prediction in maps:
        inside = float(prediction.saliency[brain].sum() / max(prediction.saliency.sum(), 1e-9))
        assert inside > 0.9, (prediction.model_name, inside)
    results.overlay_box.setChecked(False)
    qtbot.waitUntil(lambda: "saliency" not in viewer.state.overlays, timeout=5000)
    dock_panel(window, "models")
    without_map = save(window, qtbot, "ai_mci_preprocessing.png")
    region = (0.17, 0.1, 0.72, 0.97)  # the viewer
    assert warm_pixels(with_map, *region) > warm_pixels(without_map, *region) + 30


def run_on_icbhi_recording(window, qtbot, data: Path, name: str, screenshot: str):
    """Import a real ICBHI recording (wheezes, per the data README) for a patient, show it in the
    review tab, run ``name`` on it from the Models panel and save the window as ``screenshot``."""
    from stethoscan.audio.audio_files import audio_info

    context = window.context
    wav = data / "icbhi-sample" / "103_2b2_Ar_mc_LittC2SE.wav"
    info = audio_info(wav)
    context.set_patient(context.store.upsert_patient("ICBHI-103", "ICBHI^103"))
    session = context.ensure_session()
    rec_id = context.store.add_recording(session, str(wav), int(info["rate_hz"]), task="breath",
                                         duration_s=float(info["duration_s"]), status="imported")  # fmt: skip
    window.tabs.setCurrentWidget(window.central_panels["review"])
    context.select_recording(context.store.get_recording(rec_id))
    _, saved = run_selected(window, qtbot, name, "gradcam")
    p = saved.prediction
    assert p.details["cycles"] and p.saliency_axes["frequencies_hz"]
    results = dock_panel(window, "results")
    window.resize(2000, 1050)  # the review view is wide: room for a readable results dock
    qtbot.wait(100)
    window.resizeDocks([window.browser_dock, window.docks["results"]], [180, 720], Qt.Orientation.Horizontal)
    qtbot.waitUntil(lambda: results.shown is saved, timeout=5000)
    qtbot.waitUntil(lambda: results.spectrogram.background.image is not None, timeout=30000)
    assert results.cycles_table.rowCount() == len(p.details["cycles"])
    assert "Not for diagnostic use" in results.disclaimer.text()
    qtbot.wait(200)
    results.scroll.verticalScrollBar().setValue(results.sections["explanation"].y() - 4)
    save(window, qtbot, screenshot)
    return p, results


def test_bundled_respiratory_model_on_a_real_recording(window, qtbot, shared_data):
    """The bundled model's validated map over the spectrogram, each abnormal cycle's evidence
    named in time (s) and frequency (Hz) (``ai_audio_saliency.png``)."""
    import re

    validated = bundled_validated("respiratory-cycles")
    assert validated
    p, results = run_on_icbhi_recording(window, qtbot, shared_data, "respiratory-cycles",
                                        "ai_audio_saliency.png")
    assert p.saliency_method in validated
    assert results.spectrogram.overlay.image.shape == p.saliency.shape
    assert results.spectrogram.overlay.isVisible()
    assert p.saliency_regions and p.saliency_regions[0] in results.regions_label.text()
    assert all(re.fullmatch(REGION_IN_WORDS, r) for r in p.saliency_regions), p.saliency_regions
    abnormal = [c for c in p.details["cycles"] if c["label"] != "normal"]
    assert abnormal  # recording 103 holds wheezes (data README)
    for cycle in abnormal:  # the sentence names where the evidence is, not the loudest sound
        assert re.search(r"evidence at " + REGION_IN_WORDS, cycle["evidence"]), cycle
        assert "not located" not in cycle["evidence"]
    rate = f"{random_hit_rate('respiratory-cycles', p.saliency_method):.0%}"
    assert results.caution_label.isVisible() and rate in results.caution_label.text()
    table = [results.cycles_table.item(row, 3).text() for row in range(results.cycles_table.rowCount())]
    assert any(re.search(REGION_IN_WORDS, text) for text in table)


def test_spectrogram_saliency_over_a_real_recording(window, qtbot, shared_data, tmp_path):
    """The overlay itself, with a test package whose manifest offers Grad-CAM (random weights:
    the map shows the display, not a finding)."""
    from stethoscan.gui.models.spectrogram_saliency import hz_ticks

    name = install_test_package(tmp_path, respiratory_manifest()).name
    p, results = run_on_icbhi_recording(window, qtbot, shared_data, name, "ai_audio_saliency_test_package.png")
    view = results.spectrogram
    assert p.saliency_space == "spectrogram" and p.saliency_method == "gradcam"
    assert view.overlay.image.shape == p.saliency.shape == (len(p.saliency_axes["frequencies_hz"]),
                                                           len(p.saliency_axes["times_s"]))  # fmt: skip
    assert view.overlay.isVisible() and p.saliency_regions[0] in results.regions_label.text()
    rect = view.overlay.mapRectToParent(view.overlay.boundingRect())
    assert abs(rect.right() - p.saliency_axes["times_s"][-1]) < 0.1  # the map spans the recording (s)
    ticks = [label for _, label in view.plot.getAxis("left")._tickLevels[0]]
    assert ticks == [t for _, t in hz_ticks(p.saliency_axes["frequencies_hz"])] and {"100", "1000"} <= set(ticks)
