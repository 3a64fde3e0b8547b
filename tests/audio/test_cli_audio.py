"""The headless audio commands: ``audio info``, ``audio devices``, ``record``, ``bench audio``."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import soundfile as sf
from virtual_mic import virtual_mic_fixture  # noqa: F401

from stethoscan.audio.audio_files import read_audio
from stethoscan.cli import main

RATE = 48000


def _cli(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "stethoscan", *args], capture_output=True,
                          text=True, timeout=timeout, env=dict(os.environ))


def test_audio_info_json(tmp_path, capsys):
    t = np.arange(RATE * 2) / RATE
    x = np.concatenate([np.zeros(RATE // 2), 0.5 * np.sin(2 * np.pi * 300 * t)])
    sf.write(tmp_path / "tone.flac", x.astype(np.float32), RATE, subtype="PCM_24")
    assert main(["audio", "info", str(tmp_path / "tone.flac"), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["file"] == "tone.flac" and info["format"] == "FLAC" and info["subtype"] == "PCM_24"
    assert info["duration_s"] == pytest.approx(2.5) and info["rate_hz"] == RATE
    assert info["channels"] == 1 and info["clipped_samples"] == 0
    assert info["peak_dbfs"] == pytest.approx(-6.02, abs=0.05)
    assert info["rms_dbfs"] == pytest.approx(-9.03 + 10 * np.log10(2.0 / 2.5), abs=0.05)
    assert info["snr_db"] > 60


def test_audio_info_reports_bad_files_and_goes_on(tmp_path, capsys):
    (tmp_path / "empty.wav").write_bytes(b"")
    sf.write(tmp_path / "ok.wav", np.zeros(800, np.float32), 8000)
    assert main(["audio", "info", str(tmp_path / "empty.wav"), str(tmp_path / "ok.wav"), "--json"]) == 1
    rows = json.loads(capsys.readouterr().out)
    assert "empty" in rows[0]["error"] and rows[1]["rate_hz"] == 8000
    assert main(["audio", "info", str(tmp_path / "ok.wav")]) == 0  # all zeros: silent
    assert "SNR n/a (the file is silent)" in capsys.readouterr().out


@pytest.mark.real_data
def test_audio_info_on_real_recordings(shared_data, capsys):
    files = sorted((shared_data / "icbhi-sample").glob("*.wav"))
    assert main(["audio", "info", *map(str, files), "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert sorted({row["rate_hz"] for row in rows}) == [4000, 44100]
    assert {row["subtype"] for row in rows} == {"PCM_16", "PCM_24", "PCM_32"}
    for row in rows:
        assert 10 < row["duration_s"] < 30 and np.isfinite(row["snr_db"])


@pytest.mark.audio_stack
def test_audio_devices_lists_the_virtual_microphone(virtual_mic):
    result = _cli("audio", "devices", "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    names = {d["name"]: d for d in data["devices"]}
    assert "pulse" in names and names["pulse"]["host_api"] == "ALSA"
    assert names["pulse"]["max_input_channels"] >= 1
    assert sum(d["is_default"] for d in data["devices"]) == 1
    assert data["default"]["rate_hz"] in (48000, 44100) and data["default"]["channels"] == 1


@pytest.mark.audio_stack
@pytest.mark.slow
def test_record_command_writes_exactly_the_asked_duration(virtual_mic, tmp_path):
    out = tmp_path / "cli.wav"
    result = _cli("record", "--seconds", "2", "--device", virtual_mic.device, "--rate", "44100",
                  "--out", str(out), "--json")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert any(line.startswith("started at") for line in lines)
    assert any(line.startswith("recorded ") for line in lines)
    summary = json.loads(lines[-1])
    assert summary["status"] == "complete" and summary["overflows"] == 0
    clip = read_audio(out)
    assert clip.format == "WAV" and clip.rate_hz == 44100 and clip.frames == 2 * 44100


def test_record_command_refuses_a_missing_device(tmp_path):
    result = _cli("record", "--seconds", "1", "--device", "no such microphone", "--out",
                  str(tmp_path / "x.flac"))
    assert result.returncode == 1
    assert "stethoscan:" in result.stderr and ("not connected" in result.stderr
                                               or "No microphone" in result.stderr)
    assert not list(tmp_path.iterdir())


def test_bench_audio_prints_its_figures():
    result = _cli("bench", "audio", "--json", "--seconds", "3", "--capture-seconds", "0")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    live = report["live_pipeline"]
    assert live["core_fraction"] > 0 and set(live["stages_core_fraction"]) == {
        "meter", "waveform", "spectrogram"}
    assert report["baseline_naive_librosa"]["core_fraction"] > 0
    assert report["speedup_vs_baseline"] > 0 and isinstance(report["meets_target"], bool)
