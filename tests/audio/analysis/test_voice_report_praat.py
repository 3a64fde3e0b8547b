"""The voice report agrees with Praat (the oracle clinicians know) on real and synthetic voices.

Tolerances from the issue: F0 mean within 1 %, jitter (local) and shimmer (local) within 15 %
relative, HNR within 1.5 dB. Both sides analyse exactly the same samples.
"""

from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pytest
import soundfile as sf

from stethoscan.audio.analysis.synthetic_sounds import synth_vowel
from stethoscan.audio.analysis.voice_report import voice_report


def _assert_agrees(report, ref: dict[str, float], where: str) -> None:
    assert report.value("f0_mean") == pytest.approx(ref["f0_mean"], rel=0.01), where
    assert report.value("jitter_local") == pytest.approx(ref["jitter_local"], rel=0.15), where
    assert report.value("shimmer_local") == pytest.approx(ref["shimmer_local"], rel=0.15), where
    assert report.value("hnr") == pytest.approx(ref["hnr"], abs=1.5), where


def _voiced_part(x: np.ndarray, rate_hz: int) -> np.ndarray:
    """The digit without its leading and trailing silence (frames within 30 dB of the peak)."""
    hop = int(0.01 * rate_hz)
    n = x.size // hop
    level = 10 * np.log10((x[: n * hop].reshape(n, hop) ** 2).mean(axis=1) + 1e-12)
    loud = np.flatnonzero(level > level.max() - 30.0)
    return x[loud[0] * hop : (loud[-1] + 1) * hop]


@pytest.mark.real_data
def test_fsdd_spoken_digits_agree_with_praat(shared_data, praat):
    files = sorted((shared_data / "fsdd-voice").glob("*.wav"))
    assert len(files) >= 20
    checked = 0
    for path in files:
        x, rate = sf.read(path, dtype="float64")
        x = _voiced_part(x, rate)
        ref = praat(x, rate)
        if not all(np.isfinite(v) for v in ref.values()):
            continue  # too few periods for Praat to report jitter or shimmer
        report = voice_report(x, rate, kind="speech")
        _assert_agrees(report, ref, path.name)
        checked += 1
    assert checked >= 0.9 * len(files)


@pytest.mark.parametrize(
    ("f0_hz", "jitter_sd", "shimmer_sd", "rate_hz"),
    [(110.0, 0.005, 0.03, 16000), (210.0, 0.01, 0.06, 22050), (140.0, 0.02, 0.1, 44100)],
)
def test_synthetic_vowels_agree_with_praat_and_their_known_perturbation(
    f0_hz, jitter_sd, shimmer_sd, rate_hz, praat
):
    x = synth_vowel(2.0, rate_hz, f0_hz, jitter_sd, shimmer_sd, seed=3).astype(np.float64)
    report = voice_report(x, rate_hz)
    _assert_agrees(report, praat(x, rate_hz), f"synthetic {f0_hz} Hz")
    assert report.value("jitter_ppq5") == pytest.approx(praat(x, rate_hz)["jitter_ppq5"], rel=0.15)
    # Gaussian period perturbation with relative SD s gives jitter (local) ~ 2 s / sqrt(pi).
    expected = 100 * 2 * jitter_sd / np.sqrt(np.pi)
    assert report.value("jitter_local") == pytest.approx(expected, rel=0.35)
    assert report.value("f0_mean") == pytest.approx(f0_hz, rel=0.03)


def test_report_flags_a_perturbed_voice_and_passes_a_steady_one():
    steady = voice_report(synth_vowel(2.0, 16000, 120.0, 0.001, 0.005, seed=1), 16000)
    rough = voice_report(synth_vowel(2.0, 16000, 120.0, 0.03, 0.15, seed=1), 16000)
    flags = {m.key: m.flag for m in steady.measures}
    assert flags["jitter_local"] == "" and flags["shimmer_local"] == ""
    rough_flags = {m.key: m.flag for m in rough.measures}
    assert rough_flags["jitter_local"] == "high" and rough_flags["shimmer_local"] == "high"
    assert rough.value("cpp") < steady.value("cpp")


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng (Debian) not installed")
@pytest.mark.parametrize(("voice", "text"), [("en", "aaaaaaaaaaah"), ("en+f3", "ooooooooooh")])
def test_espeak_vowels_agree_with_praat(tmp_path, voice, text, praat):
    wav = tmp_path / "vowel.wav"
    subprocess.run(["espeak-ng", "-v", voice, "-s", "80", "-w", str(wav), text], check=True,
                   timeout=30)
    x, rate = sf.read(wav, dtype="float64")
    _assert_agrees(voice_report(x, rate), praat(x, rate), voice)


def test_app_never_imports_parselmouth():
    from pathlib import Path

    import stethoscan

    root = Path(stethoscan.__file__).parent
    offenders = [p for p in root.rglob("*.py") if "parselmouth" in p.read_text(encoding="utf-8")]
    assert offenders == []


@pytest.mark.parametrize("f0_hz", [120.0, 200.0])
def test_hnr_of_a_short_vowel_right_after_digital_silence(praat, f0_hz):
    """The virtual microphone (and any gated or zero-padded input) delivers exact zeros before a
    take. A 0.3 s vowel that starts abruptly after them: before the fix the report's HNR was
    2.2-2.4 dB above Praat's (on the 2-2.6 s recorded vowels the same frame cost 0.2-0.3 dB)."""
    rate = 16000
    vowel = synth_vowel(0.3, rate, f0_hz, 0.01, 0.05, seed=2).astype(np.float64)
    x = np.concatenate([np.zeros(int(0.05 * rate)), vowel[int(0.01 * rate) :]])  # abrupt onset
    assert voice_report(x, rate).value("hnr") == pytest.approx(praat(x, rate)["hnr"], abs=0.2)
