"""The main window's menus (File, View, Tools, Help) with standard shortcuts."""

from __future__ import annotations

from typing import Any

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMenu

_OPEN_FILTERS = "DICOM files (*.dcm *.DCM *.ima *.IMA DICOMDIR *);;Zip archives (*.zip);;All files (*)"


def build_menus(window: Any) -> dict[str, QAction]:
    """Create the menu bar of ``window`` (a MainWindow); return the actions by name."""
    actions: dict[str, QAction] = {}
    bar = window.menuBar()

    def add(menu: QMenu, name: str, text: str, slot, shortcut: QKeySequence | str | None = None,
            tip: str = "") -> QAction:
        action = menu.addAction(text)
        action.setObjectName(f"action_{name}")
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        if tip:
            action.setStatusTip(tip)
        action.triggered.connect(lambda _=False: slot())
        actions[name] = action
        return action

    file_menu = bar.addMenu("&File")
    add(file_menu, "open_files", "Open file(s)…", window.choose_files, QKeySequence.StandardKey.Open,
        "Open one or more DICOM files")
    add(file_menu, "open_folder", "Open folder…", window.choose_folder, "Ctrl+Shift+O",
        "Open every DICOM file in a folder and its sub-folders")
    add(file_menu, "open_archive", "Open DICOMDIR or archive…", window.choose_archive, None,
        "Open a CD/DVD DICOMDIR or a zip archive")
    add(file_menu, "open_demo", "Open demo patient", window.open_demo_patient, None,
        "The bundled demo patient: a brain MRI and a stethoscope recording")
    window.recent_menu = file_menu.addMenu("Recent items")
    window.recent_menu.setObjectName("recentMenu")
    window.recent_menu.aboutToShow.connect(window.fill_recent_menu)
    file_menu.addSeparator()
    add(file_menu, "skipped_files", "Skipped files…", window.show_skipped_files, None,
        "Files that were not loaded, with the reason")
    file_menu.addSeparator()
    add(file_menu, "quit", "Quit", window.close, QKeySequence.StandardKey.Quit)
    actions["quit"].setShortcut(QKeySequence("Ctrl+Q"))

    viewer = window.scan_viewer.actions_
    view_menu = bar.addMenu("&View")
    window.presets_menu = view_menu.addMenu("Window presets")
    window.presets_menu.setObjectName("presetsMenu")
    window.presets_menu.aboutToShow.connect(window.fill_presets_menu)
    for name in ("invert", "overlay_text", "reset", "three_plane", "cine", "tag_browser"):
        view_menu.addAction(viewer[name])
    view_menu.addSeparator()
    window.panels_menu = view_menu.addMenu("Panels")
    for dock in window.all_docks():
        window.panels_menu.addAction(dock.toggleViewAction())
    add(view_menu, "full_screen", "Full screen", window.toggle_full_screen, QKeySequence.StandardKey.FullScreen)

    tools_menu = bar.addMenu("&Tools")
    for name in ("tool_pan", "tool_distance", "tool_rectangle", "tool_ellipse"):
        tools_menu.addAction(viewer[name])
    tools_menu.addSeparator()
    tools_menu.addAction(viewer["clear_measurements"])

    help_menu = bar.addMenu("&Help")
    add(help_menu, "about", "About Stethoscan", window.show_about)
    add(help_menu, "log_folder", "Open log folder", window.open_log_folder)
    return actions
