"""Importing a WAV cut short (an interrupted copy): the take is imported and the clinician is told
how much of the recording is missing; the warning is kept with the take's quality record."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf


@pytest.fixture
def context(make_context):
    return make_context("CUT-TEST", "Cut test")


def test_importing_a_cut_short_wav_says_what_is_missing(review_view, context, qtbot, tmp_path):
    whole = tmp_path / "whole.wav"
    sf.write(whole, (0.1 * np.random.default_rng(2).standard_normal(16000)).astype(np.float32), 4000)
    data = whole.read_bytes()
    cut = tmp_path / "cut.wav"
    cut.write_bytes(data[: len(data) - 10000 * 2])  # 6000 of 16000 frames left
    review_view.import_file(cut)
    qtbot.waitUntil(lambda: review_view.take is not None, timeout=20000)
    assert review_view.take.clip.duration_s == pytest.approx(1.5)
    assert "cut.wav is cut short" in review_view.message.text() and "4.0 s" in review_view.message.text()
    recording = context.store.get_recording(review_view.recording.id)
    assert "cut short" in recording.quality["import_warnings"][0]


def test_a_near_silent_take_looks_near_silent(review_view, qtbot, tmp_path, request):
    """A muted input's noise (-90 dBFS): the waveform stays a flat line on a +-50 dBFS axis and
    the spectrogram is dark (its colour scale tops at -50 dB, not at the noise's own peak)."""
    from stethoscan.gui.studio.review_spectrogram import QUIET_TOP_DB
    from stethoscan.gui.studio.review_waveform import QUIET_PEAK

    quiet = tmp_path / "muted.wav"
    sf.write(quiet, (10 ** (-90 / 20) * np.random.default_rng(3).standard_normal(40000)).astype(np.float32),
             4000, subtype="FLOAT")  # fmt: skip
    review_view.import_file(quiet)
    qtbot.waitUntil(lambda: review_view.take is not None, timeout=20000)
    qtbot.waitUntil(lambda: review_view.spectrogram_job is not None and not review_view.spectrogram_job.is_running,
                    timeout=20000)  # fmt: skip
    low, high = review_view.waveform.plot.viewRange()[1]
    assert high >= QUIET_PEAK and low <= -QUIET_PEAK
    bottom, top = review_view.spectrogram.colour_bar.levels()
    assert top == QUIET_TOP_DB and float(np.max(review_view.spectrogram.spectrogram.db)) < top - 30
    path = request.config.rootpath / "test-artifacts/screenshots/review_muted_take.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    assert review_view.grab().save(str(path))
