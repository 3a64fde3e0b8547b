"""A take that holds only the recorder's own noise (unplugged stethoscope, muted input) is refused
with a sentence, instead of being segmented and classified: the respiratory model used to report
crackles and wheezes in 16-bit dither at -90 dBFS."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from stethoscan.audio.analysis.pipeline import analyze_recording
from stethoscan.audio.analysis.synthetic_sounds import synth_breathing
from stethoscan.audio.clip import AudioClip
from stethoscan.core.errors import AudioError

LSB_16 = 1.0 / 32768.0


def _dither(seconds: float = 10.0, rate_hz: int = 4000) -> np.ndarray:
    """What a 16-bit recorder writes with nothing plugged in: +-1 LSB of dither."""
    rng = np.random.default_rng(4)
    return (rng.integers(-1, 2, int(seconds * rate_hz)) * LSB_16).astype(np.float32)


@pytest.mark.parametrize("kind", ["breath", "voice", "cough"])
def test_recorder_noise_alone_is_refused_with_its_level(kind):
    with pytest.raises(AudioError) as caught:
        analyze_recording(AudioClip(_dither()[:, None], 4000), kind)
    text = str(caught.value)
    assert "no usable sound" in text and "-90.3 dBFS" in text and "plugged in" in text


def test_a_quiet_real_breath_is_still_analysed():
    x, _, _ = synth_breathing(20.0, 4000, rate_bpm=15.0, seed=2)
    quiet = x / np.max(np.abs(x)) * 10 ** (-50 / 20)  # peak -50 dBFS: quiet, but a signal
    result = analyze_recording(AudioClip(quiet[:, None], 4000), "breath")
    assert result.breathing_rate_bpm == pytest.approx(15.0, abs=3.0)


def test_analyze_command_says_what_to_do_and_runs_no_model(tmp_path, capsys):
    from stethoscan.cli import main

    wav = tmp_path / "unplugged.wav"
    sf.write(wav, _dither(), 4000, subtype="PCM_16")
    assert main(["analyze", str(wav), "--task", "breath"]) == 1
    out, err = capsys.readouterr()
    assert "no usable sound" in err and "Traceback" not in err
    assert "crackle" not in out and "wheeze" not in out
