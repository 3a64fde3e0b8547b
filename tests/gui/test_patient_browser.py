"""The patient -> study -> series tree: merging, counts, warnings, selection."""

from __future__ import annotations

from PySide6.QtCore import Qt
from synthetic_scans import index_with, series_for

from stethoscan.gui.patient_browser import PatientBrowser, merge_indexes
from stethoscan.imaging.model import SkippedFile


def test_tree_shows_patients_studies_and_series_with_counts(qtbot):
    browser = PatientBrowser()
    qtbot.addWidget(browser)
    tilted = series_for(30, uid="1.2.3.5", description="Tilted", warnings=["Gantry tilt of 12 degrees."])
    browser.add_index(index_with([series_for(20, uid="1.2.3.4"), tilted],
                                 skipped=[SkippedFile("/x/notes.txt", "This is not a DICOM file.")]))
    patient = browser.tree.topLevelItem(0)
    assert patient.text(0) == "TEST, Alice   ID P001"
    study = patient.child(0)
    assert study.text(0) == "2024-01-31  CT head" and "2 series" in study.toolTip(0)
    rows = sorted(s.text(0) for s in browser.series_items())
    assert rows == ["Head\nCT · Se 2 · 20 images", "Tilted\n⚠ CT · Se 2 · 30 images"]
    flagged = [s for s in browser.series_items() if not s.icon(0).isNull()]  # warning icon
    assert [s.text(0).split("\n")[0] for s in flagged] == ["Tilted"]
    assert "Gantry tilt" in flagged[0].toolTip(0)
    assert browser.skipped_button.isVisibleTo(browser) and "1 skipped" in browser.skipped_button.text()
    assert browser.summary.text() == "1 patient(s) · 2 series"


def test_selecting_a_series_emits_it_once(qtbot):
    browser = PatientBrowser()
    qtbot.addWidget(browser)
    browser.add_index(index_with([series_for(20, uid="1.2.3.4"), series_for(5, uid="1.2.3.9")]))
    chosen = []
    browser.series_selected.connect(lambda series, patient, study: chosen.append((series.series_uid, patient.patient_id)))
    assert browser.select_series("1.2.3.9")
    assert chosen == [("1.2.3.9", "P001")]
    browser.select_series("1.2.3.9")  # already shown: not loaded again
    assert len(chosen) == 1
    browser.tree.setCurrentItem(browser.tree.topLevelItem(0))  # a patient row loads nothing
    assert len(chosen) == 1
    assert not browser.select_series("does-not-exist")


def test_indexes_of_the_same_patient_merge():
    first = index_with([series_for(20, uid="1.2.3.4")])
    second = index_with([series_for(20, uid="1.2.3.4"), series_for(8, uid="1.2.3.7")])
    other = index_with([series_for(3, uid="9.9")], patient_name="OTHER^Bob", patient_id="P002")
    patients = merge_indexes([first, second, other])
    assert [p.patient_id for p in patients] == ["P001", "P002"]
    assert [s.series_uid for s in patients[0].studies[0].series] == ["1.2.3.4", "1.2.3.7"]
    assert first.patients[0].studies[0].series[0].series_uid == "1.2.3.4"  # inputs untouched
    assert len(first.patients[0].studies[0].series) == 1


def test_thumbnails_appear_beside_their_series(qtbot):
    import numpy as np

    browser = PatientBrowser()
    qtbot.addWidget(browser)
    browser.add_index(index_with([series_for(20, uid="1.2.3.4"), series_for(5, uid="1.2.3.9")]))
    assert len(browser.series_without_thumbnails()) == 2
    browser.set_thumbnail("1.2.3.9", np.full((40, 30), 200, dtype=np.uint8))
    icons = {item.data(0, Qt.ItemDataRole.UserRole)[1][0].series_uid: item.icon(0) for item in browser.series_items()}
    assert not icons["1.2.3.9"].isNull() and icons["1.2.3.4"].isNull()
    assert [s.series_uid for s in browser.series_without_thumbnails()] == ["1.2.3.4"]
    pixel = icons["1.2.3.9"].pixmap(30, 40).toImage().pixelColor(10, 10)
    assert pixel.red() == pixel.green() == pixel.blue() == 200
