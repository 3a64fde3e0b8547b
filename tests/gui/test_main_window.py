"""The application shell: menus, docks from the registry, opening, drag and drop, recent items,
skipped files, status progress, window state, the demo patient, and the exception dialog."""

from __future__ import annotations

import logging
import sys
import threading
import time
from pathlib import Path

import pytest
from PySide6.QtCore import QMimeData, QObject, QPointF, Qt, QUrl, Signal
from PySide6.QtGui import QDropEvent, QGuiApplication, QKeySequence
from PySide6.QtWidgets import QLabel
from synthetic_scans import ct_voxels, index_with, indexer, progressive_loader, series_for

from stethoscan.gui import application, dock_registry
from stethoscan.gui.dock_registry import LazyPanel, PanelSpec, create_docks
from stethoscan.gui.error_dialog import ExceptionHook
from stethoscan.gui.main_window import MainWindow
from stethoscan.imaging.model import SkippedFile


class FakePanel(QLabel):
    """A stand-in for a later part's panel, importable as ``test_main_window.FakePanel``."""

    def __init__(self, context, parent=None):
        super().__init__("fake panel", parent)
        self.context = context


REAL_DOCKS = list(dock_registry.DOCKS)


@pytest.fixture(autouse=True)
def light_docks(monkeypatch):
    """Stand-in panels with the real keys and titles: the shell is tested, not the later parts
    (the real recording studio probes audio devices, which takes seconds without a sound server)."""
    monkeypatch.setattr(dock_registry, "DOCKS", [
        PanelSpec(s.key, s.title, "test_main_window", "FakePanel", s.area) for s in REAL_DOCKS])


@pytest.fixture
def context(make_context):
    return make_context()


@pytest.fixture
def window(context, qtbot):
    win = MainWindow(context)
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    return win


def open_synthetic(window, qtbot, index, delay_s=0.0):
    window.index_function = indexer(index)
    window.scan_viewer.load_function = progressive_loader(ct_voxels(), delay_s, slope=1.0, intercept=-1024.0,
                                                          modality="CT", units="HU")
    with qtbot.waitSignal(window.scan_viewer.loading_state, timeout=5000,
                          check_params_cb=lambda state: state == "loaded"):
        window.open_paths(["/data/ct"])


def test_pyside_signal_emit_keeps_refcounts():
    """PySide6 6.12.0 drops a reference to True on every Signal.emit and crashes at exit."""

    class Emitter(QObject):
        fired = Signal(bool)

    emitter = Emitter()
    before = sys.getrefcount(True)
    for _ in range(50):
        emitter.fired.emit(True)
    assert sys.getrefcount(True) >= before


def test_menus_have_standard_shortcuts(window):
    shortcuts = {a.objectName(): a.shortcut() for a in window.findChildren(type(window.menu_actions["quit"]))}
    assert shortcuts["action_open_files"] == QKeySequence(QKeySequence.StandardKey.Open)
    assert shortcuts["action_open_folder"] == QKeySequence("Ctrl+Shift+O")
    assert shortcuts["action_quit"] == QKeySequence("Ctrl+Q")
    viewer = window.scan_viewer.actions_
    assert viewer["three_plane"].shortcut() == QKeySequence("Ctrl+3")
    assert viewer["tag_browser"].shortcut() == QKeySequence("Ctrl+T")
    assert viewer["invert"].shortcut() == QKeySequence("I")
    assert viewer["cine"].shortcut() == QKeySequence("Space")
    assert viewer["tool_distance"].shortcut() == QKeySequence("D")
    menus = [a.text() for a in window.menuBar().actions()]
    assert menus == ["&File", "&View", "&Tools", "&Help"]


def test_docks_from_the_registry_load_lazily_with_placeholders(context, qtbot, monkeypatch):
    monkeypatch.setattr(dock_registry, "DOCKS", REAL_DOCKS)
    window = MainWindow(context)
    qtbot.addWidget(window)
    window.show()
    titles = {d.objectName(): d.windowTitle() for d in window.all_docks()}
    assert titles["dock_recording"] == "Recording studio" and titles["dock_models"] == "Models"
    assert titles["dock_results"] == "Results" and titles["dock_scores"] == "Cognitive scores"
    assert window.tabs.tabText(1) == "Audio review"
    specs = [PanelSpec("fake", "Fake", "test_main_window", "FakePanel"),
             PanelSpec("missing", "Missing part", "stethoscan.gui.not_written_yet", "Nothing")]
    docks = create_docks(window, context, specs)
    fake, missing = (d.widget() for d in docks.values())
    assert isinstance(fake, LazyPanel) and fake.widget is None  # nothing imported before it shows
    docks["fake"].show()
    docks["missing"].show()
    qtbot.waitUntil(lambda: fake.widget is not None, timeout=2000)
    assert isinstance(fake.widget, FakePanel) and fake.widget.context is context
    missing.materialize()
    assert missing.widget is None and "not part of this build yet" in missing.placeholder.text()


def test_opening_indexes_shows_the_series_and_records_the_patient(window, context, qtbot):
    open_synthetic(window, qtbot, index_with([series_for(20)]))
    assert window.browser.summary.text() == "1 patient(s) · 1 series"
    assert window.scan_viewer.state.volume is not None
    assert context.volume is window.scan_viewer.state.volume
    assert context.patient is not None and context.patient.patient_key == "P001"
    assert context.store.list_studies(context.patient.id)[0]["study_uid"] == "1.2.3"
    assert context.settings.recent_items[0] == str(Path("/data/ct"))
    assert window.windowTitle() == "Stethoscan — TEST, Alice"


def test_skipped_files_are_listed_with_their_reason(window, qtbot):
    skipped = [SkippedFile("/cd/README.TXT", "This is not a DICOM file."),
               SkippedFile("/cd/IM0007", "The file is truncated: copy it again from the CD.")]
    open_synthetic(window, qtbot, index_with([series_for(20)], skipped=skipped))
    window.menu_actions["skipped_files"].trigger()
    view = window._skipped_view
    assert view.isVisible()
    assert view.rows() == [("/cd/README.TXT", "This is not a DICOM file."),
                           ("/cd/IM0007", "The file is truncated: copy it again from the CD.")]
    assert view.summary.text().startswith("1 series opened; 2 files could not be loaded")
    view.copy_list()
    assert "IM0007\tThe file is truncated" in QGuiApplication.clipboard().text()
    view.close()


def test_drop_of_files_and_folders_opens_them(window, monkeypatch, tmp_path):
    opened = []
    monkeypatch.setattr(window, "open_paths", lambda paths: opened.append(paths))
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(tmp_path)), QUrl.fromLocalFile(str(tmp_path / "study.zip"))])
    event = QDropEvent(QPointF(10, 10), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                       Qt.KeyboardModifier.NoModifier)
    window.dropEvent(event)
    assert opened == [[str(tmp_path), str(tmp_path / "study.zip")]]


def test_recent_items_menu_reopens(window, context, monkeypatch, tmp_path):
    context.settings.add_recent(str(tmp_path))
    context.settings.add_recent("/gone/away")
    window.fill_recent_menu()
    entries = [a for a in window.recent_menu.actions() if a.text() in (str(tmp_path), "/gone/away")]
    assert [a.text() for a in entries] == ["/gone/away", str(tmp_path)]
    assert [a.isEnabled() for a in entries] == [False, True]
    opened = []
    monkeypatch.setattr(window, "open_paths", lambda paths: opened.append(paths))
    entries[1].trigger()
    assert opened == [[str(tmp_path)]]


def test_status_bar_shows_jobs_with_a_working_cancel_button(window, context, qtbot):
    def slow(task):
        for _ in range(500):
            task.check_cancelled()
            task.progress(0.5, "working")
            time.sleep(0.01)

    job = context.workers.submit("Long job", slow)
    progress = window.status_progress
    qtbot.waitUntil(lambda: any(row.isVisible() for row in progress.rows.values()), timeout=3000)
    row = next(iter(progress.rows.values()))
    assert row.label.text() == "Long job"
    qtbot.waitUntil(lambda: row.bar.value() == 500, timeout=3000)
    with qtbot.waitSignal(job.cancelled, timeout=3000):
        qtbot.mouseClick(row.cancel_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not progress.rows, timeout=3000)


def test_window_geometry_and_docks_are_remembered(context, qtbot):
    first = MainWindow(context)
    qtbot.addWidget(first)
    first.resize(760, 560)
    first.show()
    first.browser_dock.hide()
    first.save_window_state()
    second = MainWindow(context)
    qtbot.addWidget(second)
    second.show()
    # the offscreen screen is 800 px wide, narrower than the window's minimum: compare heights
    assert second.height() == first.height() == 560
    assert not second.browser_dock.isVisible()


def test_demo_patient_is_in_the_database_with_its_recording(window, context, qtbot, monkeypatch):
    from stethoscan.gui.demo_patient import prepare_demo_patient

    monkeypatch.setattr(window, "open_paths", lambda paths: None)
    window.open_demo_patient()
    patient = context.patient
    assert patient.is_demo and patient.display_name == "DEMO^Patient"
    recordings = context.store.list_recordings(patient_id=patient.id)
    assert len(recordings) == 1 and recordings[0].status == "imported"
    assert context.recording is not None and context.recording.id == recordings[0].id
    assert recordings[0].sample_rate_hz == 4000 and 12.0 < recordings[0].duration_s < 13.0
    markers = context.store.list_markers(recordings[0].id)
    assert sum(m.label == "breathing cycle" for m in markers) == 6
    assert [m.label for m in markers].count("crackles") == 1
    again = prepare_demo_patient(context.store)  # opening the demo twice adds nothing
    assert again.patient.id == patient.id
    assert len(context.store.list_recordings(patient_id=patient.id)) == 1


def test_about_says_not_for_diagnostic_use(window, qtbot, monkeypatch):
    from stethoscan.gui.about_dialog import AboutDialog

    dialog = AboutDialog(window)
    qtbot.addWidget(dialog)
    assert "Not for diagnostic use" in dialog.label.text()
    assert "pyqtgraph" in dialog.label.text()


def test_exception_hook_logs_and_shows_the_dialog(qtbot, tmp_path, caplog):
    hook = ExceptionHook(tmp_path / "stethoscan.log")
    hook.install()
    try:
        with caplog.at_level(logging.ERROR, logger="stethoscan.uncaught"):
            try:
                raise ValueError("the overlay grid is empty")
            except ValueError:
                sys.excepthook(*sys.exc_info())
        dialog = hook.dialog
        qtbot.addWidget(dialog)
        assert dialog.isVisible() and dialog.windowTitle() == "Unexpected error"
        assert "ValueError: the overlay grid is empty" in dialog.message_label.text()
        assert str(tmp_path / "stethoscan.log") in dialog.log_label.text()
        assert "Uncaught exception" in caplog.text and "the overlay grid is empty" in caplog.text
        dialog.copy_button.click()
        assert "Traceback" in QGuiApplication.clipboard().text()
        dialog.close()
        # an exception in another thread reaches the GUI thread through a queued signal
        worker = threading.Thread(target=lambda: (_ for _ in ()).throw(RuntimeError("worker broke")))
        with qtbot.waitSignal(hook.dialog_shown, timeout=3000):
            worker.start()
            worker.join()
        assert "RuntimeError: worker broke" in hook.dialog.message_label.text()
        hook.dialog.close()
    finally:
        hook.uninstall()


def test_a_failing_startup_check_does_not_stop_the_others(window, monkeypatch, caplog):
    ran = []

    def broken(win):
        raise RuntimeError("check exploded")

    monkeypatch.setattr(application, "STARTUP_CHECKS", [broken, lambda win: ran.append(win)])
    with caplog.at_level(logging.ERROR):
        application.run_startup_checks(window)
    assert ran == [window] and "check exploded" in caplog.text


def test_central_views_materialize_when_their_tab_is_chosen(window):
    panel = window.tabs.widget(1)
    assert isinstance(panel, LazyPanel)
    assert panel.widget is None  # nothing imported before the tab is chosen
    window.tabs.setCurrentIndex(1)
    if panel.widget is None:  # a build without the audio part shows why
        assert "not part of this build yet" in panel.placeholder.text()
    else:
        assert type(panel.widget).__name__ == "AudioReviewView" and panel.widget.isVisible()


def test_demo_opens_the_scan_on_its_middle_slice(window, context, qtbot):
    with qtbot.waitSignal(window.scan_viewer.loading_state, timeout=30000,
                          check_params_cb=lambda state: state == "loaded"):
        window.open_demo_patient()
    state = window.scan_viewer.state
    assert state.volume.shape[0] == 128 and state.volume.modality == "MR"
    assert window.scan_viewer.planes.main.index == 64
    assert window.scan_viewer.planes.main.plane == "axial"
    assert context.patient.is_demo and window.browser.summary.text() == "1 patient(s) · 1 series"
    # a thumbnail of the series follows once the scan is on screen
    qtbot.waitUntil(lambda: not window.browser.series_without_thumbnails(), timeout=10000)
    assert not window.browser.series_items()[0].icon(0).isNull()


def test_view_menu_lists_the_presets_of_the_open_modality(window, qtbot):
    open_synthetic(window, qtbot, index_with([series_for(20)]))
    window.fill_presets_menu()
    actions = {a.text(): a for a in window.presets_menu.actions()}
    assert {"Default", "Brain", "Lung", "Bone", "Liver"} <= set(actions)
    assert actions["Default"].isChecked()
    actions["Lung"].trigger()
    assert (window.scan_viewer.state.center, window.scan_viewer.state.width) == (-600.0, 1500.0)
    window.fill_presets_menu()
    assert {a.text(): a for a in window.presets_menu.actions()}["Lung"].isChecked()
