"""Screenshots of the recording studio for people to look at: while it records real speech
from the virtual microphone, the quality verdict after the take, and "Check level" (the live
views move, nothing is recorded).

They land in ``test-artifacts/screenshots/studio_recording.png``, ``studio_quality.png`` and
``studio_check_level.png``,
drawn with the application's own theme (Fusion, dark palette, ``resources/style`` sheet).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pyqtgraph as pg
import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QImage

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "audio"))
from virtual_mic import virtual_mic_fixture  # noqa: E402, F401

from stethoscan.core.settings import Settings  # noqa: E402
from stethoscan.gui.app_context import AppContext  # noqa: E402
from stethoscan.gui.application import apply_theme  # noqa: E402
from stethoscan.gui.studio.recording_studio import RecordingStudio  # noqa: E402
from stethoscan.gui.workers import Workers  # noqa: E402
from stethoscan.records.patient_store import PatientStore  # noqa: E402

OUT = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
SIZE = (460, 1000)  # a generous dock
pytestmark = [pytest.mark.screenshot, pytest.mark.audio_stack]


@pytest.fixture
def clinical_theme(qapp):
    """The app's theme for this test only (the rest of the suite keeps the default look)."""
    saved = (qapp.styleSheet(), qapp.palette(), qapp.style().name(),
             {k: pg.getConfigOption(k) for k in ("imageAxisOrder", "background", "foreground")})
    apply_theme(qapp)
    yield
    sheet, palette, style, options = saved
    qapp.setStyleSheet(sheet)
    qapp.setPalette(palette)
    qapp.setStyle(style)
    pg.setConfigOptions(**options)


@pytest.fixture
def speech(tmp_path) -> Path:
    for tool in ("espeak-ng", "sox"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed (Debian package {tool})")
    raw, out = tmp_path / "raw.wav", tmp_path / "speech.wav"
    subprocess.run(["espeak-ng", "-s", "140", "-w", str(raw),
                    "Aaah. One, two, three, four, five, six."], check=True, capture_output=True)
    subprocess.run(["sox", str(raw), "-r", "48000", "-c", "1", str(out), "vol", "0.5"],
                   check=True, capture_output=True)
    return out


@pytest.fixture
def studio(clinical_theme, tmp_path, monkeypatch, qtbot, virtual_mic):
    monkeypatch.setenv("STETHOSCAN_HOME", str(tmp_path / "home"))
    workers = Workers()
    store = PatientStore(tmp_path / "patients.sqlite3")
    settings = Settings()
    settings.audio.device = "pulse"
    context = AppContext(settings, store, workers)
    context.set_patient(store.upsert_patient("SCREENSHOT", "Alex Example"))
    widget = RecordingStudio(context)
    qtbot.addWidget(widget)
    widget.resize(*SIZE)
    widget.show()
    qtbot.waitExposed(widget)
    qtbot.waitUntil(lambda: widget.live_views.spare is not None, timeout=30000)
    yield widget
    widget.shutdown()
    workers.shutdown(wait=True)
    store.close()


def _save(widget, name: str) -> QImage:
    OUT.mkdir(parents=True, exist_ok=True)
    image = widget.grab().toImage()
    assert image.save(str(OUT / name))
    return image


def _colour_at(image: QImage, widget, child, x_fraction: float, y_fraction: float):
    point = child.mapTo(widget, QPoint(int(child.width() * x_fraction),
                                       int(child.height() * y_fraction)))
    return image.pixelColor(point)


def test_studio_screenshots_while_recording_and_after_the_take(studio, qtbot, virtual_mic, speech):
    studio.task_combo.setCurrentIndex(studio.task_combo.findData("counting"))
    qtbot.mouseClick(studio.record_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: studio.phase == "recording", timeout=10000)
    qtbot.wait(400)
    player = virtual_mic.play(speech)
    try:
        qtbot.wait(2600)
        recording = _save(studio, "studio_recording.png")
    finally:
        player.wait(timeout=20)
    qtbot.wait(300)
    # While recording: the meter bar is lit near its bottom, the spectrogram has bright columns.
    assert _colour_at(recording, studio, studio.meter, 0.68, 0.85).green() > 120
    assert studio.spectrogram.column_count > 200 and studio.meter.max_peak_dbfs > -30
    qtbot.mouseClick(studio.stop_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: studio.phase == "review", timeout=15000)
    qtbot.wait(200)
    _save(studio, "studio_quality.png")
    assert studio.quality_panel.isVisible() and studio.quality_panel.saved is not None
    assert (OUT / "studio_recording.png").stat().st_size > 20000


def test_studio_screenshot_while_checking_level(studio, qtbot, virtual_mic, speech):
    qtbot.mouseClick(studio.check_level_button, Qt.MouseButton.LeftButton)
    check = studio.level_check
    qtbot.waitUntil(lambda: check.first_update_s is not None, timeout=10000)
    qtbot.wait(300)
    player = virtual_mic.play(speech)
    try:
        qtbot.wait(2600)
        checking = _save(studio, "studio_check_level.png")
    finally:
        player.wait(timeout=20)
    # The button is lit, the state says nothing is recorded, the meter and spectrogram moved.
    assert check.active and studio.check_level_button.isChecked() and studio.phase == "idle"
    assert "Checking level - not recording" in studio.controls.state_label.text()
    assert _colour_at(checking, studio, studio.meter, 0.68, 0.85).green() > 120
    assert studio.spectrogram.column_count > 200 and studio.meter.max_peak_dbfs > -30
    assert studio.recorder is None and (OUT / "studio_check_level.png").stat().st_size > 20000
    qtbot.mouseClick(studio.check_level_button, Qt.MouseButton.LeftButton)
    assert not check.active
