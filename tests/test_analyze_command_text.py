"""``stethoscan analyze --task breath`` prints the respiratory model's results as a clinician reads
them (times in s, label, probabilities in %, evidence, the disclaimer), matching ``--json``."""

from __future__ import annotations

import json

import soundfile as sf

from stethoscan.audio.analysis.synthetic_sounds import synth_breathing


def test_model_results_text_matches_json(tmp_path, capsys):
    from stethoscan.cli import main

    x, _, _ = synth_breathing(15.0, 4000, rate_bpm=15.0, seed=3)
    wav = tmp_path / "breath.wav"
    sf.write(wav, x, 4000)
    assert main(["analyze", str(wav), "--task", "breath", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)["model_results"]
    assert rows, "the bundled respiratory model classifies the cycles"
    assert main(["analyze", str(wav), "--task", "breath"]) == 0
    text = capsys.readouterr().out
    assert "probabilities={" not in text and "model: index=" not in text
    assert "Respiratory model, per breathing cycle (Not for diagnostic use" in text
    def shown(p):
        pct = round(100 * p)
        return ">99 %" if pct >= 100 else "<1 %" if pct <= 0 else f"{pct} %"

    for row in rows:
        line = f"{row['start_s']:8.3f} - {row['end_s']:8.3f} s  {row['label']:<8} {shown(row['probability']):>5}"
        assert line in text
        assert f"{row['label']} {shown(row['probabilities'][row['label']])}" in text
        assert row["evidence"] in text
    assert " 0 %" not in text and "100 %" not in text  # a model is never shown as certain


def test_percent_is_never_certain():
    from stethoscan.commands.analyze import _percent

    assert [_percent(p) for p in (0.0, 0.004, 0.5, 0.996, 1.0)] == ["<1 %", "<1 %", "50 %", ">99 %", ">99 %"]


def test_voice_kind_with_another_task_is_refused(tmp_path, capsys):
    from stethoscan.cli import main

    x, _, _ = synth_breathing(5.0, 4000, seed=3)
    wav = tmp_path / "breath.wav"
    sf.write(wav, x, 4000)
    assert main(["analyze", str(wav), "--task", "breath", "--voice-kind", "sustained"]) == 1
    captured = capsys.readouterr()
    assert "--voice-kind applies to --task voice only" in captured.err and captured.out == ""


def test_preprocessing_steps_are_numbered_with_rates_in_hz(tmp_path, capsys):
    from stethoscan.audio.analysis.synthetic_sounds import synth_vowel
    from stethoscan.cli import main

    wav = tmp_path / "vowel.wav"
    sf.write(wav, synth_vowel(2.0, 16000, 150.0, 0.01, 0.04, seed=5), 16000)
    assert main(["analyze", str(wav), "--task", "voice", "--json"]) == 0
    steps = json.loads(capsys.readouterr().out)["preprocessing"]
    assert main(["analyze", str(wav), "--task", "voice"]) == 0
    text = capsys.readouterr().out
    assert "rate_before_hz=" not in text
    for number, step in enumerate(steps, start=1):
        assert (f"  {number}. {step['step'].replace('_', ' ')} (" in text
                and f"{step['rate_before_hz']} -> {step['rate_after_hz']} Hz" in text)
    assert "for listening only: the voice report and features use the samples as recorded" in text
