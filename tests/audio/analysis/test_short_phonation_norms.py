"""Sustained-vowel norms (jitter, shimmer, HNR, CPP) are not applied to a "sustained" take with
under 1 s of phonation: a spoken word or a cut-off vowel was flagged HIGH on every row."""

from __future__ import annotations

import soundfile as sf

from stethoscan.audio.analysis.synthetic_sounds import synth_vowel
from stethoscan.audio.analysis.voice_report import voice_report

ROUGH = dict(f0_hz=150.0, jitter_sd=0.03, shimmer_sd=0.12, seed=5)


def _flags(seconds: float) -> dict:
    report = voice_report(synth_vowel(seconds, 16000, **ROUGH), 16000, kind="sustained")
    return {m.key: m for m in report.measures}


def test_a_short_vowel_gets_no_sustained_norms_but_a_long_one_does():
    short, long = _flags(0.6), _flags(2.0)
    for key in ("jitter_local", "shimmer_local", "shimmer_apq11", "hnr", "cpp"):
        assert short[key].flag is None and short[key].normal_high is None and short[key].normal_low is None
        assert "under 1 s of phonation" in short[key].source
    assert long["jitter_local"].flag == "high" and long["shimmer_local"].flag == "high"
    assert short["f0_mean"].flag == "" and short["f0_mean"].normal_low == 85.0  # F0 norms still apply


def test_analyze_command_says_why_the_norms_are_missing(tmp_path, capsys):
    from stethoscan.cli import main

    wav = tmp_path / "short_vowel.wav"
    sf.write(wav, synth_vowel(0.6, 16000, **ROUGH), 16000)
    assert main(["analyze", str(wav), "--task", "voice", "--voice-kind", "sustained"]) == 0
    out = capsys.readouterr().out
    assert "HIGH" not in out and "LOW" not in out
    assert "No norm for jitter, shimmer, HNR or CPP under 1 s of phonation" in out
    assert "record a vowel held 3-6 s" in out
