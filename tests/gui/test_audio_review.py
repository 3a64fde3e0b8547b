"""The audio review view on real recordings: import, durations and axes, zoom, markers saved in
the database and reloaded, playback with a moving cursor, export without metadata."""

from __future__ import annotations

import os
import shutil
import subprocess

import numpy as np
import pytest
import soundfile as sf
from gui_gestures import drag, wheel
from PySide6.QtCore import QPointF, Qt

from stethoscan.audio.spectrogram_image import compute_spectrogram, mel_filter_bank
from stethoscan.audio.waveform_levels import WaveformLevels
from stethoscan.gui.studio.audio_review import AudioReviewView

ICBHI = {  # file -> (rate Hz, libsndfile subtype)
    "104_1b1_Ll_sc_Litt3200.wav": (4000, "PCM_16"),
    "101_1b1_Al_sc_Meditron.wav": (44100, "PCM_32"),
    "103_2b2_Ar_mc_LittC2SE.wav": (44100, "PCM_24"),
}
pytestmark = pytest.mark.real_data


@pytest.fixture
def context(make_context):
    return make_context("REVIEW-TEST", "Review test")


@pytest.fixture
def view(review_view):
    return review_view


def open_file(view, qtbot, path) -> None:
    """Import ``path`` as a take and wait until its waveform and spectrogram are shown."""
    before = view.take
    job = view.import_file(path)
    assert job is not None
    qtbot.waitUntil(lambda: view.take is not None and view.take is not before, timeout=20000)
    qtbot.waitUntil(lambda: not view.spectrogram_job.is_running, timeout=20000)
    assert view.spectrogram.spectrogram is not None


@pytest.mark.parametrize("name", sorted(ICBHI))
def test_real_stethoscope_files_open_with_their_duration_rate_and_axes(view, qtbot, shared_data, name):
    path = shared_data / "icbhi-sample" / name
    rate, subtype = ICBHI[name]
    original = sf.info(str(path))
    assert (original.samplerate, original.subtype) == (rate, subtype)  # the mix the issue asks for
    open_file(view, qtbot, path)
    clip = view.take.clip
    assert clip.rate_hz == rate
    assert clip.duration_s == pytest.approx(original.frames / rate, abs=1e-6)
    # Imported losslessly (32-bit integer stays WAV, the rest becomes FLAC) and registered.
    recording = view.recording
    assert recording.status == "imported" and recording.sample_rate_hz == rate
    assert recording.duration_s == pytest.approx(clip.duration_s)
    stored, _ = sf.read(recording.path, dtype="float32", always_2d=True)
    source, _ = sf.read(str(path), dtype="float32", always_2d=True)
    assert np.array_equal(stored, source)
    assert sf.info(recording.path).subtype == subtype
    # The time axis covers the take; the spectrogram reaches the Nyquist frequency.
    assert view.waveform.time_range() == pytest.approx((0.0, clip.duration_s), abs=1e-3)
    spec = view.spectrogram.spectrogram
    assert spec.x0_s + spec.width_s == pytest.approx(clip.duration_s, abs=2 * spec.hop_s)
    assert spec.y0 + spec.height == pytest.approx(rate / 2, rel=0.01)
    assert view.spectrogram.plot.getAxis("left").labelText == "Frequency (Hz)"
    assert view.spectrogram.plot.getAxis("bottom").labelText == "Time (s)"
    low, high = view.spectrogram.frequency_range_hz()
    assert low == pytest.approx(0.0) and high == pytest.approx(min(4000.0, rate / 2))
    assert f"{rate} Hz" in view.info.text() and f"{clip.duration_s:.2f} s" in view.info.text()


def test_voice_file_opens_and_the_mel_scale_keeps_the_axis_in_hz(view, qtbot, shared_data):
    open_file(view, qtbot, shared_data / "fsdd-voice" / "5_jackson_0.wav")
    assert view.take.clip.rate_hz == 8000
    view.spectrogram_controls.scale_combo.setCurrentIndex(1)  # mel
    qtbot.waitUntil(lambda: view.spectrogram.spectrogram.scale == "mel", timeout=10000)
    axis = view.spectrogram.freq_axis
    low, high = view.spectrogram.plot.viewRange()[1]
    ticks = axis.tickValues(low, high, 400)[0][1]
    labels = axis.tickStrings(ticks, 1.0, 1.0)
    assert "1000" in labels and "500" in labels  # round frequencies, in Hz, on a mel axis
    assert view.spectrogram.frequency_range_hz()[1] == pytest.approx(4000.0, rel=1e-3)


def test_zoom_updates_the_overview_and_draws_only_what_is_visible(view, qtbot, shared_data):
    open_file(view, qtbot, shared_data / "icbhi-sample" / "101_1b1_Al_sc_Meditron.wav")
    view.waveform.set_time_range(5.0, 5.05)
    assert view.waveform.visible_range.getRegion() == pytest.approx((5.0, 5.05))
    x, _ = view.waveform.curve.getData()
    assert x.min() >= 4.97 and x.max() <= 5.08  # raw samples near the view, not the whole take
    view.selection.set_span(2.0, 3.5)
    view.zoom_to_selection()
    assert view.spectrogram.plot.viewRange()[0] == pytest.approx([2.0, 3.5])  # linked time axes
    view.show_all()
    x, _ = view.waveform.curve.getData()
    assert x.size < 20000  # 882000 samples drawn as a min/max envelope
    low, high = view.waveform.plot.viewRange()[1]
    centre = QPointF(view.graphics.mapFromScene(view.waveform.view_box.sceneBoundingRect().center()))
    wheel(view, centre, 2, Qt.KeyboardModifier.ControlModifier)  # amplitude zoom, time unchanged
    assert view.waveform.plot.viewRange()[1] == pytest.approx([low * 0.64, high * 0.64], rel=1e-3)
    assert view.waveform.time_range() == pytest.approx((0.0, view.take.clip.duration_s), abs=1e-3)


def test_waveform_levels_keep_every_peak_of_a_long_recording():
    rng = np.random.default_rng(3)
    samples = rng.standard_normal(48000 * 600, dtype=np.float32) * np.float32(0.05)  # 10 min, 48 kHz
    samples[12_345_678] = 0.93
    levels = WaveformLevels(samples, 48000)
    x, y = levels.visible_curve(0.0, levels.duration_s, 1000)
    assert y.size <= 8000 and y.max() == pytest.approx(0.93)
    assert 0.1 < levels.typical_peak < 0.3  # the plot's scale ignores the single click
    x, y = levels.visible_curve(257.0, 258.0, 1000)
    inside = (x >= 257.0) & (x <= 258.0)
    exact = samples[257 * 48000 : 258 * 48000]
    assert y[inside].max() == pytest.approx(exact.max(), abs=1e-6)
    assert y[inside].min() == pytest.approx(exact.min(), abs=1e-6)


def test_spectrogram_levels_and_mel_filters():
    import librosa

    rate = 8000
    t = np.arange(rate) / rate
    sine = np.sin(2 * np.pi * 1000.0 * t).astype(np.float32)  # full scale, 1 kHz
    spec = compute_spectrogram(sine, rate, "linear")
    peak_row = int(np.argmax(spec.db[:, spec.db.shape[1] // 2]))
    row_hz = spec.y0 + (peak_row + 0.5) * spec.height / spec.db.shape[0]
    assert row_hz == pytest.approx(1000.0, abs=rate / spec.n_fft)
    assert spec.db.max() == pytest.approx(0.0, abs=0.5)  # dB re full scale
    ours = mel_filter_bank(rate, 256, 40)
    theirs = librosa.filters.mel(sr=rate, n_fft=256, n_mels=40, fmin=0.0, fmax=rate / 2, htk=True, norm=None)
    assert np.allclose(ours, theirs, atol=1e-6)
    mel = compute_spectrogram(sine, rate, "mel")
    peak_row = int(np.argmax(mel.db[:, mel.db.shape[1] // 2]))
    centre_hz = mel.hz_of_y(mel.y0 + (peak_row + 0.5) * mel.height / mel.db.shape[0])
    assert centre_hz == pytest.approx(1000.0, rel=0.03)


def test_markers_from_a_mouse_selection_are_saved_edited_and_reloaded(view, context, qtbot, shared_data):
    open_file(view, qtbot, shared_data / "icbhi-sample" / "104_1b1_Ll_sc_Litt3200.wav")
    recording = view.recording
    vb = view.waveform.view_box
    start = QPointF(view.graphics.mapFromScene(vb.mapViewToScene(QPointF(2.0, 0.0))))
    end = QPointF(view.graphics.mapFromScene(vb.mapViewToScene(QPointF(4.0, 0.0))))
    drag(qtbot, view, start, end)
    span = view.selection.span()
    assert span == pytest.approx((2.0, 4.0), abs=0.1)
    assert view.marker_panel.add_button.isEnabled()
    view.marker_panel.label_combo.setCurrentText("wheeze")
    view.marker_panel.add_button.click()
    view.selection.set_span(6.0, 7.5)
    view.add_marker("cough")
    saved = context.store.list_markers(recording.id)
    assert [(m.label, m.source) for m in saved] == [("wheeze", "clinician"), ("cough", "clinician")]
    assert saved[0].start_s == pytest.approx(span[0], abs=1e-3)
    # Relabel in the table, move the second marker by dragging its region, delete nothing yet.
    view.marker_panel.table.item(0, 2).setText("crackle")
    second = view.markers.markers[1]
    view.markers.regions_of(second)[1].setRegion((6.5, 8.0))  # the spectrogram's span
    view.markers.regions_of(second)[1].sigRegionChangeFinished.emit(view.markers.regions_of(second)[1])
    assert view.markers.regions_of(second)[0].getRegion() == pytest.approx((6.5, 8.0))  # waveform follows
    saved = context.store.list_markers(recording.id)
    assert [m.label for m in saved] == ["crackle", "cough"]
    assert (saved[1].start_s, saved[1].end_s) == pytest.approx((6.5, 8.0))
    # A second view of the same take shows the saved markers again.
    other = AudioReviewView(context)
    qtbot.addWidget(other)
    other.show_recording(context.store.get_recording(recording.id))
    qtbot.waitUntil(lambda: other.take is not None, timeout=20000)
    assert [(m.label, m.start_s, m.end_s) for m in other.markers.saved] == [
        ("crackle", pytest.approx(span[0], abs=1e-3), pytest.approx(span[1], abs=1e-3)),
        ("cough", pytest.approx(6.5), pytest.approx(8.0)),
    ]
    other.marker_panel.table.selectRow(0)
    other.marker_panel.delete_selected()
    assert [m.label for m in context.store.list_markers(recording.id)] == ["cough"]
    qtbot.waitUntil(lambda: not other.spectrogram_job.is_running, timeout=20000)
    other.shutdown()


@pytest.fixture
def private_speaker():
    """A PulseAudio null sink of its own for playback, so it never feeds the virtual microphone.

    Yields the sink name, or None when no PulseAudio server is reachable.
    """
    if shutil.which("pactl") is None or subprocess.run(["pactl", "info"], capture_output=True).returncode:
        yield None
        return
    loaded = subprocess.run(
        ["pactl", "load-module", "module-null-sink", "sink_name=stethoscan_review_out",
         "sink_properties=device.description=Stethoscan-review-test-output"],
        capture_output=True, text=True, check=True,
    )
    old = os.environ.get("PULSE_SINK")
    os.environ["PULSE_SINK"] = "stethoscan_review_out"
    yield "stethoscan_review_out"
    if old is None:
        os.environ.pop("PULSE_SINK", None)
    else:
        os.environ["PULSE_SINK"] = old
    subprocess.run(["pactl", "unload-module", loaded.stdout.strip()], capture_output=True)


def _record_sink(sink: str | None):
    """``parec`` on the sink's monitor (8 kHz mono s16), or None."""
    if sink is None or shutil.which("parec") is None:
        return None
    return subprocess.Popen(["parec", f"--device={sink}.monitor", "--format=s16le", "--rate=8000",
                             "--channels=1", "--raw"], stdout=subprocess.PIPE)


@pytest.mark.audio_stack
def test_playback_moves_the_cursor_and_closes_the_stream(view, qtbot, shared_data, private_speaker):
    open_file(view, qtbot, shared_data / "icbhi-sample" / "104_1b1_Ll_sc_Litt3200.wav")
    view.selection.set_span(1.0, 2.2)
    monitor = _record_sink(private_speaker)
    started = view.play_selection()
    if not started:  # no audio output on this machine: the clinician is told so, clearly
        assert private_speaker is None
        assert "loudspeaker or headphones" in view.message.text() and view.message.isVisible()
        return
    assert view.playback.is_playing and view.stop_button.isEnabled()
    qtbot.waitUntil(lambda: view.selection.cursor_s > 1.3, timeout=5000)
    cursors = [line.value() for line in view.selection.cursors]
    assert all(c == pytest.approx(view.selection.cursor_s) for c in cursors)  # waveform, spectrogram, overview
    assert all(line.isVisible() for line in view.selection.cursors)
    qtbot.waitUntil(lambda: not view.playback.is_playing, timeout=5000)  # ends by itself, stream closed
    assert view.selection.cursor_s == pytest.approx(2.2, abs=0.05)
    if monitor is not None:  # what reached the loudspeaker is the recording, not silence
        monitor.terminate()
        heard = np.frombuffer(monitor.communicate(timeout=5)[0], dtype=np.int16) / 32768.0
        assert heard.size > 0.8 * 8000 and np.sqrt(np.mean(heard**2)) > 1e-3
    assert view.play()  # from the cursor ...
    qtbot.wait(150)
    view.toggle_playback()  # ... and Space stops it
    assert not view.playback.is_playing and view.playback._stream is None


def test_playback_without_an_output_device_says_so(view, qtbot, shared_data):
    open_file(view, qtbot, shared_data / "icbhi-sample" / "104_1b1_Ll_sc_Litt3200.wav")
    view.playback.device = "Stethoscan no such loudspeaker"
    assert not view.play()
    assert not view.playback.is_playing
    assert view.message.isVisible()
    assert "No loudspeaker or headphones were found" in view.message.text()


def test_unreadable_file_gets_a_clear_message(view, qtbot, tmp_path):
    bad = tmp_path / "broken.wav"
    bad.write_bytes(b"RIFF\x00\x00\x00\x00WAVEnot really audio" * 4)
    job = view.import_file(bad)
    qtbot.waitUntil(lambda: not job.is_running, timeout=10000)
    assert job.state == "failed"
    assert "cannot be read" in view.message.text() and "Convert it to WAV or FLAC" in view.message.text()
    empty = tmp_path / "empty.flac"
    empty.write_bytes(b"")
    job = view.import_file(empty)
    qtbot.waitUntil(lambda: not job.is_running, timeout=10000)
    assert "empty (0 bytes)" in view.message.text()
    assert view.context.store.list_recordings(patient_id=view.context.patient.id) == []


def test_ogg_and_mp3_imports_and_the_take_list(view, context, qtbot, shared_data, tmp_path):
    voice, rate = sf.read(str(shared_data / "fsdd-voice" / "7_theo_1.wav"), dtype="float32")
    sf.write(str(tmp_path / "voice.ogg"), voice, rate, format="OGG", subtype="VORBIS")
    sf.write(str(tmp_path / "voice.mp3"), voice, rate, format="MP3", subtype="MPEG_LAYER_III")
    durations = {}
    for name in ("voice.ogg", "voice.mp3"):
        open_file(view, qtbot, tmp_path / name)
        durations[name] = view.take.clip.duration_s
        assert view.take.clip.rate_hz == rate
        assert view.recording.quality["original_format"].split()[0] == name.split(".")[1].upper()
    # MP3 encoders pad a little; both stay within 0.1 s of the original length.
    assert all(d == pytest.approx(voice.size / rate, abs=0.1) for d in durations.values())
    combo = view.recording_combo
    assert combo.count() == 2 and combo.currentIndex() == 1
    first = context.store.list_recordings(patient_id=context.patient.id)[0]
    combo.setCurrentIndex(0)
    combo.activated.emit(0)
    qtbot.waitUntil(lambda: view.recording.id == first.id and view.take is not None, timeout=20000)
    # A view created after a take was chosen opens that take.
    late = AudioReviewView(context)
    qtbot.addWidget(late)
    qtbot.waitUntil(lambda: late.take is not None, timeout=20000)
    assert late.recording.id == first.id
    qtbot.waitUntil(lambda: not late.spectrogram_job.is_running, timeout=20000)
    late.shutdown()


def test_export_writes_wav_and_flac_without_metadata(view, qtbot, shared_data, tmp_path):
    open_file(view, qtbot, shared_data / "icbhi-sample" / "103_2b2_Ar_mc_LittC2SE.wav")
    for fmt in ("WAV", "FLAC"):
        target = tmp_path / f"take.{fmt.lower()}"
        job = view.export_to(target, fmt)
        qtbot.waitUntil(lambda j=job: not j.is_running, timeout=20000)
        assert job.state == "finished"
        info = sf.info(str(target))
        assert info.format == fmt and info.samplerate == 44100 and info.subtype == "PCM_24"
        with sf.SoundFile(str(target)) as handle:
            assert not any(handle.copy_metadata().values())  # no title, artist, comment, date
        data, _ = sf.read(str(target), dtype="float32", always_2d=True)
        assert np.array_equal(data, view.take.clip.samples)
