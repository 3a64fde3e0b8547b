"""Evaluating a model inside the app: the figures of `stethoscan evaluate`, viewable in the GUI.

Runs the bundled respiratory model on the real ICBHI sample in the inference worker, shows what
the evaluator wrote (headline figures, per-class table, plots), the package's own figures, and
refuses what is not an evaluation with a sentence. Saves ``evaluation.png`` to look at.
"""

from __future__ import annotations

import json
import shutil

import pytest

from stethoscan.gui.models.evaluation_dialog import EvaluationDialog

pytestmark = pytest.mark.real_data
OUT = "test-artifacts/screenshots"


@pytest.fixture
def dialog(make_context, qtbot, app_theme):  # screenshots as the app looks
    context = make_context()
    widget = EvaluationDialog(context, "respiratory-cycles")
    qtbot.addWidget(widget)
    widget.show()
    return widget


@pytest.fixture
def icbhi_folder(shared_data, tmp_path):
    folder = tmp_path / "ICBHI_final_database"
    folder.mkdir()
    for path in (shared_data / "icbhi-sample").glob("*_*_*"):
        shutil.copy(path, folder / path.name)
    return folder


def test_evaluate_on_labelled_data_shows_the_evaluators_figures(dialog, icbhi_folder, qtbot, request):
    assert dialog.model_combo.currentData() == "respiratory-cycles"
    dialog.data_edit.setText(str(icbhi_folder))
    job = dialog.evaluate()
    assert job is not None and dialog.cancel_button.isEnabled() and not dialog.run_button.isEnabled()
    qtbot.waitUntil(lambda: not job.is_running, timeout=120000)
    assert "saved in" in dialog.status.text() and not dialog.error.text()
    report = json.loads((dialog.out_dir / "metrics.json").read_text())
    figures = dialog.view.figures.text()
    # the figures on screen are the evaluator's, to the digit
    assert f"Cases <b>{report['n']}</b>" in figures
    assert f"Wheeze detection AUC (wheeze or both) <b>{report['detection']['wheeze']['auc']:.3f}</b>" in figures
    assert f"ICBHI score <b>{report['icbhi']['score']:.3f}</b>" in figures
    assert dialog.view.table.rowCount() == len(report["per_class"]) == 4
    assert dialog.view.table.item(0, 0).text() == "normal"
    assert dialog.view.table.item(0, 4).text() == str(report["per_class"]["normal"]["support"])
    assert all(not label.pixmap().isNull() for label in dialog.view.plots)
    assert "Not for diagnostic use" in dialog.view.title.text()
    dialog.resize(1080, 720)
    qtbot.wait(100)
    path = request.config.rootpath / OUT / "evaluation.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    assert dialog.grab().save(str(path))


def test_the_packages_own_figures_and_a_folder_written_by_the_cli(dialog, tmp_path):
    from stethoscan.cli import main

    titles = [dialog.own_combo.itemText(i) for i in range(dialog.own_combo.count())]
    assert "held-out test" in titles and "real recordings" in titles
    assert dialog.show_own_figures("held-out test")
    assert dialog.view.table.rowCount() == 4 and "from its package" in dialog.view.title.text()
    assert all(not label.pixmap().isNull() for label in dialog.view.plots)
    out = tmp_path / "cli-eval"
    assert main(["evaluate", "--model", "respiratory-cycles", "--synthetic", "24", "--out", str(out)]) == 0
    assert dialog.open_results(out)
    assert "24 synthetic cycles" in dialog.view.title.text()


def test_what_is_not_an_evaluation_is_refused_with_a_sentence(dialog, tmp_path, qtbot):
    assert dialog.evaluate() is None and "Choose the folder" in dialog.error.text()
    dialog.data_edit.setText(str(tmp_path / "nowhere"))
    assert dialog.evaluate() is None and "does not exist" in dialog.error.text()
    assert not dialog.open_results(tmp_path) and "holds no metrics.json" in dialog.error.text()
    (tmp_path / "metrics.json").write_text("{broken")
    assert not dialog.open_results(tmp_path) and "could not be read" in dialog.error.text()
    empty = tmp_path / "empty"
    empty.mkdir()
    dialog.data_edit.setText(str(empty))  # no recordings: the evaluator's own sentence is shown
    job = dialog.evaluate()
    qtbot.waitUntil(lambda: not job.is_running, timeout=60000)
    assert dialog.error.text() and "Traceback" not in dialog.error.text()
    assert not dialog.progress.isVisible() and dialog.run_button.isEnabled()


def test_cancel_stops_the_evaluation_and_writes_nothing(dialog, icbhi_folder, qtbot):
    dialog.data_edit.setText(str(icbhi_folder))
    job = dialog.evaluate()
    dialog.cancel()
    qtbot.waitUntil(lambda: not job.is_running, timeout=60000)
    assert dialog.status.text().startswith("Cancelled")
    assert not (dialog.out_dir / "metrics.json").exists()


def test_closing_the_window_stops_its_evaluation(dialog, icbhi_folder, qtbot):
    dialog.data_edit.setText(str(icbhi_folder))
    job = dialog.evaluate()
    dialog.reject()  # Esc or the window's close button
    qtbot.waitUntil(lambda: not job.is_running, timeout=60000)
    assert not (dialog.out_dir / "metrics.json").exists()


def _mci_folder(folder):
    """Visits only (no scans): 6 people per class, three visits each, scores falling with the class."""
    rows = ["subject_id,label,age_years,sex,education_years,visit_years,mmse,moca"]
    for s in range(18):
        label, base = (("CN", 29), ("MCI", 26), ("dementia", 20))[s % 3]
        rows += [f"S{s},{label},{70 + s % 7 + v},{'FM'[s % 2]},{10 + s % 8},{v},{base - v * (s % 3)},"
                 f"{base - 3 - v * (s % 3)}" for v in range(3)]  # fmt: skip
    folder.mkdir()
    (folder / "labels.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    return folder


def test_an_mci_evaluation_names_its_data_and_a_long_path_hides_no_class(make_context, qtbot, tmp_path,
                                                                          app_theme, request):  # fmt: skip
    """The MCI evaluator's report does not name its data: the dialog does (not the output
    folder's name); with a long folder path in the title every class row stays visible (the
    view scrolls instead), and a refusal does not leave the previous run's "Done" beside it."""
    dialog = EvaluationDialog(make_context(), "mci-fusion")
    qtbot.addWidget(dialog)
    dialog.show()
    deep = tmp_path / ("a_clinic_share_folder_with_a_long_name_" * 3) / ("mci_visits_of_the_memory_clinic_" * 3)
    deep.parent.mkdir()
    dialog.data_edit.setText(str(_mci_folder(deep)))
    job = dialog.evaluate()
    qtbot.waitUntil(lambda: not job.is_running, timeout=120000)
    assert not dialog.error.text(), dialog.error.text()
    title = dialog.view.title.text()
    assert f"on {deep} · " in title and f"on {dialog.out_dir.name}" not in title
    report = json.loads((dialog.out_dir / "metrics.json").read_text())
    assert dialog.view.table.rowCount() == len(report["per_class"]) == 3
    dialog.resize(1080, 720)
    qtbot.wait(100)
    table = dialog.view.table
    assert table.viewport().height() >= sum(table.rowHeight(r) for r in range(3))
    assert "detection" not in dialog.view.figures.text()  # only the respiratory report has those
    path = request.config.rootpath / OUT / "evaluation_mci_long_path.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    assert dialog.grab().save(str(path))
    dialog.data_edit.setText(str(deep / "gone"))
    assert dialog.evaluate() is None and "does not exist" in dialog.error.text()
    assert not dialog.status.text()
    # a folder written by another evaluator run that does not say its data is not misnamed either
    assert dialog.open_results(dialog.out_dir)
    assert "on data not named in metrics.json" in dialog.view.title.text()
    # a failed run is not read beside the previous run's figures
    empty = tmp_path / "empty"
    empty.mkdir()
    dialog.data_edit.setText(str(empty))
    job = dialog.evaluate()
    qtbot.waitUntil(lambda: not job.is_running, timeout=60000)
    assert "labels.csv" in dialog.error.text()
    assert dialog.view.table.rowCount() == 0 and "Cases" not in dialog.view.figures.text()
    assert str(deep) not in dialog.view.title.text()


def test_the_dialog_opens_within_the_screen(make_context, qtbot):
    dialog = EvaluationDialog(make_context(), "respiratory-cycles")
    qtbot.addWidget(dialog)
    room = dialog.screen().availableGeometry()
    assert dialog.width() <= room.width() and dialog.height() <= room.height()
