"""Preprocessing, features, the pipeline's result and the analyze / bench commands."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
import soundfile as sf

from stethoscan.audio.analysis.features import features_for_segments, write_features_csv
from stethoscan.audio.analysis.pipeline import analyze_recording
from stethoscan.audio.analysis.preprocessing import band_pass, preprocess, resample, spectral_gate
from stethoscan.audio.analysis.synthetic_sounds import synth_breathing, synth_coughs, synth_vowel
from stethoscan.audio.clip import AudioClip
from stethoscan.core.errors import AudioError
from stethoscan.core.task import SilentTask


def _tone(freq, rate=8000, seconds=1.0):
    t = np.arange(int(rate * seconds)) / rate
    return np.sin(2 * np.pi * freq * t).astype(np.float32)


def test_resample_and_band_pass():
    y = resample(_tone(440, 44100), 44100, 4000)
    assert y.size == 4000
    inside = band_pass(_tone(300), 8000, 100, 1000)
    outside = band_pass(_tone(3000), 8000, 100, 1000)
    assert np.std(inside) > 0.6
    assert 20 * np.log10(np.std(outside) / np.std(_tone(3000))) < -30
    with pytest.raises(AudioError):
        band_pass(_tone(300), 8000, 1000, 100)


def test_spectral_gate_lowers_noise_but_keeps_the_tone():
    rng = np.random.default_rng(0)
    tone = _tone(500, 8000, 2.0)
    tone[:4000] = 0.0  # first half second: noise only
    noisy = tone + 0.05 * rng.standard_normal(tone.size).astype(np.float32)
    clean = spectral_gate(noisy, 8000)
    assert np.std(clean[:4000]) < 0.3 * np.std(noisy[:4000])
    assert np.std(clean[8000:]) > 0.8 * np.std(tone[8000:])


def test_preprocess_keeps_every_step_for_listening():
    x, _, _ = synth_breathing(5.0, 44100, seed=0)
    pre = preprocess(x, 44100, "breath")
    assert [s.name for s in pre.steps] == ["resample", "band_pass", "spectral_gate"]
    assert pre.rate_hz == 4000 and pre.steps[0].before.size == x.size
    assert all(s.after.size for s in pre.steps)


def test_features_shapes_lpc_envelope_and_csv(tmp_path):
    x = synth_vowel(1.0, 16000, 120.0, 0.0, 0.0, seed=0)
    (feat,) = features_for_segments(x, 16000, [(0.2, 0.7, "voiced")])
    assert feat.log_mel_db.shape[0] == 40 and feat.mfcc.shape[0] == 13
    assert feat.mfcc.shape == feat.mfcc_delta.shape == feat.mfcc_delta2.shape
    assert 45 <= feat.mfcc.shape[1] <= 55  # 0.5 s at 10 ms
    # The LPC envelope peaks near the first formant of /a/ (730 Hz).
    peak = feat.lpc_freqs_hz[np.argmax(feat.lpc_envelope_db)]
    assert 500 < peak < 1300
    row = feat.summary()
    assert {"mfcc0_mean", "lpc1", "centroid_hz_mean", "flatness_mean"} <= row.keys()
    path = write_features_csv([row, row], tmp_path / "f.csv")
    rows = list(csv.DictReader(path.open()))
    assert len(rows) == 2 and rows[0]["label"] == "voiced"


def test_pipeline_breath_result_is_plain_and_json():
    x, cycles, _ = synth_breathing(20.0, 4000, rate_bpm=15.0, seed=2)
    task = SilentTask()
    result = analyze_recording(AudioClip(x[:, None], 4000), "breath", task)
    assert task.fraction == 1.0
    assert result.breathing_rate_bpm == pytest.approx(15.0, abs=3.0)
    assert {lab for _, _, lab in result.segments} == {"cycle", "inspiration", "expiration"}
    assert len(result.features) == sum(lab == "cycle" for _, _, lab in result.segments)
    assert result.model_results == []
    data = json.loads(result.to_json())
    assert data["ie_ratio"] > 0 and data["cough_count"] is None


def test_pipeline_voice_and_cough():
    vowel = synth_vowel(2.0, 16000, 150.0, 0.01, 0.04, seed=5)
    voice = analyze_recording(AudioClip(vowel[:, None], 16000), "voice")
    assert voice.voice_report["kind"] == "sustained"
    keys = [m["key"] for m in voice.voice_report["measures"]]
    assert keys[:2] == ["f0_mean", "f0_sd"] and "cpp" in keys and "hnr" in keys
    coughs, _ = synth_coughs(4, 16000, seed=7)
    result = analyze_recording(AudioClip(coughs[:, None], 16000), "cough")
    assert result.cough_count == 4
    with pytest.raises(AudioError):
        analyze_recording(AudioClip(np.zeros((100, 1), np.float32), 16000), "voice")
    with pytest.raises(AudioError):
        analyze_recording(AudioClip(vowel[:, None], 16000), "snore")


def test_analyze_command_prints_and_writes(tmp_path, capsys):
    from stethoscan.cli import main

    x, _, _ = synth_breathing(15.0, 4000, seed=3)
    wav = tmp_path / "breath.wav"
    sf.write(wav, x, 4000)
    assert main(["analyze", str(wav), "--task", "breath", "--out", str(tmp_path / "out")]) == 0
    text = capsys.readouterr().out
    assert "Breathing rate:" in text and "inspiration" in text
    assert main(["analyze", str(wav), "--task", "breath", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    if result["model_results"]:  # the bundled model ran: its applicability check is reported
        check = result["model_applicability"]
        assert check["checked"] and 0 < check["cycles"] <= len(result["model_results"])
        assert (check["warning"] in result["notes"]) if check["warning"] else check["outside"] == []
    assert (tmp_path / "out" / "features.csv").stat().st_size > 100
    assert json.loads((tmp_path / "out" / "segments.json").read_text())
    vowel = tmp_path / "vowel.wav"
    sf.write(vowel, synth_vowel(1.5, 16000, seed=1), 16000)
    assert main(["analyze", str(vowel), "--task", "voice", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)["voice_report"]
    assert any(m["key"] == "jitter_local" for m in report["measures"])


@pytest.mark.slow
def test_bench_analysis_prints_figures_and_baselines(capsys):
    from stethoscan.cli import main

    assert main(["bench", "analysis", "--json", "--repeat", "1"]) == 0
    figures = json.loads(capsys.readouterr().out)
    for key in ("pipeline_breath_20s_ms", "baseline_librosa_features_20s_ms",
                "voice_report_5s_ms", "baseline_pyin_5s_ms", "pipeline_with_explanation_20s_ms"):
        assert figures[key] > 0


def test_analyze_does_not_run_the_model_on_less_than_a_breath(tmp_path, capsys):
    """A 0.2 s recording: the analysis runs, the respiratory model is not run and says why."""
    from stethoscan.cli import main

    wav = tmp_path / "short.wav"
    sf.write(wav, 0.3 * np.sin(2 * np.pi * 200 * np.arange(800) / 4000), 4000)
    assert main(["analyze", str(wav), "--task", "breath", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["model_results"] == []
    assert any("model was not run: the recording lasts" in note and "at least" in note
               for note in result["notes"])  # one sentence: no capital after the colon


@pytest.mark.real_data
def test_a_spoken_word_is_speech_and_gets_no_vowel_norms(shared_data):
    """A 0.5 s digit is not a sustained vowel: no sustained-vowel ranges or flags on it."""
    from stethoscan.audio.audio_files import read_audio

    clip = read_audio(shared_data / "fsdd-voice" / "0_jackson_0.wav")
    result = analyze_recording(clip, "voice")
    report = result.voice_report
    assert report["kind"] == "speech"
    jitter = next(m for m in report["measures"] if m["key"] == "jitter_local")
    assert jitter["normal_low"] is None and jitter["normal_high"] is None and not jitter["flag"]
    assert "sustained vowels" in jitter["source"]
    rate = next(m for m in report["measures"] if m["key"] == "speaking_rate")
    assert rate["normal_low"] is None and not rate["flag"]  # one word has no speaking rate norm
    vowel = AudioClip(synth_vowel(3.0, 16000, seed=2).astype(np.float32)[:, None], 16000)
    assert analyze_recording(vowel, "voice").voice_report["kind"] == "sustained"


@pytest.mark.parametrize("kind", ["white noise", "tone"])
def test_no_breathing_rate_without_breathing(kind):
    """Steady noise or a tone has no breathing cycles: no rate, and a note that says what to do."""
    t = np.arange(20 * 4000) / 4000
    x = (np.random.default_rng(1).standard_normal(t.size) * 0.1 if kind == "white noise"
         else 0.3 * np.sin(2 * np.pi * 200 * t))
    result = analyze_recording(AudioClip(x.astype(np.float32)[:, None], 4000), "breath")
    assert result.breathing_rate_bpm is None and result.ie_ratio is None
    assert not [s for s in result.segments if s[2] == "cycle"]
    assert any("No breathing rate" in note and "record again" in note for note in result.notes)
