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
    assert cli.main(["dicom", "scan", str(tmp_path), "--json"]) == 0
    assert seen == {}
    assert '"patients"' in capsys.readouterr().out
