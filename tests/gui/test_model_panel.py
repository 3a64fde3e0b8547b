"""The Models panel: models that fit the data shown, badges, validated saliency methods, model
card, running in the inference worker (progress, cancel), saving, and refused packages."""

from __future__ import annotations

import shutil
import threading

import pytest
from ai_test_packages import (
    image2d_manifest,
    install_test_package,
    mci_manifest,
    mr_series,
    mr_volume,
    respiratory_manifest,
    write_test_package,
)

from stethoscan.gui.models.model_panel import ModelPanel

LESION_2D, MCI, RESP = "gui-lesion-2d", "gui-mci-fusion", "gui-respiratory"


@pytest.fixture(scope="module", autouse=True)
def _uninstall_test_packages(uninstall_test_packages):
    """Test packages installed here are removed after the module."""


@pytest.fixture(scope="module")
def packages(tmp_path_factory):
    folder = tmp_path_factory.mktemp("packages")
    return {m["model"]["name"]: install_test_package(folder, m)
            for m in (image2d_manifest(LESION_2D), mci_manifest(MCI), respiratory_manifest(RESP))}


@pytest.fixture
def context(make_context):
    return make_context("P-9", "Doe^John", "19480101", "M", 10)


@pytest.fixture
def panel(context, packages, qtbot):
    widget = ModelPanel(context)
    qtbot.addWidget(widget)
    widget.resize(380, 700)
    widget.show()
    return widget


def names(panel) -> list[str]:
    return [o.name for o in panel.offers if o.fits]


def open_volume(context, volume=None):
    volume = volume or mr_volume()
    context.set_volume(mr_series(volume), volume)
    return volume


def test_only_models_that_fit_the_data_shown_are_offered(panel, context, tmp_path):
    assert not {LESION_2D, MCI, RESP} & set(names(panel))
    assert "Open a scan" in panel.data_label.text()

    open_volume(context)
    assert {LESION_2D, MCI} <= set(names(panel)) and RESP not in names(panel)
    assert "Scan: MR" in panel.data_label.text()
    offer = next(o for o in panel.offers if o.name == MCI)
    assert offer.inputs == ["scan"]  # no visits yet

    ct = mr_volume()
    ct.modality = "CT"
    context.set_volume(mr_series(ct), ct)
    assert LESION_2D in names(panel) and MCI not in names(panel)  # MR only
    panel.show_all.setChecked(True)
    refused = next(o for o in panel.offers if o.name == MCI)
    assert not refused.fits and refused.reason.startswith("Needs MR; the open series is CT")
    panel.show_all.setChecked(False)

    context.set_volume(None, None)
    context.store.add_visit(context.patient.id, "2022-01-01", mmse=26, moca=22)
    context.visits_changed.emit()
    assert MCI in names(panel) and LESION_2D not in names(panel)
    assert next(o for o in panel.offers if o.name == MCI).inputs_text() == "cognitive scores"

    wav = tmp_path / "take.wav"
    wav.write_bytes(b"")
    session = context.ensure_session()
    recording = context.store.get_recording(context.store.add_recording(session, str(wav), 4000, duration_s=5.0))
    context.select_recording(recording)
    assert RESP in names(panel)


def test_rows_show_version_task_and_badges_and_only_validated_methods(panel, context):
    open_volume(context)
    assert panel.select_model(LESION_2D)
    row = panel.model_list.itemWidget(panel.model_list.currentItem())
    texts = " ".join(label.text() for label in row.findChildren(type(panel.data_label)))
    assert "v0.1.0" in texts and "Task: lesion detection" in texts and "Uses: scan" in texts
    assert "RESEARCH USE ONLY" in texts and "TRAINED ON SYNTHETIC DATA" in texts
    methods = [panel.method_combo.itemData(i) for i in range(panel.method_combo.count())]
    assert methods == ["gradcam", "occlusion", None]
    assert panel.select_model(MCI)
    methods = [panel.method_combo.itemData(i) for i in range(panel.method_combo.count())]
    assert methods == ["gradcam", None]  # Integrated Gradients and occlusion were not validated
    assert not panel.preprocessing_box.isHidden()


def test_model_card_renders_the_packages_markdown(panel, context, qtbot):
    open_volume(context)
    panel.select_model(LESION_2D)
    dialog = panel.show_model_card()
    qtbot.addWidget(dialog)
    text = dialog.browser.toPlainText()
    assert "A tiny package made by the GUI tests." in text and "balanced accuracy" in text
    assert "#" not in text.splitlines()[0]  # rendered as Markdown, not shown raw
    assert "Not for diagnostic use" in dialog.findChildren(type(panel.data_label))[0].text()


def test_run_in_the_inference_worker_saves_the_result_with_the_session(panel, context, qtbot):
    volume = open_volume(context)
    panel.select_model(LESION_2D)
    progress = []
    job = panel.run()
    assert job is not None and not panel.run_button.isEnabled() and panel.cancel_button.isEnabled()
    job.progress.connect(lambda f, m: progress.append(f))
    with qtbot.waitSignal(panel.prediction_finished, timeout=30000) as blocker:
        pass
    saved = blocker.args[0]
    assert threading.current_thread() is threading.main_thread()
    assert saved.prediction.saliency_method == "gradcam"
    assert saved.prediction.saliency.shape == volume.shape[1:]  # one slice of the volume
    assert context.latest_prediction is saved
    rows = context.store.list_results(context.session_id)
    assert [r["id"] for r in rows] == [saved.result_id]
    assert rows[0]["model_name"] == LESION_2D and rows[0]["result"]["research_use_only"]
    assert rows[0]["result"]["input"]["series_uid"] == volume.series_uid
    assert panel.run_button.isEnabled() and not panel.cancel_button.isEnabled()
    assert "Done" in panel.status_label.text()


def test_cancel_before_the_model_runs_saves_nothing(panel, context, qtbot):
    open_volume(context)
    panel.select_model(LESION_2D)
    gate = threading.Event()
    blocker_job = context.workers.submit("busy", lambda task: gate.wait(10), pool="inference")
    job = panel.run()
    panel.cancel()
    gate.set()
    qtbot.waitUntil(lambda: not job.is_running and not blocker_job.is_running, timeout=10000)
    assert job.state == "cancelled"
    assert "Cancelled" in panel.status_label.text()
    assert context.store.list_results(context.session_id) == []


def test_a_tampered_package_is_refused_with_its_reason(panel, context, qtbot, tmp_path):
    entry = install_test_package(tmp_path, image2d_manifest("gui-tampered-2d"))
    weights = entry.path / "weights.safetensors"
    data = bytearray(weights.read_bytes())
    data[-1] ^= 0xFF
    weights.write_bytes(bytes(data))
    open_volume(context)
    panel.refresh()
    assert panel.select_model("gui-tampered-2d")
    with qtbot.waitSignal(panel.run_failed, timeout=30000) as blocker:
        panel.run()
    assert "refused (check failed: sha256)" in blocker.args[0]
    assert panel.error_label.text() == blocker.args[0]
    assert context.store.list_results(context.session_id) == []


def test_installing_a_package_with_a_pickle_is_refused(panel, context, qtbot, tmp_path):
    folder = write_test_package(tmp_path / "evil", image2d_manifest("gui-evil"))
    (folder / "model.pkl").write_bytes(b"\x80\x04\x95" + b"\x00" * 16)
    with qtbot.waitSignal(panel.run_failed, timeout=30000) as blocker:
        panel.install_package(folder)
    assert "refused (check failed: pickle)" in blocker.args[0]
    panel.show_all.setChecked(True)
    assert "gui-evil" not in [o.name for o in panel.offers]
    good = write_test_package(tmp_path / "good", image2d_manifest("gui-installed-2d"))
    job = panel.install_package(good)
    qtbot.waitUntil(lambda: not job.is_running, timeout=30000)
    assert "Installed gui-installed-2d" in panel.status_label.text()
    assert "gui-installed-2d" in [o.name for o in panel.offers]
    shutil.rmtree(tmp_path / "good")


def test_mci_preprocessing_overlay_refuses_a_scan_it_cannot_handle(panel, context, qtbot):
    open_volume(context)  # 12 slices: too few for a brain MRI
    panel.select_model(MCI)
    emitted = []
    context.scan_overlay_changed.connect(lambda name, spec: emitted.append((name, spec)))
    panel.preprocessing_box.setChecked(True)
    qtbot.waitUntil(lambda: panel.error_label.text() != "", timeout=20000)
    assert "slices" in panel.error_label.text()
    assert not panel.preprocessing_box.isChecked()
    assert all(spec is None for _, spec in emitted)


def test_demographics_go_to_the_mci_model_only_with_visits(context):
    from stethoscan.gui.models.prediction_request import patient_for_model

    patient = context.patient  # born 1948-01-01, M, 10 years of education
    assert patient_for_model(patient, []) == {}
    context.store.add_visit(patient.id, "2023-01-01", mmse=27)
    visit = context.store.list_visits(patient.id)[0]
    assert patient_for_model(patient, [visit]) == {"sex": "M", "education_years": 10.0,
                                                   "age_years": 75.0}


def test_the_age_sent_is_the_age_at_the_last_scored_visit(context):
    """Only the first visit has a recorded age: the age at the last visit with scores comes from
    the birth date (it used to be the first visit's, years too young); a later visit without
    scores does not count, as in `stethoscan predict --birth-date`."""
    from stethoscan.gui.models.prediction_request import patient_for_model

    patient = context.patient  # born 1948-01-01
    store = context.store
    store.add_visit(patient.id, "2020-01-01", age_years=72, mmse=28)
    store.add_visit(patient.id, "2024-07-01", mmse=24)
    store.add_visit(patient.id, "2025-01-01")  # no scores
    visits = store.list_visits(patient.id)
    assert patient_for_model(patient, visits)["age_years"] == pytest.approx(76.5, abs=0.05)
    store.add_visit(patient.id, "2025-06-01", age_years=77, moca=20)
    assert patient_for_model(patient, store.list_visits(patient.id))["age_years"] == 77.0
