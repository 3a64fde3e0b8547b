"""The scan viewer's actions (toolbar and menus share them) with their standard shortcuts.

Single-key shortcuts (I, O, R, D, Space, digits) act only while the focus is in the viewer, so
they never fight with text fields or the audio views; Ctrl shortcuts work window-wide.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QWidget

from stethoscan.gui.icons import icon

# name: (text, shortcut, icon, checkable, window-wide, tip)
_SPECS: dict[str, tuple[str, str, str, bool, bool, str]] = {
    "invert": ("Invert", "I", "invert", True, False, "Invert the grey scale (I)"),
    "overlay_text": ("Overlay text", "O", "overlay", True, False,
                     "Show patient, study and slice text over the image (O)"),
    "reset": ("Reset view", "R", "reset", False, False, "Reset zoom, pan and window (R)"),
    "three_plane": ("Three planes", "Ctrl+3", "three_plane", True, True,
                    "Axial, coronal and sagittal with a linked cross-hair (Ctrl+3)"),
    "cine": ("Cine", "Space", "play", True, False, "Play through the slices (Space)"),
    "tag_browser": ("DICOM tags…", "Ctrl+T", "tags", False, True,
                    "Browse the DICOM header of the shown slice (Ctrl+T)"),
    "tool_pan": ("Pan / zoom", "Esc", "pan", True, False,
                 "Left-drag pans, Ctrl+wheel zooms, right-drag sets window/level (Esc)"),
    "tool_distance": ("Distance", "D", "ruler", True, False, "Measure a distance in mm (D)"),
    "tool_rectangle": ("Rectangle ROI", "B", "rectangle", True, False,
                       "Statistics inside a rectangle (B)"),
    "tool_ellipse": ("Ellipse ROI", "E", "ellipse", True, False,
                     "Statistics inside an ellipse (E)"),
    "clear_measurements": ("Clear measurements", "Ctrl+Shift+Del", "clear", False, False,
                           "Remove all measurements"),
    "next_slice": ("Next slice", "PgDown", "", False, False, "Next slice (PgDn, wheel)"),
    "previous_slice": ("Previous slice", "PgUp", "", False, False, "Previous slice (PgUp, wheel)"),
}


def create_viewer_actions(owner: QWidget) -> dict[str, QAction]:
    """Create the viewer's actions, parented and added to ``owner`` (the scan viewer)."""
    actions: dict[str, QAction] = {}
    for name, (text, shortcut, icon_name, checkable, window_wide, tip) in _SPECS.items():
        action = QAction(text, owner)
        action.setObjectName(f"action_{name}")
        if icon_name:
            action.setIcon(icon(icon_name))
        if shortcut:
            action.setShortcut(QKeySequence(shortcut))
        action.setShortcutContext(
            Qt.ShortcutContext.WindowShortcut if window_wide
            else Qt.ShortcutContext.WidgetWithChildrenShortcut
        )
        action.setCheckable(checkable)
        action.setToolTip(tip)
        action.setStatusTip(tip)
        owner.addAction(action)
        actions[name] = action
    actions["next_slice"].setShortcuts([QKeySequence("PgDown"), QKeySequence("Down")])
    actions["previous_slice"].setShortcuts([QKeySequence("PgUp"), QKeySequence("Up")])
    tools = QActionGroup(owner)
    tools.setExclusive(True)
    for name in ("tool_pan", "tool_distance", "tool_rectangle", "tool_ellipse"):
        tools.addAction(actions[name])
    actions["tool_pan"].setChecked(True)
    actions["overlay_text"].setChecked(True)
    return actions
