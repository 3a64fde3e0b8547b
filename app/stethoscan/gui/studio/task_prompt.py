"""The guided task widget: task picker, the prompt in large type, the passage to read, the
target and the take counter ("Take 2 of 3")."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QScrollArea, QVBoxLayout, QWidget

from stethoscan.audio.recording_tasks import RECORDING_TASKS, RecordingTask, get_task
from stethoscan.gui.studio.styled_label import styled_label
from stethoscan.workflows.recording_session import FREE_TASK

FREE_PROMPT = "Free recording: press Record, and Stop when you have what you need."


def take_text(take: int, task_key: str) -> str:
    """ "Take 2 of 3" for a guided task, "Take 4 (3 asked)" past the protocol, "Take 2" free."""
    if task_key == FREE_TASK:
        return f"Take {take}"
    takes = get_task(task_key).takes
    return f"Take {take} of {takes}" if take <= takes else f"Take {take} ({takes} asked)"


def task_or_free(task_key: str) -> RecordingTask | None:
    """The guided task named ``task_key``, or None for a free recording."""
    return None if task_key == FREE_TASK else get_task(task_key)


class TaskPrompt(QWidget):
    """What to record now; ``task_changed`` fires when the clinician picks another task."""

    task_changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        section = QVBoxLayout(self)
        section.setContentsMargins(0, 0, 0, 0)
        section.setSpacing(6)
        section.addLayout(self._build_picker())
        self.prompt_label = styled_label(
            "taskPrompt", "font-size: 15pt; color: #eef1f4; padding: 6px 2px;", wrap=True)
        section.addWidget(self.prompt_label)
        section.addWidget(self._build_passage())
        section.addLayout(self._build_targets())
        self.combo.currentIndexChanged.connect(self._on_task_changed)
        self._on_task_changed()

    def _build_picker(self) -> QHBoxLayout:
        row = QHBoxLayout()
        row.addWidget(QLabel("Task"))
        self.combo = QComboBox()
        self.combo.setObjectName("taskPicker")
        for task in RECORDING_TASKS:
            self.combo.addItem(task.title, task.key)
        self.combo.addItem("Free recording", FREE_TASK)
        row.addWidget(self.combo, 1)
        return row

    def _build_passage(self) -> QScrollArea:
        self.passage_label = styled_label(
            "taskPassage", "font-size: 13pt; color: #d5dae0; padding: 4px;", wrap=True)
        self.passage_area = QScrollArea()
        self.passage_area.setWidget(self.passage_label)
        self.passage_area.setWidgetResizable(True)
        self.passage_area.setMinimumHeight(120)
        self.passage_area.setStyleSheet("QScrollArea { background: #14171b; border: 1px solid #2a3038;"
                                        " border-radius: 4px; }")
        return self.passage_area

    def _build_targets(self) -> QHBoxLayout:
        targets = QHBoxLayout()
        self.target_label = styled_label("taskTarget", "color: #aab3bd;", wrap=True)
        self.take_label = styled_label(
            "takeCounter", "font-size: 12pt; font-weight: 600; color: #e6e9ed;")
        targets.addWidget(self.target_label, 1)
        targets.addWidget(self.take_label, 0, Qt.AlignmentFlag.AlignRight)
        return targets

    def task_key(self) -> str:
        return str(self.combo.currentData())

    def task(self) -> RecordingTask | None:
        return task_or_free(self.task_key())

    def choose(self, task_key: str) -> None:
        self.combo.setCurrentIndex(self.combo.findData(task_key))

    def show_take(self, take: int, task_key: str) -> None:
        self.take_label.setText(take_text(take, task_key))

    def _on_task_changed(self) -> None:
        task = self.task()
        self.prompt_label.setText(task.prompt if task else FREE_PROMPT)
        self.passage_label.setText(task.passage if task else "")
        self.passage_area.setVisible(bool(task and task.passage))
        if task is None:
            self.target_label.setText("No target: stop when you are done.")
        else:
            self.target_label.setText(f"Target: {task.target_text} · stops by itself after "
                                      f"{task.record_s:g} s")
        self.task_changed.emit()
