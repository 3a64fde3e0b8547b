"""The entry point routes to the right command."""

from __future__ import annotations

import stethoscan.cli as cli


def _capture_gui(monkeypatch):
    seen = {}

    def fake_run_gui(args):
        seen["paths"], seen["demo"] = list(args.paths), args.demo
        return 0

    monkeypatch.setattr(cli, "_run_gui", fake_run_gui)
    return seen


def test_no_arguments_and_flags_open_the_window(monkeypatch):
    seen = _capture_gui(monkeypatch)
    assert cli.main([]) == 0 and seen == {"paths": [], "demo": False}
    assert cli.main(["--demo"]) == 0 and seen["demo"] is True


def test_an_existing_path_opens_the_window_with_it(monkeypatch, tmp_path):
    seen = _capture_gui(monkeypatch)
    assert cli.main([str(tmp_path)]) == 0
    assert seen["paths"] == [str(tmp_path)]


def test_a_command_name_is_not_taken_for_a_path(monkeypatch, tmp_path, capsys):
    seen = _capture_gui(monkeypatch)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "dicom").mkdir()  # a folder named like a command
    assert cli.main(["dicom", "scan", str(tmp_path), "--json"]) == 1  # ran: no scan in it
    assert seen == {}
    assert '"patients"' in capsys.readouterr().out


def _failing_scan(monkeypatch, exc: BaseException) -> None:
    import stethoscan.commands.dicom as dicom

    def fail(_args):
        raise exc

    monkeypatch.setattr(dicom, "run_scan", fail)


def test_os_errors_become_one_sentence_naming_the_path(monkeypatch, tmp_path, capsys):
    cases = {
        FileNotFoundError(2, "No such file or directory", "/nonexist/dir/a.png"):
            "/nonexist/dir/a.png cannot be found: check the path",
        IsADirectoryError(21, "Is a directory", "/tmp/x"):
            "/tmp/x is a folder where a file is needed",
        FileExistsError(17, "File exists", "afile"):
            "afile already exists as a file where a folder is needed",
        PermissionError(13, "Permission denied", "/root/out"):
            "Permission denied: /root/out cannot be read or written by your user",
        OSError(28, "No space left on device", "big.wav"):
            "The disk is full while writing big.wav",
        OSError(5, "Input/output error", "scan.dcm"):
            "scan.dcm could not be used (Input/output error): check the path",
    }
    for exc, sentence in cases.items():
        _failing_scan(monkeypatch, exc)
        assert cli.main(["dicom", "scan", str(tmp_path)]) == 1
        err = capsys.readouterr().err
        assert err.startswith(f"stethoscan: {sentence}") and err.count("\n") == 1, err


def test_out_that_is_a_file_is_refused_before_the_work(tmp_path, capsys):
    afile = tmp_path / "afile"
    afile.write_text("x")
    wav = tmp_path / "never-read.wav"  # the check comes first, so the input is not even opened
    assert cli.main(["analyze", str(wav), "--task", "breath", "--out", str(afile)]) == 1
    assert f"--out {afile} is a file, but --out needs a folder" in capsys.readouterr().err
    assert cli.main(["predict", "--model", "no-such-model", str(wav), "--out", str(afile)]) == 1
    assert f"--out {afile} is a file, but --out needs a folder" in capsys.readouterr().err
    assert cli.main(["analyze", str(wav), "--task", "breath", "--out", str(afile / "sub")]) == 1
    assert f"{afile} is a file, not a folder" in capsys.readouterr().err


def test_a_closed_pipe_ends_quietly(tmp_path):
    import os
    import subprocess
    import sys

    import numpy as np
    import soundfile as sf

    sf.write(tmp_path / "a.wav", np.zeros(800, np.float32), 8000)
    for command in (["dicom", "scan", str(tmp_path), "--json"],
                    ["audio", "info", str(tmp_path / "a.wav"), "--json"]):
        read_end, write_end = os.pipe()
        os.close(read_end)  # like `| head` that has already exited
        try:
            result = subprocess.run([sys.executable, "-m", "stethoscan", *command],
                                    stdout=write_end, stderr=subprocess.PIPE, text=True, timeout=120)
        finally:
            os.close(write_end)
        assert result.returncode == 141, (command, result.stderr)
        assert "Traceback" not in result.stderr and "BrokenPipe" not in result.stderr


def test_evaluate_says_how_many_labelled_rows_were_left_out(tmp_path, capsys):
    """One good cycle, one with an unknown label: the evaluation runs and says one was left out."""
    import numpy as np
    import soundfile as sf

    from stethoscan.audio.analysis.synthetic_sounds import synth_breathing

    data = tmp_path / "data"
    data.mkdir()
    samples, _, _ = synth_breathing(8.0, 4000, rate_bpm=15.0, seed=2)
    sf.write(data / "a.wav", np.asarray(samples, dtype=np.float32), 4000)
    (data / "labels.csv").write_text("file,start_s,end_s,label\na.wav,0.5,4.5,normal\na.wav,4.5,8.0,Wheezing\n")
    assert cli.main(["evaluate", "--model", "respiratory-cycles", "--data", str(data),
                     "--out", str(tmp_path / "eval")]) == 0
    out = capsys.readouterr().out
    assert "Left out (1;" in out and "unknown label 'Wheezing'" in out
