"""The recording studio dock, recording through the real virtual microphone.

espeak-ng speech is played into the PulseAudio null sink (``paplay --device=vspk``) while the
studio records from its monitor through ALSA -> PortAudio -> sounddevice, exactly as from a
microphone. Checked: the live views move, the take lands in the patient database with its
quality figures, pause/resume, discard, retake, an unplugged microphone (the sink unloaded), the
device picker's memory, the meter's clip latch, and the start-up recovery of unsaved takes.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QLabel

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "audio"))
from virtual_mic import normalized_xcorr, onset_by_xcorr, virtual_mic_fixture  # noqa: E402, F401

from stethoscan.audio.audio_files import read_audio  # noqa: E402
from stethoscan.audio.crash_safe_writer import CrashSafeWriter  # noqa: E402
from stethoscan.core.settings import Settings  # noqa: E402
from stethoscan.gui.app_context import AppContext  # noqa: E402
from stethoscan.gui.studio import recovery_dialog  # noqa: E402
from stethoscan.gui.studio.device_picker import DevicePicker  # noqa: E402
from stethoscan.gui.studio.live_meter import LevelMeterWidget  # noqa: E402
from stethoscan.gui.studio.live_spectrogram_view import mel_row_ticks  # noqa: E402
from stethoscan.gui.studio.recording_studio import RecordingStudio  # noqa: E402
from stethoscan.gui.studio.recovery_dialog import (  # noqa: E402
    DISCARD,
    LATER,
    RECOVER,
    RecoveryDialog,
    offer_recovery,
)
from stethoscan.gui.workers import Workers  # noqa: E402
from stethoscan.records.patient_store import PatientStore  # noqa: E402
from stethoscan.workflows.recording_session import list_recoverable, new_take_path  # noqa: E402

RATE = 48000
LEFT = Qt.MouseButton.LeftButton


def _need(tool: str) -> None:
    if shutil.which(tool) is None:
        pytest.skip(f"{tool} is not installed (Debian package {tool})")


@pytest.fixture(scope="module")
def speech_wav(tmp_path_factory) -> Path:
    """About 2.6 s of espeak-ng speech at 48 kHz mono."""
    _need("espeak-ng")
    _need("sox")
    folder = tmp_path_factory.mktemp("studio-speech")
    raw, out = folder / "raw.wav", folder / "speech48k.wav"
    subprocess.run(["espeak-ng", "-w", str(raw), "One, two, three, four, five."], check=True,
                   capture_output=True)
    subprocess.run(["sox", str(raw), "-r", str(RATE), "-c", "1", "-b", "16", str(out)],
                   check=True, capture_output=True)
    return out


@pytest.fixture
def home(tmp_path, monkeypatch) -> Path:
    """A fresh user home per test, so recordings folders never mix between tests."""
    folder = tmp_path / "home"
    monkeypatch.setenv("STETHOSCAN_HOME", str(folder))
    return folder


@pytest.fixture
def context(home, tmp_path):
    workers = Workers()
    store = PatientStore(tmp_path / "patients.sqlite3")
    settings = Settings()
    settings.audio.device = "pulse"
    ctx = AppContext(settings, store, workers)
    ctx.set_patient(store.upsert_patient("STUDIO-TEST", "Studio test"))
    yield ctx
    workers.shutdown(wait=True)
    store.close()


@pytest.fixture
def studio(context, qtbot, virtual_mic):
    widget = RecordingStudio(context)
    qtbot.addWidget(widget)
    widget.resize(480, 980)
    widget.show()
    qtbot.waitExposed(widget)
    qtbot.waitUntil(lambda: widget.live_views.spare is not None, timeout=30000)
    yield widget
    widget.shutdown()


def choose_task(studio: RecordingStudio, key: str) -> None:
    studio.task_combo.setCurrentIndex(studio.task_combo.findData(key))


def wait_phase(qtbot, studio: RecordingStudio, phase: str, timeout_ms: int = 10000) -> None:
    qtbot.waitUntil(lambda: studio.phase == phase, timeout=timeout_ms)


def start_recording(qtbot, studio: RecordingStudio) -> None:
    qtbot.mouseClick(studio.record_button, LEFT)
    wait_phase(qtbot, studio, "recording")


def play_and_wait(qtbot, mic, wav: Path) -> None:
    player = mic.play(wav)
    qtbot.waitUntil(lambda: player.poll() is not None, timeout=20000)
    assert player.returncode == 0, player.stderr.read()


def test_real_speech_take_is_saved_with_its_quality_figures(studio, context, qtbot, virtual_mic,
                                                            speech_wav):
    choose_task(studio, "vowel_a")
    assert studio.take_label.text() == "Take 1 of 3"
    assert "Studio test" in studio.patient_label.text()
    assert "aaah" in studio.prompt_label.text() and "3-6 s" in studio.target_label.text()
    assert studio.prompt_label.font().pointSizeF() >= 14 or "15pt" in studio.prompt_label.styleSheet()
    start_recording(qtbot, studio)
    assert not studio.record_button.isEnabled() and studio.stop_button.isEnabled()
    qtbot.wait(300)
    play_and_wait(qtbot, virtual_mic, speech_wav)
    qtbot.wait(300)
    assert studio.meter.max_peak_dbfs > -60.0  # the meter moved with the speech
    assert studio.spectrogram.column_count > 250  # 10 ms columns for > 2.5 s
    assert studio.waveform.point_count > 250
    assert float(studio.elapsed_label.text().split()[0]) > 2.5
    qtbot.mouseClick(studio.stop_button, LEFT)
    wait_phase(qtbot, studio, "review")

    [take] = context.store.list_recordings(session_id=context.session_id)
    assert (take.task, take.take, take.status) == ("vowel_a", 1, "complete")
    assert take.device == "pulse (ALSA)" and take.sample_rate_hz == RATE and take.created_at
    quality = take.quality
    for key in ("snr_db", "clipped_fraction", "active_s", "silent_fraction", "peak_dbfs"):
        assert key in quality
    assert quality["peak_dbfs"] > -30.0 and quality["active_s"] > 1.0
    assert studio.overflows == 0 and studio.last_result.overflows == 0
    assert context.recording is not None and context.recording.id == take.id  # in the review view
    # The file holds what was played.
    clip = read_audio(take.path)
    played = read_audio(speech_wav).mono()
    recorded = clip.mono()
    onset = onset_by_xcorr(recorded, played)
    assert 0 <= onset and onset + len(played) <= len(recorded)
    assert normalized_xcorr(recorded[onset : onset + len(played)], played) > 0.9
    # The verdict, in words and figures.
    panel = studio.quality_panel
    assert panel.isVisible() and "Take 1 of 3" in panel.headline.text()
    texts = [panel.figures.itemAt(i).widget().text() for i in range(panel.figures.count())]
    assert any(t.endswith("dB  (needs 20 dB)") for t in texts)
    assert any("%" in t for t in texts) and "Clipping" in texts and "Silence" in texts
    qtbot.mouseClick(panel.keep_button, LEFT)
    assert studio.phase == "idle" and not panel.isVisible()
    assert studio.take_label.text() == "Take 2 of 3"
    assert len(context.store.list_recordings(session_id=context.session_id)) == 1


def test_pause_and_resume(studio, context, qtbot, virtual_mic, speech_wav):
    choose_task(studio, "counting")
    start_recording(qtbot, studio)
    started = time.monotonic()
    player = virtual_mic.play(speech_wav)
    try:
        qtbot.wait(700)
        studio.activateWindow()
        qtbot.waitActive(studio)
        qtbot.keyClick(studio, Qt.Key.Key_P, Qt.KeyboardModifier.ControlModifier)  # Ctrl+P
        wait_phase(qtbot, studio, "paused", 1000)  # a shortcut "animates" the click: ~0.1 s
        assert studio.pause_button.text() == "Resume"
        paused_at, columns = studio.elapsed_s, studio.spectrogram.column_count
        qtbot.wait(900)
        assert studio.elapsed_s == pytest.approx(paused_at, abs=0.05)  # the clock stands still
        assert studio.spectrogram.column_count > columns + 50  # ... the live views do not
        qtbot.mouseClick(studio.pause_button, LEFT)
        assert studio.phase == "recording"
        qtbot.wait(700)
        assert studio.elapsed_s > paused_at + 0.4
    finally:
        player.wait(timeout=20)
    qtbot.mouseClick(studio.stop_button, LEFT)
    wall_s = time.monotonic() - started
    wait_phase(qtbot, studio, "review")
    [take] = context.store.list_recordings(session_id=context.session_id)
    assert take.task == "counting"
    assert take.duration_s < wall_s - 0.7  # the pause is not in the take


def test_discard_leaves_nothing(studio, context, qtbot, home):
    start_recording(qtbot, studio)
    qtbot.wait(600)
    qtbot.mouseClick(studio.discard_button, LEFT)
    assert studio.phase == "idle" and studio.recorder is None
    # A finished take discarded from its verdict goes as well.
    start_recording(qtbot, studio)
    qtbot.wait(500)
    qtbot.mouseClick(studio.stop_button, LEFT)
    wait_phase(qtbot, studio, "review")
    assert len(context.store.list_recordings()) == 1
    qtbot.mouseClick(studio.discard_button, LEFT)
    assert context.store.list_recordings() == []
    assert context.recording is None
    recordings = home / "data" / "recordings"
    assert [p for p in recordings.rglob("*") if p.is_file()] == []
    assert list_recoverable() == []


def test_silent_take_is_worded_and_retaken(studio, context, qtbot):
    choose_task(studio, "vowel_a")
    start_recording(qtbot, studio)  # nothing is played: the microphone hears digital silence
    qtbot.wait(800)
    qtbot.mouseClick(studio.stop_button, LEFT)
    wait_phase(qtbot, studio, "review")
    panel = studio.quality_panel
    assert "Retake suggested" in panel.headline.text()
    assert "No sound: check that the right microphone is selected" in panel.problems.text()
    [first] = context.store.list_recordings()
    qtbot.mouseClick(panel.retake_button, LEFT)
    wait_phase(qtbot, studio, "recording")
    assert not Path(first.path).exists() and context.store.list_recordings() == []
    assert studio.take_label.text() == "Take 1 of 3"  # the same take, again
    qtbot.wait(400)
    qtbot.mouseClick(studio.stop_button, LEFT)
    wait_phase(qtbot, studio, "review")
    [second] = context.store.list_recordings()
    assert (second.task, second.take) == ("vowel_a", 1) and Path(second.path).exists()


def test_a_microphone_that_cannot_be_opened_is_explained(studio, context, qtbot, monkeypatch):
    from stethoscan.core.errors import AudioDeviceError
    from stethoscan.gui.studio import recording_studio

    message = "The microphone USB (ALSA) could not be opened at 48000 Hz with 1 channel(s)."

    def refuse(*args, **kwargs):
        raise AudioDeviceError(message)

    monkeypatch.setattr(recording_studio, "start_take", refuse)
    qtbot.mouseClick(studio.record_button, LEFT)
    assert studio.phase == "idle" and studio.recorder is None
    assert studio.banner.isVisible() and studio.banner.text.text() == message
    assert studio.banner.kind == "error" and studio.record_button.isEnabled()


@pytest.mark.slow
def test_unplugged_microphone_keeps_the_take_and_says_so(studio, context, qtbot, virtual_mic,
                                                         speech_wav):
    start_recording(qtbot, studio)
    player = virtual_mic.play(speech_wav)
    try:
        qtbot.wait(1500)
        recorded_before_s = studio.elapsed_s
        virtual_mic.unload_sink()
        qtbot.waitUntil(lambda: studio.banner.isVisible(), timeout=2000)
        assert studio.banner.text.text().startswith("The microphone stopped (")
        wait_phase(qtbot, studio, "review")
    finally:
        virtual_mic.reload_sink()
        player.terminate()
        player.wait(timeout=10)
    [take] = context.store.list_recordings()
    assert take.status == "interrupted"
    assert recorded_before_s - 0.05 <= take.duration_s <= recorded_before_s + 0.8
    text = studio.banner.text.text()
    assert f"The recording so far ({take.duration_s:.1f} s) was saved." in text
    assert studio.banner.kind == "error" and studio.phase == "review"
    assert "microphone stopped" in studio.quality_panel.problems.text()


def test_device_picker_remembers_the_choice(qtbot, virtual_mic):
    audio = Settings().audio
    picker = DevicePicker(audio)
    qtbot.addWidget(picker)
    names = [picker.device_combo.itemData(i) for i in range(picker.device_combo.count())]
    assert names[0] is None and "pulse" in names  # "System default" first
    assert picker.device_combo.itemText(0).startswith("System default")
    assert picker.rate_combo.currentData() == 48000 and picker.channels_combo.currentData() == 1
    picker.device_combo.setCurrentIndex(names.index("pulse"))
    picker.rate_combo.setCurrentIndex(picker.rate_combo.findData(44100))
    assert (audio.device, audio.sample_rate_hz, audio.channels) == ("pulse", 44100, 1)
    again = DevicePicker(audio)  # the next start
    qtbot.addWidget(again)
    assert again.device_combo.currentData() == "pulse" and again.rate_combo.currentData() == 44100
    choice = again.resolve()
    assert choice.device.name == "pulse" and choice.rate_hz == 44100
    again.rescan()
    assert again.device_combo.currentData() == "pulse"
    audio.device = "USB Stethoscope"
    gone = DevicePicker(audio)
    qtbot.addWidget(gone)
    assert "USB Stethoscope" in gone.message.text() and not gone.message.isHidden()
    assert "not connected" in gone.resolve().fallback_reason
    assert audio.device == "USB Stethoscope"  # remembered until the user picks another one


def test_level_meter_holds_peaks_and_latches_clipping(qtbot):
    meter = LevelMeterWidget()
    qtbot.addWidget(meter)
    meter.resize(100, 400)
    meter.show()
    meter.start(RATE)
    t = np.arange(480) / RATE
    quiet = (0.01 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)[:, None]  # -40 dBFS peak
    meter.push(quiet)
    assert meter.bar_peak_dbfs == pytest.approx(-40.0, abs=0.5) and not meter.clipped
    meter.push(np.ones((480, 1), np.float32))
    assert meter.clipped and meter.hold_dbfs == pytest.approx(0.0, abs=0.01)
    for _ in range(50):  # 0.5 s of quiet: the hold stays, the clip light stays
        meter.push(quiet)
    assert meter.hold_dbfs == pytest.approx(0.0, abs=0.01) and meter.clipped
    assert meter.bar_peak_dbfs < -5.0  # ... while the bar falls
    red = meter.grab().toImage().pixelColor(meter.clip_rect().center().toPoint() + QPoint(20, 0))
    assert red.red() > 180 and red.green() < 140
    with qtbot.waitSignal(meter.clip_reset, timeout=1000):
        qtbot.mouseClick(meter, LEFT, pos=meter.clip_rect().center().toPoint())
    assert not meter.clipped
    meter.push(quiet)
    assert not meter.clipped and meter.max_peak_dbfs == pytest.approx(0.0, abs=0.01)


def test_mel_axis_is_labelled_in_hz_without_overlaps():
    from stethoscan.audio.live_spectrogram import LiveSpectrogram

    spec = LiveSpectrogram(RATE, window_s=1.0, n_mels=64)
    ticks = mel_row_ticks(np.asarray(spec.frequencies_hz))
    rows = [row for row, _ in ticks]
    assert rows == sorted(rows) and np.min(np.diff(rows)) >= 6.0
    labels = [label for _, label in ticks]
    assert "1 k" in labels and "8 k" in labels
    row_1k = rows[labels.index("1 k")]
    centre_hz = np.interp(row_1k - 0.5, np.arange(64), spec.frequencies_hz)
    assert centre_hz == pytest.approx(1000.0, rel=0.01)


def _unsaved_take(session_id: int, seconds: float, take: int = 1) -> Path:
    path = new_take_path(session_id, "cough", take)
    writer = CrashSafeWriter(path, RATE, 1, device="pulse (ALSA)",
                             tags={"session_id": session_id, "task": "cough", "take": take})
    writer.write(0.1 * np.ones((int(seconds * RATE), 1), np.float32))
    writer.sync()
    writer._raw.close()  # the program died here: no finalize
    return path


class _Window:
    def __init__(self, context) -> None:
        self.context = context


def test_start_up_recovery_recovers_discards_or_waits(context, qtbot, monkeypatch):
    session = context.ensure_session()
    first = _unsaved_take(session, 1.0, take=1)
    _unsaved_take(session, 0.5, take=2)
    _unsaved_take(session, 0.25, take=3)
    items = list_recoverable()
    dialog = RecoveryDialog(items[0], 1, 3)
    qtbot.addWidget(dialog)
    shown = " ".join(label.text() for label in dialog.findChildren(QLabel)).replace("\u00a0", " ")
    assert "An unsaved recording from " in shown and "(1.0 s) was found." in shown
    assert "Voluntary cough, take 1" in shown and dialog.windowTitle().endswith("(1 of 3)")
    qtbot.mouseClick(dialog.discard_button, LEFT)
    assert dialog.choice == DISCARD
    answers = {1: RECOVER, 2: DISCARD, 3: LATER}
    asked: list[int] = []

    def ask(item, parent, position, count):
        asked.append(position)
        return answers[position]

    changed: list[bool] = []
    context.recordings_changed.connect(lambda: changed.append(True))
    titles: list[str] = []
    context.workers.job_started.connect(lambda job: titles.append(job.title))
    threads: list[str] = []
    real_recover = recovery_dialog.recover_into_store

    def recover_and_note_thread(*args, **kwargs):
        threads.append(threading.current_thread().name)
        return real_recover(*args, **kwargs)

    monkeypatch.setattr(recovery_dialog, "recover_into_store", recover_and_note_thread)
    warnings: list[str] = []
    outcome = offer_recovery(_Window(context), ask=ask, warn=lambda _w, text: warnings.append(text))
    assert asked == [1, 2, 3]
    qtbot.waitUntil(lambda: outcome.done, timeout=10000)
    assert changed and warnings == []
    assert titles == ["Recovering an unsaved recording", "Deleting an unsaved recording"]
    assert threads and threads[0].startswith("stethoscan-io")  # not the GUI thread
    assert (len(outcome.recovered), outcome.discarded, outcome.later, outcome.failures) == (1, 1, 1, [])
    [recovered] = context.store.list_recordings(session_id=session)
    assert recovered.status == "recovered" and recovered.task == "cough" and recovered.take == 1
    assert recovered.duration_s == pytest.approx(1.0, abs=0.01) and Path(recovered.path) == first
    [left] = list_recoverable()  # "Later": asked again at the next start
    assert left.tags["take"] == 3


def test_a_take_that_cannot_be_recovered_is_explained_in_words(context, qtbot):
    _unsaved_take(9999, 0.25)  # its session is gone from the database
    warnings: list[str] = []
    outcome = offer_recovery(_Window(context), ask=lambda *_: RECOVER,
                             warn=lambda _w, text: warnings.append(text))
    qtbot.waitUntil(lambda: outcome.done, timeout=10000)
    assert outcome.recovered == [] and len(outcome.failures) == 1
    assert "Voluntary cough, take 1" in outcome.failures[0]
    assert "Session 9999 does not exist." in outcome.failures[0]
    [text] = warnings
    assert text.startswith("Some unsaved recordings could not be recovered") and "9999" in text
    assert len(list_recoverable()) == 1  # still there for another try


def test_patient_line_reads_dicom_person_names_naturally():
    from stethoscan.gui.studio.studio_header import person_name_text

    assert person_name_text("DEMO^Patient") == "DEMO, Patient"
    assert person_name_text("DOE^JANE^^DR") == "DOE, JANE DR"
    assert person_name_text("Jane Example") == "Jane Example"


# -- "Check level": the live views without recording --------------------------------------------
def _tone(path: Path, seconds: float, peak: float = 0.1, hz: float = 1000.0) -> Path:
    """A ``hz`` Hz sine at ``peak`` (0.1 = -20 dBFS peak), 48 kHz 16-bit mono, 10 ms fades."""
    import soundfile as sf

    t = np.arange(int(seconds * RATE)) / RATE
    fade = np.minimum(1.0, np.minimum(t, t[-1] - t) / 0.01)
    sf.write(path, peak * np.sin(2 * np.pi * hz * t) * fade, RATE, subtype="PCM_16")
    return path


def _files(folder: Path) -> set[Path]:
    return {p for p in folder.rglob("*") if p.is_file()} if folder.exists() else set()


def test_check_level_moves_the_meter_without_recording_then_record_takes_over(
        studio, context, qtbot, virtual_mic, home, tmp_path):
    from stethoscan.audio import audio_devices

    tone = _tone(tmp_path / "tone.wav", 1.0)
    before = _files(home)
    button = studio.check_level_button
    assert button.isEnabled() and button.isCheckable() and "without recording" in button.toolTip()
    qtbot.mouseClick(button, LEFT)
    check = studio.level_check
    assert check.active and button.isChecked() and studio.phase == "idle"
    assert "Checking level - not recording" in studio.controls.state_label.text()
    assert studio.record_button.isEnabled() and studio.recorder is None
    qtbot.waitUntil(lambda: check.first_update_s is not None, timeout=10000)
    play_and_wait(qtbot, virtual_mic, tone)
    qtbot.wait(150)
    print(f"check level: device opened in {check.open_s * 1000:.1f} ms, first meter update "
          f"{check.first_update_s * 1000:.0f} ms after the press; meter peak "
          f"{studio.meter.max_peak_dbfs:.2f} dBFS (played -20.00)")
    assert studio.meter.max_peak_dbfs == pytest.approx(-20.0, abs=1.0) and not studio.meter.clipped
    assert studio.spectrogram.column_count > 100 and studio.waveform.point_count > 100
    assert studio.elapsed_label.text() == "0.0 s"  # no take clock: nothing is being recorded
    assert _files(home) == before and list_recoverable() == []
    assert context.store.list_recordings() == []
    # Record stops the check, takes the microphone and records a take.
    qtbot.mouseClick(studio.record_button, LEFT)
    assert not check.active and not button.isChecked() and not button.isEnabled()
    wait_phase(qtbot, studio, "recording")
    assert audio_devices._open_streams == 1  # the take's stream only
    qtbot.wait(500)
    qtbot.mouseClick(studio.stop_button, LEFT)
    wait_phase(qtbot, studio, "review")
    [take] = context.store.list_recordings(session_id=context.session_id)
    assert take.status == "complete" and take.duration_s > 0.3 and Path(take.path).exists()
    assert button.isEnabled()  # the level can be checked again before Keep or Retake


def test_check_level_stops_when_the_microphone_changes_or_the_studio_closes(
        studio, context, qtbot, virtual_mic, monkeypatch):
    from stethoscan.audio import audio_devices
    from stethoscan.core.errors import AudioDeviceError
    from stethoscan.gui.studio import level_check

    messages: list[str] = []
    context.status_message.connect(messages.append)
    check, button = studio.level_check, studio.check_level_button
    qtbot.mouseClick(button, LEFT)
    assert check.active and audio_devices._open_streams == 1
    studio.picker.rate_combo.setCurrentIndex(studio.picker.rate_combo.findData(44100))
    assert not check.active and not button.isChecked() and audio_devices._open_streams == 0
    assert messages[-1] == "Level check stopped: the microphone changed."
    assert studio.controls.state_label.text().endswith("Ready</span>")
    qtbot.mouseClick(button, LEFT)  # again, at 44.1 kHz
    assert check.active and check.monitor.config.rate_hz == 44100
    studio.shutdown()  # the studio (or the app) closes
    assert not check.active and audio_devices._open_streams == 0
    qtbot.mouseClick(button, LEFT)
    studio.hide()  # the dock closed or another tab in front: nobody watches the meter
    assert not check.active and audio_devices._open_streams == 0
    studio.show()
    qtbot.mouseClick(button, LEFT)
    qtbot.mouseClick(studio.picker.rescan_button, LEFT)  # PortAudio restarts: the check stops first
    assert not check.active and studio.picker.message.isHidden() and studio.picker.devices
    # Unplugged during the check: said in the banner, the button pops up.
    qtbot.mouseClick(button, LEFT)
    qtbot.waitUntil(lambda: check.first_update_s is not None, timeout=10000)
    try:
        virtual_mic.unload_sink()
        qtbot.waitUntil(lambda: studio.banner.isVisible(), timeout=3000)
    finally:
        virtual_mic.reload_sink()
    assert not check.active and not button.isChecked() and studio.banner.kind == "error"
    assert "unplugged or failing" in studio.banner.text.text()
    assert "Nothing was being recorded" in studio.banner.text.text()
    # A microphone that cannot be opened is explained; the button does not stay pressed.
    message = "The microphone USB (ALSA) could not be opened at 48000 Hz with 1 channel(s)."

    class Refusing:
        def __init__(self, config) -> None:
            pass

        def start(self) -> None:
            raise AudioDeviceError(message)

    monkeypatch.setattr(level_check, "LevelMonitor", Refusing)
    qtbot.mouseClick(button, LEFT)
    assert not check.active and not button.isChecked()
    assert studio.banner.kind == "error" and studio.banner.text.text() == message
