"""Scoring the automatic breathing cycles against annotated recordings, through the CLI."""

from __future__ import annotations

import csv
import json
import shutil

import pytest

from stethoscan.audio.analysis.segmentation_scoring import boundary_f1, reference_rate_bpm
from stethoscan.cli import main


def test_reference_rate_and_boundary_f1():
    cycles = [(0.0, 2.0), (2.0, 4.5), (4.5, 7.0), (7.0, 8.0)]  # the first and last are cut
    assert reference_rate_bpm(cycles, duration_s=8.0) == pytest.approx(60 * 2 / 5.0)
    assert reference_rate_bpm([(0.0, 8.0)], duration_s=8.0) is None
    assert boundary_f1([1.0, 3.0, 9.0], [1.2, 3.6, 8.9]) == pytest.approx(2 / 3)  # 3.0 vs 3.6: miss
    assert boundary_f1([1.0, 1.1], [1.05]) == pytest.approx(2 * 0.5 * 1 / 1.5)  # one to one


@pytest.mark.real_data
def test_scores_on_an_icbhi_folder_with_a_broken_file(shared_data, tmp_path, capsys):
    data = tmp_path / "icbhi"
    shutil.copytree(shared_data / "icbhi-sample", data)
    (data / "999_1b1_Tc_sc_Broken.wav").write_bytes(b"RIFF not really a wave file")
    (data / "999_1b1_Tc_sc_Broken.txt").write_text("0.5 2.5 0 0\n2.5 4.5 0 0\n")
    out = tmp_path / "scores"
    assert main(["evaluate", "--breath-segmentation", "--data", str(data), "--out", str(out), "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    summary = json.loads((out / "segmentation_summary.json").read_text())
    assert printed == summary
    assert summary["recordings"] == 4 and [f["recording"] for f in summary["failures"]] == [
        "999_1b1_Tc_sc_Broken"]
    assert summary["failures"][0]["reason"]  # says why
    with (out / "segmentation_scores.csv").open() as handle:
        rows = {r["recording"]: r for r in csv.DictReader(handle)}
    assert len(rows) == 4
    meditron = rows["101_1b1_Al_sc_Meditron"]
    assert float(meditron["rate_error_bpm"]) < 3.0 and float(meditron["boundary_f1"]) > 0.8
    errors = [float(r["rate_error_bpm"]) for r in rows.values()]
    assert summary["within_3_bpm"] == pytest.approx(sum(e <= 3.0 for e in errors) / 4)
    assert all(0.0 <= float(r["boundary_f1"]) <= 1.0 for r in rows.values())
    # the rate's stability range, and how the "uncertain" warning did against the reference
    for r in rows.values():
        low, high, rate = float(r["rate_low_bpm"]), float(r["rate_high_bpm"]), float(r["rate_bpm"])
        assert low <= rate <= high and r["uncertain"] == str(high - low > 3.0)
    flagged = [r for r in rows.values() if r["uncertain"] == "True"]
    assert summary["uncertain_share"] == pytest.approx(len(flagged) / 4)
    if flagged:
        assert summary["off_by_more_than_3_when_uncertain"] == pytest.approx(
            sum(float(r["rate_error_bpm"]) > 3.0 for r in flagged) / len(flagged))


def test_scores_on_synthetic_recordings_and_refuses_bad_arguments(tmp_path, capsys):
    out = tmp_path / "synthetic"
    assert main(["evaluate", "--breath-segmentation", "--synthetic", "40", "--seed", "5",
                 "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "within_3_bpm" in text and "mean_boundary_f1" in text
    summary = json.loads((out / "segmentation_summary.json").read_text())
    assert summary["recordings"] >= 5 and summary["within_3_bpm"] >= 0.6  # known cycles
    assert main(["evaluate", "--breath-segmentation", "--data", str(tmp_path / "missing"),
                 "--out", str(out)]) == 1
    assert "does not exist" in capsys.readouterr().err
    assert main(["evaluate", "--breath-segmentation", "--synthetic", "8", "--split", "test",
                 "--out", str(out)]) == 1
    assert "--split" in capsys.readouterr().err
