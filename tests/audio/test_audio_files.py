"""Reading, describing and exporting audio files, on generated files and the real data set."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from stethoscan.audio.audio_files import audio_info, export_audio, read_audio
from stethoscan.audio.clip import AudioClip
from stethoscan.core.errors import AudioFileError

RATE = 48000


def _tone(rate: int = RATE, seconds: float = 1.0, amplitude: float = 0.5, channels: int = 1):
    t = np.arange(int(rate * seconds)) / rate
    x = amplitude * np.sin(2 * np.pi * 440.0 * t)
    return np.repeat(x[:, None], channels, axis=1).astype(np.float32)


@pytest.mark.parametrize(
    ("fmt", "subtype", "ext", "tolerance"),
    [
        ("WAV", "PCM_U8", "wav", 1e-2),
        ("WAV", "PCM_16", "wav", 1e-4),
        ("WAV", "PCM_24", "wav", 1e-6),
        ("WAV", "PCM_32", "wav", 1e-6),
        ("WAV", "FLOAT", "wav", 1e-7),
        ("WAV", "DOUBLE", "wav", 1e-7),
        ("FLAC", "PCM_16", "flac", 1e-4),
        ("FLAC", "PCM_24", "flac", 1e-6),
    ],
)
def test_lossless_formats_round_trip(tmp_path, fmt, subtype, ext, tolerance):
    x = _tone(channels=2)
    path = tmp_path / f"a.{ext}"
    sf.write(path, x, RATE, format=fmt, subtype=subtype)
    clip = read_audio(path)
    assert clip.samples.dtype == np.float32
    assert clip.samples.shape == x.shape and clip.rate_hz == RATE and clip.channels == 2
    assert (clip.format, clip.subtype) == (fmt, subtype)
    assert np.max(np.abs(clip.samples - x)) < tolerance


@pytest.mark.parametrize(("fmt", "subtype", "ext"), [("OGG", "VORBIS", "ogg"), ("MP3", "MPEG_LAYER_III", "mp3")])
def test_lossy_formats_open_with_the_right_level(tmp_path, fmt, subtype, ext):
    path = tmp_path / f"a.{ext}"
    sf.write(path, _tone(seconds=2.0), RATE, format=fmt, subtype=subtype)
    clip = read_audio(path)
    assert clip.rate_hz == RATE and clip.format == fmt
    assert abs(clip.duration_s - 2.0) < 0.1
    rms = float(np.sqrt(np.mean(clip.mono()[RATE // 4 : -RATE // 4] ** 2)))
    assert abs(rms - 0.5 / np.sqrt(2)) < 0.03


@pytest.mark.parametrize("rate", [4000, 8000, 22050, 44100, 96000])
def test_any_rate_from_4_to_96_khz(tmp_path, rate):
    path = tmp_path / "r.wav"
    sf.write(path, _tone(rate=rate, seconds=0.5), rate, subtype="PCM_16")
    info = audio_info(path)
    assert info["rate_hz"] == rate and info["channels"] == 1
    assert info["duration_s"] == pytest.approx(0.5, abs=1.0 / rate)
    assert info["peak_dbfs"] == pytest.approx(20 * np.log10(0.5), abs=0.1)
    assert info["rms_dbfs"] == pytest.approx(20 * np.log10(0.5 / np.sqrt(2)), abs=0.1)


def test_read_part_of_a_file(tmp_path):
    x = np.linspace(-0.5, 0.5, RATE * 3, dtype=np.float32)
    path = tmp_path / "ramp.wav"
    sf.write(path, x, RATE, subtype="FLOAT")
    part = read_audio(path, start_s=1.0, duration_s=0.5)
    assert part.frames == RATE // 2
    np.testing.assert_allclose(part.mono(), x[RATE : RATE + RATE // 2])


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", "empty"),
        (b"this is a text file, not audio at all" * 10, "cannot be read"),
        (b"RIFF\x24\x00\x00\x00WAVEfmt ", "cannot be read"),
    ],
)
def test_bad_files_give_a_clear_message(tmp_path, content, expected):
    path = tmp_path / "bad.wav"
    path.write_bytes(content)
    with pytest.raises(AudioFileError, match=expected) as err:
        read_audio(path)
    assert "bad.wav" in str(err.value)
    with pytest.raises(AudioFileError):
        audio_info(path)


def test_an_unreadable_file_is_not_called_damaged(tmp_path, monkeypatch):
    from stethoscan.audio import audio_files

    path = tmp_path / "locked.wav"
    sf.write(path, np.zeros(800, np.float32), RATE)

    def refuse(name, *_args, **_kwargs):
        raise PermissionError(13, "Permission denied", str(name))

    monkeypatch.setattr(audio_files, "open", refuse, raising=False)
    for read in (read_audio, audio_info):
        with pytest.raises(AudioFileError) as err:
            read(path)
        assert str(err.value).startswith("Permission denied: the audio file locked.wav cannot be "
                                         "read by your user")
        assert "damaged" not in str(err.value) and "Convert" not in str(err.value)

    def fail(name, *_args, **_kwargs):
        raise OSError(5, "Input/output error", str(name))

    monkeypatch.setattr(audio_files, "open", fail, raising=False)
    with pytest.raises(AudioFileError, match=r"could not be opened \(Input/output error\): check"):
        read_audio(path)


def _without_root_file_access(locked) -> list[str]:
    """A command prefix that drops root's right to read any file (tests run as root)."""
    import shutil
    import subprocess
    import sys

    if shutil.which("setpriv") is None:
        pytest.skip("setpriv (util-linux) is not installed")
    prefix = ["setpriv", "--bounding-set", "-dac_override,-dac_read_search",
              "--inh-caps", "-dac_override,-dac_read_search"]
    probe = subprocess.run([*prefix, sys.executable, "-c", f"open({str(locked)!r}).close()"],
                           capture_output=True)
    if probe.returncode == 0:
        pytest.skip("setpriv cannot take away root's file access on this machine")
    return prefix


def test_commands_say_permission_denied_for_an_unreadable_wav(tmp_path):
    import os
    import subprocess
    import sys

    path = tmp_path / "locked.wav"
    sf.write(path, np.zeros(8000, np.float32), RATE)
    os.chmod(path, 0)
    prefix = _without_root_file_access(path)
    for command in (["audio", "info", str(path)], ["analyze", str(path), "--task", "breath"],
                    ["predict", "--model", "respiratory-cycles", str(path)]):
        result = subprocess.run([*prefix, sys.executable, "-m", "stethoscan", *command],
                                capture_output=True, text=True, timeout=120)
        assert result.returncode == 1, (command, result.stderr)
        assert "Permission denied: the audio file locked.wav cannot be read by your user" in result.stdout + result.stderr
        assert "Convert it" not in result.stdout + result.stderr


def test_zero_length_and_missing_files(tmp_path):
    path = tmp_path / "zero.wav"
    sf.write(path, np.zeros((0, 1), np.float32), RATE)
    with pytest.raises(AudioFileError, match="no sound"):
        read_audio(path)
    with pytest.raises(AudioFileError, match="does not exist"):
        read_audio(tmp_path / "nothing.wav")
    with pytest.raises(AudioFileError, match="folder"):
        read_audio(tmp_path)


def test_nan_in_a_float_file_becomes_silence(tmp_path):
    x = _tone()
    x[100:200] = np.nan
    path = tmp_path / "nan.wav"
    sf.write(path, x, RATE, subtype="FLOAT")
    clip = read_audio(path)
    assert np.isfinite(clip.samples).all()
    assert np.isfinite(audio_info(path)["rms_dbfs"])


def test_clipping_and_snr_in_info(tmp_path):
    rng = np.random.default_rng(0)
    quiet = 0.001 * rng.standard_normal(RATE)
    loud = np.clip(2.0 * np.sin(2 * np.pi * 200 * np.arange(RATE) / RATE), -1, 1)
    x = np.concatenate([quiet, loud + 0.001 * rng.standard_normal(RATE)]).astype(np.float32)
    path = tmp_path / "clip.wav"
    sf.write(path, x, RATE, subtype="PCM_24")
    info = audio_info(path)
    assert info["clipped_samples"] > 0.3 * RATE
    assert 0.1 < info["clipped_fraction"] < 0.5
    assert info["snr_db"] > 40


@pytest.mark.parametrize("fmt", ["WAV", "FLAC"])
def test_export_writes_no_patient_identifiers(tmp_path, fmt):
    src = tmp_path / "tagged.wav"
    with sf.SoundFile(src, "w", RATE, 1, format="WAV", subtype="PCM_16") as handle:
        handle.title = "Jane Q Patient"
        handle.comment = "MRN 99887766"
        handle.artist = "Dr Who"
        handle.write(_tone())
    assert sf.SoundFile(src).copy_metadata()  # the source really carries tags
    clip = read_audio(src)
    clip.source = "Jane Q Patient MRN 99887766"
    out = export_audio(clip, tmp_path / f"out.{fmt.lower()}", format=fmt)
    with sf.SoundFile(out) as handle:
        assert handle.copy_metadata() == {}
        assert handle.format == fmt
    data = out.read_bytes()
    for text in (b"Jane", b"99887766", b"Dr Who", b"Patient"):
        assert text not in data
    np.testing.assert_allclose(read_audio(out).samples, clip.samples, atol=1e-4)
    assert not list(tmp_path.glob(".*partial"))


def test_export_float_clip_to_flac_uses_24_bit(tmp_path):
    clip = AudioClip(_tone(), RATE, subtype="FLOAT")
    out = export_audio(clip, tmp_path / "x.flac", format="FLAC")
    assert sf.info(out).subtype == "PCM_24"
    with pytest.raises(AudioFileError, match="WAV or FLAC"):
        export_audio(clip, tmp_path / "x.mp3", format="MP3")


@pytest.mark.real_data
def test_real_icbhi_recordings_open(shared_data):
    expected = {
        "101_1b1_Al_sc_Meditron.wav": (44100, "PCM_32"),
        "103_2b2_Ar_mc_LittC2SE.wav": (44100, "PCM_24"),
        "104_1b1_Al_sc_Litt3200.wav": (4000, "PCM_16"),
        "104_1b1_Ll_sc_Litt3200.wav": (4000, "PCM_16"),
    }
    folder = shared_data / "icbhi-sample"
    for name, (rate, subtype) in expected.items():
        clip = read_audio(folder / name)
        info = audio_info(folder / name)
        annotated_end_s = max(float(line.split()[1]) for line in
                              (folder / name).with_suffix(".txt").read_text().splitlines() if line.strip())
        assert (clip.rate_hz, clip.subtype) == (rate, subtype)
        assert info["rate_hz"] == rate and info["channels"] == 1
        assert annotated_end_s <= clip.duration_s + 0.05 and 10.0 < clip.duration_s < 30.0
        assert np.isfinite(clip.samples).all()
        assert -45.0 < info["rms_dbfs"] < -3.0 and info["peak_dbfs"] > info["rms_dbfs"] + 6.0
        assert abs(float(clip.mono().mean())) < 0.05  # no large DC offset: decoded correctly


@pytest.mark.real_data
def test_real_voice_recordings_open(shared_data):
    files = sorted((shared_data / "fsdd-voice").glob("*.wav"))
    assert len(files) >= 20
    for path in files:
        clip = read_audio(path)
        assert clip.rate_hz == 8000 and clip.channels == 1
        assert 0.1 < clip.duration_s < 2.0
        assert np.isfinite(clip.samples).all()
        assert -60.0 < audio_info(path)["rms_dbfs"] < -6.0


def test_a_wav_cut_short_is_read_and_says_how_much_is_missing(tmp_path, capsys):
    """An interrupted copy: the header announces 4 s, the file holds 1.5 s. The part present is
    read and every reader (read_audio, audio info, analyze, import) says what is missing."""
    import json

    import soundfile as sf

    from stethoscan.audio.analysis.pipeline import analyze_recording
    from stethoscan.audio.audio_files import audio_info, declared_wav_frames, read_audio
    from stethoscan.cli import main

    rng = np.random.default_rng(1)
    whole = tmp_path / "whole.wav"
    sf.write(whole, (0.1 * rng.standard_normal((16000, 2))).astype(np.float32), 4000, subtype="PCM_24")
    data = whole.read_bytes()
    header = len(data) - 16000 * 2 * 3
    cut = tmp_path / "cut.wav"
    cut.write_bytes(data[: header + 6000 * 2 * 3])
    assert declared_wav_frames(whole) == declared_wav_frames(cut) == 16000
    assert read_audio(whole).warnings == [] and audio_info(whole)["warnings"] == []
    clip = read_audio(cut)
    assert clip.frames == 6000
    assert clip.warnings == ["The file cut.wav is cut short: its header announces 4.0 s but only 1.5 s "
                             "are in it (an interrupted copy or download?). The 1.5 s present are "
                             "used; copy the file again to get the rest."]  # fmt: skip
    assert audio_info(cut)["warnings"] == clip.warnings
    assert main(["audio", "info", str(cut)]) == 0
    assert "Warning: The file cut.wav is cut short" in capsys.readouterr().out
    assert clip.warnings[0] in analyze_recording(clip, "breath").notes
    assert main(["analyze", str(cut), "--task", "breath", "--json"]) == 0
    assert clip.warnings[0] in json.loads(capsys.readouterr().out)["notes"]
    part = read_audio(cut, start_s=0.5, duration_s=0.5)  # a part asked for: nothing to say
    assert part.warnings == []
