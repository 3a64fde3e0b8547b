"""The main window: patient browser, central views (scan viewer, audio review), docks, menus.

Opening anything goes through :meth:`MainWindow.open_paths`: the paths are indexed in the io pool
(headers only), added to the browser, and the first new series is loaded.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from PySide6.QtCore import QSettings, Qt, QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QDockWidget,
    QFileDialog,
    QLabel,
    QMainWindow,
    QMessageBox,
    QTabWidget,
)

from stethoscan.core import paths
from stethoscan.core.errors import StethoscanError
from stethoscan.core.log_setup import register_identifiers
from stethoscan.gui.dock_registry import CENTRAL_VIEWS, LazyPanel, create_docks
from stethoscan.gui.menus import _OPEN_FILTERS, build_menus
from stethoscan.gui.patient_browser import PatientBrowser
from stethoscan.gui.status_progress import StatusProgress
from stethoscan.gui.viewer import imaging_bridge
from stethoscan.gui.viewer.scan_viewer import ScanViewer
from stethoscan.gui.viewer.viewer_state import ScanLabels

_log = logging.getLogger(__name__)
_STATE_VERSION = 1


class MainWindow(QMainWindow):
    def __init__(self, context: Any) -> None:
        super().__init__()
        self.setObjectName("mainWindow")
        self.context = context
        self.log_file: Path | None = None
        self.index_function = imaging_bridge.index_paths  # tests swap in a synthetic indexer
        self.index_job: Any = None
        self.thumbnail_job: Any = None
        self._thumbnails_tried: set[str] = set()
        self.demo_mode = False
        self._skipped_view: Any = None
        self.setWindowTitle("Stethoscan")
        self.setAcceptDrops(True)
        self.setDockOptions(QMainWindow.DockOption.AnimatedDocks | QMainWindow.DockOption.AllowTabbedDocks)
        self._build_central()
        self._build_docks()
        self._build_status_bar()
        self.menu_actions = build_menus(self)
        context.patient_changed.connect(self._on_patient_changed)
        context.status_message.connect(lambda text: self.statusBar().showMessage(text, 6000))
        self.resize(1480, 920)
        self.restore_window_state()

    # -- construction -----------------------------------------------------------------------
    def _build_central(self) -> None:
        self.tabs = QTabWidget()
        self.tabs.setObjectName("centralTabs")
        self.tabs.setDocumentMode(True)
        self.scan_viewer = ScanViewer(self.context)
        self.tabs.addTab(self.scan_viewer, "Scan viewer")
        self.central_panels: dict[str, LazyPanel] = {}
        for spec in CENTRAL_VIEWS:
            panel = LazyPanel(spec, self.context)
            self.central_panels[spec.key] = panel
            self.tabs.addTab(panel, spec.title)
        self.tabs.currentChanged.connect(self._on_tab_changed)
        self.setCentralWidget(self.tabs)
        self.scan_viewer.cursor_reading.connect(lambda text: self.cursor_label.setText(text))
        self.scan_viewer.loading_state.connect(self._on_loading_state)

    def _on_tab_changed(self, row: int) -> None:
        widget = self.tabs.widget(row)
        if isinstance(widget, LazyPanel):
            widget.materialize()

    def _build_docks(self) -> None:
        self.browser = PatientBrowser()
        self.browser.series_selected.connect(self.open_series)
        self.browser.skipped_requested.connect(self.show_skipped_files)
        self.browser_dock = QDockWidget("Patients", self)
        self.browser_dock.setObjectName("dock_patients")
        self.browser_dock.setWidget(self.browser)
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, self.browser_dock)
        self.docks = create_docks(self, self.context)
        right = [self.docks[k] for k in ("recording", "models", "results") if k in self.docks]
        for first, other in zip(right, right[1:], strict=False):
            self.tabifyDockWidget(first, other)
        if "scores" in self.docks:
            self.tabifyDockWidget(right[-1], self.docks["scores"])
        if right:
            right[0].raise_()
        self.resizeDocks([self.browser_dock], [300], Qt.Orientation.Horizontal)
        if right:
            self.resizeDocks([right[0]], [340], Qt.Orientation.Horizontal)

    def all_docks(self) -> list[QDockWidget]:
        return [self.browser_dock, *self.docks.values()]

    def _build_status_bar(self) -> None:
        bar = self.statusBar()
        bar.setObjectName("statusBar")
        self.cursor_label = QLabel("")
        self.cursor_label.setObjectName("cursorReading")
        bar.addWidget(self.cursor_label, 1)
        self.status_progress = StatusProgress(self.context.workers)
        bar.addPermanentWidget(self.status_progress)
        research = QLabel("Research software · Not for diagnostic use")
        research.setObjectName("researchNotice")
        bar.addPermanentWidget(research)

    # -- opening ----------------------------------------------------------------------------
    def choose_files(self) -> None:
        files, _ = QFileDialog.getOpenFileNames(self, "Open DICOM files", self._start_dir(), _OPEN_FILTERS)
        if files:
            self.open_paths(files)

    def choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Open a folder of DICOM files", self._start_dir())
        if folder:
            self.open_paths([folder])

    def choose_archive(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Open a DICOMDIR or archive", self._start_dir(),
            "DICOMDIR or zip (DICOMDIR dicomdir *.zip);;All files (*)",
        )
        if path:
            self.open_paths([path])

    def _start_dir(self) -> str:
        return self.context.settings.last_open_dir or str(Path.home())

    def open_paths(self, paths_to_open: list[str], select_first: bool = True) -> Any:
        """Index files/folders/DICOMDIRs/zips in the background, then show what was found."""
        paths_to_open = [str(Path(p)) for p in paths_to_open]
        settings = self.context.settings
        for path in paths_to_open:
            settings.add_recent(path)
        first = Path(paths_to_open[0])
        settings.last_open_dir = str(first if first.is_dir() else first.parent)
        n = len(paths_to_open)
        job = self.context.workers.submit(f"Reading {n} item{'s' if n > 1 else ''}", self.index_function, paths_to_open)
        self.index_job = job
        job.finished.connect(lambda index: self._on_indexed(index, select_first))
        job.failed.connect(self._on_index_failed)
        return job

    def _on_indexed(self, index: Any, select_first: bool) -> None:
        for patient in index.patients:
            register_identifiers([patient.name, patient.patient_id, patient.birth_date]
                                 + [s.accession_number for s in patient.studies])
        self.browser.add_index(index)
        series = index.all_series()
        notes = list(getattr(index, "notes", []) or [])  # e.g. a broken DICOMDIR was scanned instead
        if index.skipped:
            notes.append(f"{len(index.skipped)} file(s) could not be loaded: see File ▸ Skipped files.")
        if notes:
            self.statusBar().showMessage("  ".join(notes), 15000)
        if not series:
            QMessageBox.information(
                self, "Nothing to show",
                "No images were found in what you opened."
                + (f" {len(index.skipped)} file(s) were skipped; File ▸ Skipped files lists why."
                   if index.skipped else ""),
            )
            return
        if select_first:
            best = max(series, key=lambda s: s.number_of_slices)
            self.browser.select_series(best.series_uid)

    def _on_loading_state(self, state: str) -> None:
        if state != "loading":  # thumbnails wait until the chosen series is on screen
            self.make_thumbnails()

    def make_thumbnails(self) -> Any:
        """Thumbnails for series that have none yet, made in the io pool."""
        from stethoscan.gui.series_thumbnails import make_thumbnails

        if self.thumbnail_job is not None and self.thumbnail_job.is_running:
            return self.thumbnail_job
        todo = [s for s in self.browser.series_without_thumbnails() if s.series_uid not in self._thumbnails_tried]
        if not todo:
            return None
        self._thumbnails_tried.update(s.series_uid for s in todo)
        self.thumbnail_job = self.context.workers.submit("Making thumbnails", make_thumbnails, todo)
        self.thumbnail_job.partial.connect(lambda result: self.browser.set_thumbnail(*result))
        return self.thumbnail_job

    def _on_index_failed(self, exc: BaseException) -> None:
        message = str(exc) if isinstance(exc, StethoscanError) else (
            f"The files could not be read ({type(exc).__name__}). Details are in the log.")
        QMessageBox.warning(self, "Could not open", message)

    def open_series(self, series: Any, patient: Any, study: Any) -> Any:
        """Load ``series`` in the viewer and make its patient the current one."""
        self._remember_patient(patient, study)
        labels = ScanLabels(
            patient_name=patient.name, patient_id=patient.patient_id, birth_date=patient.birth_date,
            sex=patient.sex, study_date=study.date, study_description=study.description,
            series_description=series.description, series_number=series.series_number,
            modality=series.modality,
        )
        self.tabs.setCurrentWidget(self.scan_viewer)
        return self.scan_viewer.open_series(series, labels)

    def _remember_patient(self, patient: Any, study: Any) -> None:
        store = self.context.store
        key = patient.patient_id or f"NOID-{study.study_uid}"
        try:
            record = store.upsert_patient(key, patient.name, patient.birth_date or None,
                                          patient.sex if patient.sex in ("F", "M", "O") else None)
            source = ""
            if study.series and study.series[0].instances:
                source = str(Path(study.series[0].instances[0].path).parent)
            store.add_study(record.id, study.study_uid, source, study.description)
        except StethoscanError as exc:
            self.statusBar().showMessage(str(exc), 10000)
            return
        self.context.set_patient(record)

    def open_demo_patient(self) -> None:
        from stethoscan.gui.demo_patient import prepare_demo_patient

        try:
            demo = prepare_demo_patient(self.context.store)
        except StethoscanError as exc:
            QMessageBox.warning(self, "Demo patient", str(exc))
            return
        self.demo_mode = True
        self.context.set_patient(demo.patient)
        self.context.session_id = demo.session_id
        self.context.session_changed.emit(demo.session_id)
        self.context.recordings_changed.emit()
        if demo.recording_id is not None:
            self.context.select_recording(self.context.store.get_recording(demo.recording_id))
        self.open_paths([str(demo.scan_dir)])

    def _on_patient_changed(self, patient: Any) -> None:
        from stethoscan.gui.viewer.corner_text import format_person_name

        name = format_person_name(patient.display_name) if patient is not None else ""
        self.setWindowTitle(f"Stethoscan — {name}" if name else "Stethoscan")

    # -- menus ------------------------------------------------------------------------------
    def fill_recent_menu(self) -> None:
        menu = self.recent_menu
        menu.clear()
        items = self.context.settings.recent_items
        for path in items:
            action = menu.addAction(path)
            action.triggered.connect(lambda _=False, p=path: self.open_paths([p]))
            action.setEnabled(Path(path).exists())
        if not items:
            menu.addAction("(none)").setEnabled(False)
        else:
            menu.addSeparator()
            menu.addAction("Clear recent items").triggered.connect(self._clear_recent)

    def _clear_recent(self) -> None:
        self.context.settings.recent_items = []

    def fill_presets_menu(self) -> None:
        menu = self.presets_menu
        menu.clear()
        names = ["Default"] + [name for name, _, _ in self.scan_viewer.presets()]
        for name in names:
            action = menu.addAction(name)
            action.setCheckable(True)
            action.setChecked(self.scan_viewer.state.preset == name)
            action.triggered.connect(lambda _=False, n=name: self.scan_viewer.apply_preset(n))
            action.setEnabled(self.scan_viewer.state.volume is not None)

    def show_skipped_files(self) -> None:
        from stethoscan.gui.skipped_files_view import SkippedFilesView

        opened = sum(len(study.series) for patient in self.browser.patients for study in patient.studies)
        self._skipped_view = SkippedFilesView(self.browser.skipped, self, opened_series=opened)
        self._skipped_view.show()

    def toggle_full_screen(self) -> None:
        self.showNormal() if self.isFullScreen() else self.showFullScreen()

    def show_about(self) -> None:
        from stethoscan.gui.about_dialog import AboutDialog

        AboutDialog(self).exec()

    def open_log_folder(self) -> None:
        folder = paths.log_dir()
        self.statusBar().showMessage(f"Log folder: {folder}", 10000)
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder)))

    # -- drag and drop ----------------------------------------------------------------------
    def dragEnterEvent(self, event) -> None:  # noqa: N802
        if event.mimeData().hasUrls() and any(u.isLocalFile() for u in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:  # noqa: N802
        local = [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]
        if local:
            event.acceptProposedAction()
            self.open_paths(local)

    # -- window state -----------------------------------------------------------------------
    @staticmethod
    def _window_settings() -> QSettings:
        return QSettings(str(paths.config_dir() / "window_state.ini"), QSettings.Format.IniFormat)

    def save_window_state(self) -> None:
        qs = self._window_settings()
        qs.setValue("geometry", self.saveGeometry())
        qs.setValue("state", self.saveState(_STATE_VERSION))
        qs.sync()

    def restore_window_state(self) -> None:
        qs = self._window_settings()
        geometry, state = qs.value("geometry"), qs.value("state")
        if geometry is not None:
            self.restoreGeometry(geometry)
        if state is not None:
            self.restoreState(state, _STATE_VERSION)

    def closeEvent(self, event) -> None:  # noqa: N802
        self.save_window_state()
        self.scan_viewer.set_cine(False)
        self.context.workers.cancel_all()
        super().closeEvent(event)
