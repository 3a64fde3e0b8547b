"""Measurements are saved in the patient database: they come back after the program is closed."""

from __future__ import annotations

import pytest
from gui_gestures import drag, view_to_viewport
from PySide6.QtCore import QPointF
from synthetic_scans import CT_SHAPE, ct_volume, series_for

from stethoscan.core.settings import Settings
from stethoscan.gui.app_context import AppContext
from stethoscan.gui.viewer.scan_viewer import ScanViewer
from stethoscan.gui.viewer.viewer_state import ScanLabels
from stethoscan.gui.workers import Workers
from stethoscan.records.patient_store import PatientStore

SERIES = "1.2.840.99.7"


@pytest.fixture
def open_viewer(qtbot, tmp_path):
    """``open_viewer()``: a viewer on the database file ``tmp_path/patients.sqlite3``, as a new
    start of the program would make it (its own store and workers, closed after the test)."""
    made = []

    def make() -> ScanViewer:
        context = AppContext(Settings(), PatientStore(tmp_path / "patients.sqlite3"), Workers())
        viewer = ScanViewer(context)
        qtbot.addWidget(viewer)
        viewer.resize(900, 700)
        viewer.show()
        qtbot.waitExposed(viewer)
        made.append(viewer)
        return viewer

    yield make
    for viewer in made:
        viewer.context.workers.shutdown()
        viewer.context.store.close()


def show(viewer: ScanViewer, first_index: int = 10) -> None:
    volume = ct_volume()
    volume.series_uid = SERIES
    viewer.show_volume(volume, series_for(CT_SHAPE[0], uid=SERIES), ScanLabels(modality="CT"), first_index)


def drawn(viewer: ScanViewer) -> list[tuple[str, int, str]]:
    main = viewer.planes.main
    return [(m.kind, m.slice_index, m.label.textItem.toPlainText()) for m in main.measurements.items]


def close(viewer: ScanViewer) -> None:
    """What quitting does to the viewer's database: it is closed (nothing is saved at exit)."""
    viewer.context.workers.shutdown()
    viewer.context.store.close()
    viewer.close()


def test_measurements_come_back_after_the_program_is_closed(open_viewer, qtbot):
    first = open_viewer()
    show(first)
    main = first.planes.main
    first.actions_["tool_distance"].trigger()
    drag(qtbot, main, view_to_viewport(main, 5.0, 4.0), view_to_viewport(main, 29.0, 22.0))
    bone = main.measurements.add("rectangle", QPointF(30 * 0.8, 40 * 0.5), QPointF(40 * 0.8, 50 * 0.5))
    main.scroll(+2)
    main.measurements.add("ellipse", QPointF(0.0, 0.0), QPointF(8.0, 8.0))
    bone.item.setPos([30 * 0.8 + 0.8, 40 * 0.5])  # moved one pixel to the right, as a drag would
    before = drawn(first)
    assert [k for k, _, _ in before] == ["distance", "rectangle", "ellipse"]
    assert "mm" in before[0][2] and "HU" in before[1][2]
    close(first)

    second = open_viewer()
    show(second)
    assert drawn(second) == before  # the same kinds, slices and values (mm, HU)
    restored = second.planes.main.measurements.items
    assert restored[1].record.start_mm == pytest.approx((30 * 0.8 + 0.8, 40 * 0.5))
    assert [m.item.isVisible() for m in restored] == [True, True, False]  # slice 10 is shown

    second.planes.main.measurements.remove(restored[2])  # the clinician deletes the ellipse
    close(second)
    third = open_viewer()
    show(third)
    kinds = [k for k, _, _ in drawn(third)]
    assert "ellipse" not in kinds and "rectangle" in kinds


def test_scrolling_does_not_write_to_the_database(open_viewer, monkeypatch):
    viewer = open_viewer()
    show(viewer)
    main = viewer.planes.main
    main.measurements.add("rectangle", QPointF(0.0, 0.0), QPointF(8.0, 8.0))
    writes = []
    real = viewer.context.store.replace_scan_measurements
    monkeypatch.setattr(viewer.context.store, "replace_scan_measurements",
                        lambda *args: (writes.append(args), real(*args)))
    for step in (+1, +1, -1, -1):
        main.scroll(step)
    assert writes == []
    main.measurements.add("distance", QPointF(0.0, 0.0), QPointF(3.0, 4.0))
    assert writes and [m.kind for m in writes[-1][1]] == ["rectangle", "distance"]


def test_a_database_that_cannot_be_written_says_so_and_keeps_the_measurement(open_viewer):
    viewer = open_viewer()
    show(viewer)
    messages = []
    viewer.context.status_message.connect(messages.append)
    viewer.context.store._conn.execute("PRAGMA query_only = ON")  # SQLite refuses every write
    item = viewer.planes.main.measurements.add("distance", QPointF(0.0, 0.0), QPointF(30.0, 40.0))
    assert item.result == pytest.approx(50.0) and item.item.isVisible()
    assert messages and "could not be saved" in messages[-1] and "writable" in messages[-1]
    assert viewer.state.kept_measurements.for_series(SERIES) == [item.record]  # kept on screen
