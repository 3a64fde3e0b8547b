"""Docks and central views of the later parts, imported lazily by name.

Each entry names a widget class ``Cls(context: AppContext, parent=None)``. The module is imported
the first time the dock (or tab) is shown, so start-up stays fast; a module that is not there yet
shows a placeholder, and one that fails to import shows its error (and logs it).

To plug in a new part, add a :class:`PanelSpec` to :data:`DOCKS` or :data:`CENTRAL_VIEWS`.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDockWidget, QLabel, QMainWindow, QStackedLayout, QWidget

_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PanelSpec:
    key: str
    title: str
    module: str
    class_name: str
    area: Qt.DockWidgetArea = Qt.DockWidgetArea.RightDockWidgetArea


DOCKS: list[PanelSpec] = [
    PanelSpec("recording", "Recording studio", "stethoscan.gui.studio.recording_studio", "RecordingStudio"),
    PanelSpec("models", "Models", "stethoscan.gui.models.model_panel", "ModelPanel"),
    PanelSpec("results", "Results", "stethoscan.gui.models.results_panel", "ResultsPanel"),
    PanelSpec("scores", "Cognitive scores", "stethoscan.gui.records.clinical_scores", "ClinicalScoresPanel"),
]
CENTRAL_VIEWS: list[PanelSpec] = [
    PanelSpec("review", "Audio review", "stethoscan.gui.studio.audio_review", "AudioReviewView"),
]


def load_panel_class(spec: PanelSpec) -> type | str:
    """The widget class, or a sentence saying why it is not available."""
    try:
        module = importlib.import_module(spec.module)
    except ModuleNotFoundError as exc:
        if exc.name and spec.module.startswith(exc.name):
            return f"{spec.title} is not part of this build yet."
        _log.exception("Panel %s could not be imported", spec.key)
        return f"{spec.title} could not be loaded: {exc}. Details are in the log."
    except Exception as exc:  # any import-time bug must leave the rest of the window usable
        _log.exception("Panel %s could not be imported", spec.key)
        return f"{spec.title} could not be loaded ({type(exc).__name__}: {exc}). Details are in the log."
    cls = getattr(module, spec.class_name, None)
    if cls is None:
        return f"{spec.title} could not be loaded: {spec.module} has no {spec.class_name}."
    return cls


class LazyPanel(QWidget):
    """Holds a placeholder until :meth:`materialize` creates the real widget."""

    def __init__(self, spec: PanelSpec, context: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName(f"panel_{spec.key}")
        self.spec, self.context = spec, context
        self.widget: QWidget | None = None
        self.placeholder = QLabel(f"{spec.title}")
        self.placeholder.setObjectName("panelPlaceholder")
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.placeholder.setWordWrap(True)
        self._layout = QStackedLayout(self)
        self._layout.addWidget(self.placeholder)

    def materialize(self) -> QWidget | None:
        """Import and create the panel once; on failure keep a placeholder with the reason."""
        if self.widget is not None:
            return self.widget
        cls = load_panel_class(self.spec)
        if isinstance(cls, str):
            self.placeholder.setText(cls)
            return None
        try:
            self.widget = cls(self.context, parent=self)
        except Exception as exc:  # a broken panel must not take the window down
            _log.exception("Panel %s could not be created", self.spec.key)
            self.placeholder.setText(f"{self.spec.title} could not be opened ({type(exc).__name__}: {exc}).")
            return None
        self._layout.addWidget(self.widget)
        self._layout.setCurrentWidget(self.widget)
        return self.widget


def create_docks(window: QMainWindow, context: Any, specs: list[PanelSpec] | None = None) -> dict[str, QDockWidget]:
    """One dock per spec; its content is created the first time the dock becomes visible."""
    docks: dict[str, QDockWidget] = {}
    for spec in specs if specs is not None else DOCKS:
        dock = QDockWidget(spec.title, window)
        dock.setObjectName(f"dock_{spec.key}")
        panel = LazyPanel(spec, context, dock)
        dock.setWidget(panel)
        dock.visibilityChanged.connect(_materialize_when_visible(panel))
        window.addDockWidget(spec.area, dock)
        docks[spec.key] = dock
    return docks


def _materialize_when_visible(panel: LazyPanel) -> Callable[[bool], None]:
    def on_visibility(visible: bool) -> None:
        if visible:
            panel.materialize()

    return on_visibility
