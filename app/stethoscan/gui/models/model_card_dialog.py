"""The model card of a package (its ``card.md``), rendered as Markdown.

Links are not followed (the app never goes online); figures are read from the package folder.
Above the card: name, version, source, and the research-use and synthetic-training notices.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QTextBrowser, QVBoxLayout, QWidget

from stethoscan.core.errors import StethoscanError


def notices_html(entry: Any) -> str:
    parts = []
    if entry.research_use_only:
        parts.append("<b style='color:#ff9b8f'>Research use only · Not for diagnostic use</b>")
    if entry.synthetic_training_data:
        parts.append("<b style='color:#c7a6ff'>Trained on synthetic data, not on patients</b>")
    return " &nbsp;·&nbsp; ".join(parts)


class ModelCardDialog(QDialog):
    """Shows ``card.md`` of the package ``entry`` (a registry ``PackageEntry``)."""

    def __init__(self, entry: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("modelCardDialog")
        self.setWindowTitle(f"Model card — {entry.name} {entry.version}")
        self.resize(760, 680)
        header = QLabel(
            f"<b>{entry.name}</b> {entry.version} &nbsp;·&nbsp; {entry.task.replace('_', ' ')} "
            f"&nbsp;·&nbsp; {entry.source}<br>{notices_html(entry)}"
        )
        header.setTextFormat(Qt.TextFormat.RichText)
        header.setWordWrap(True)
        self.browser = QTextBrowser()
        self.browser.setObjectName("modelCardText")
        self.browser.setOpenLinks(False)
        self.browser.setOpenExternalLinks(False)
        self.browser.setSearchPaths([str(entry.path)])  # figures shipped in the package
        self.browser.setMarkdown(self._card_text(entry))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(header)
        layout.addWidget(self.browser, 1)
        layout.addWidget(buttons)

    @staticmethod
    def _card_text(entry: Any) -> str:
        try:
            return (entry.path / "card.md").read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError, StethoscanError) as exc:
            return f"**The model card could not be read** ({exc}). Verify or reinstall the package."
