"""Screenshots of the audio review view (offscreen, the app's dark theme) on real recordings.

Saves ``test-artifacts/screenshots/review_*.png`` for people to look at: a breath take with its
analysed phases and a clinician's marker, the analysis panel's features, and a voice take with
the voice report and the pitch contour on a mel spectrogram.
"""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtGui import QImage

from stethoscan.core.settings import Settings
from stethoscan.gui.app_context import AppContext
from stethoscan.gui.studio.audio_review import AudioReviewView
from stethoscan.gui.workers import Workers
from stethoscan.records.patient_store import PatientStore

pytestmark = [pytest.mark.real_data, pytest.mark.slow]
OUT = "test-artifacts/screenshots"


@pytest.fixture
def themed_view(app_theme, qtbot, tmp_path):
    workers = Workers()
    store = PatientStore(tmp_path / "patients.sqlite3")
    context = AppContext(Settings(), store, workers)
    context.set_patient(store.upsert_patient("SCREENSHOT", "Screenshot patient"))
    view = AudioReviewView(context)
    qtbot.addWidget(view)
    view.resize(1560, 920)
    view.show()
    qtbot.waitExposed(view)
    yield view
    view.shutdown()
    workers.shutdown()
    store.close()


def analyse(view, qtbot, path, kind: str) -> None:
    before = view.take
    view.import_file(path)
    qtbot.waitUntil(lambda: view.take is not None and view.take is not before, timeout=20000)
    qtbot.waitUntil(lambda: view.spectrogram_job is not None and not view.spectrogram_job.is_running,
                    timeout=20000)
    panel = view.analysis
    panel.kind_combo.setCurrentIndex(panel.kind_combo.findData(kind))
    panel.run()
    qtbot.waitUntil(lambda: panel.result is not None and not panel.is_running, timeout=60000)


def save(view, qtbot, root, name: str) -> QImage:
    qtbot.wait(150)
    path = root / OUT / name
    path.parent.mkdir(parents=True, exist_ok=True)
    pixmap = view.grab()
    assert pixmap.save(str(path))
    image = pixmap.toImage()
    assert (image.width(), image.height()) == (view.width(), view.height())
    return image


def busy_fraction(image: QImage) -> float:
    """Fraction of pixels that differ from the background: a blank or broken view has few."""
    image = image.convertToFormat(QImage.Format.Format_RGB32)
    pixels = np.frombuffer(image.constBits(), np.uint8).reshape(image.height(), image.width(), 4)
    background = pixels[2, 2, :3].astype(int)
    return float(np.mean(np.abs(pixels[..., :3].astype(int) - background).sum(axis=2) > 30))


def test_review_screenshots(themed_view, qtbot, shared_data, request):
    root = request.config.rootpath
    view = themed_view
    analyse(view, qtbot, shared_data / "icbhi-sample" / "104_1b1_Ll_sc_Litt3200.wav", "breath")
    view.selection.set_span(13.2, 14.4)
    view.add_marker("crackle")
    view.selection.set_cursor(7.4)
    view.side_tabs.setCurrentIndex(0)
    assert busy_fraction(save(view, qtbot, root, "review_breath.png")) > 0.2
    view.marker_panel.accept_button.click()  # the figures of the saved markers show above
    view.side_tabs.setCurrentIndex(1)
    view.analysis.tabs.setCurrentIndex(1)
    view.analysis.features.segment_combo.setCurrentIndex(1)
    view.analysis.features.view_combo.setCurrentText("LPC envelope vs spectrum")
    view.selection.set_span(4.85, 6.83)
    view.zoom_to_selection()
    assert busy_fraction(save(view, qtbot, root, "review_features.png")) > 0.2
    view.analysis.features.view_combo.setCurrentText("Log-mel spectrogram")
    view.analysis.tabs.setCurrentIndex(2)
    save(view, qtbot, root, "review_preprocessing.png")
    # The model tab: per-cycle calls, and the warning that this recording is unlike the sounds
    # the model was trained on (104 Ll's 150-1000 Hz level swings far beyond the synthetic ones).
    qtbot.waitUntil(lambda: view.analysis.model_view.table.rowCount() > 0, timeout=60000)
    view.analysis.tabs.setCurrentIndex(3)
    assert "unlike the model's training data" in view.analysis.model_view.notice.text()
    assert busy_fraction(save(view, qtbot, root, "review_model.png")) > 0.2

    analyse(view, qtbot, shared_data / "fsdd-voice" / "0_theo_0.wav", "voice")
    view.spectrogram_controls.scale_combo.setCurrentIndex(1)  # mel
    qtbot.waitUntil(lambda: view.spectrogram.spectrogram.scale == "mel", timeout=10000)
    view.analysis.tabs.setCurrentIndex(0)
    assert busy_fraction(save(view, qtbot, root, "review_voice.png")) > 0.2
