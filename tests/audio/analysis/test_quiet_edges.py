"""Breathing cycles are found in a take with seconds of (near-)silence before or after the
breathing: a gated or virtual microphone, a recorder started before the stethoscope touched the
chest. Before, such a lead-in stretched the envelope's range so far that no cycle was found."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from stethoscan.audio.analysis.pipeline import analyze_recording
from stethoscan.audio.analysis.quiet_edges import sounding_span_s
from stethoscan.audio.analysis.synthetic_sounds import synth_breathing
from stethoscan.audio.clip import AudioClip

RATE = 4000


def _padded(x: np.ndarray, lead_s: float, tail_s: float, level: float = 0.0) -> np.ndarray:
    rng = np.random.default_rng(1)
    pad = [rng.normal(0.0, level, int(s * RATE)) if level else np.zeros(int(s * RATE)) for s in (lead_s, tail_s)]
    return np.concatenate([pad[0], x, pad[1]]).astype(np.float32)


@pytest.mark.parametrize("level", [0.0, 1e-5])  # digital silence; noise about 80 dB below
def test_synthetic_breathing_after_silence_keeps_its_rate_and_times(level):
    x, _, _ = synth_breathing(20.0, RATE, rate_bpm=15.0, seed=2)
    plain = analyze_recording(AudioClip(x[:, None].astype(np.float32), RATE), "breath")
    padded = analyze_recording(AudioClip(_padded(x, 3.0, 2.0, level)[:, None], RATE), "breath")
    assert padded.breathing_rate_bpm == pytest.approx(15.0, abs=3.0)
    cycles = [(a, b) for a, b, label in padded.segments if label == "cycle"]
    assert len(cycles) >= len([s for s in plain.segments if s[2] == "cycle"]) - 1
    assert min(a for a, _ in cycles) >= 3.0 and max(b for _, b in cycles) <= 23.0  # the take's time axis
    assert any("Near-silent stretches were left out" in n and "3.0 s at the start" in n for n in padded.notes)


def test_recordings_without_silent_edges_are_not_trimmed(shared_data):
    for wav in sorted((shared_data / "icbhi-sample").glob("*.wav")):
        x, rate = sf.read(wav, dtype="float32")
        assert sounding_span_s(x, rate) == (0.0, pytest.approx(x.size / rate)), wav.name


def test_real_recording_after_digital_silence(shared_data):
    x, rate = sf.read(shared_data / "icbhi-sample" / "104_1b1_Al_sc_Litt3200.wav", dtype="float32")
    plain = analyze_recording(AudioClip(x[:, None], rate), "breath")
    padded = np.concatenate([np.zeros(3 * rate, np.float32), x])
    result = analyze_recording(AudioClip(padded[:, None], rate), "breath")
    def cycle_times(segments, offset_s=0.0):
        return [t - offset_s for a, b, label in segments if label == "cycle" for t in (a, b)]

    assert cycle_times(result.segments, 3.0) == pytest.approx(cycle_times(plain.segments), abs=0.1)
    assert result.breathing_rate_bpm == pytest.approx(plain.breathing_rate_bpm, abs=0.5)
