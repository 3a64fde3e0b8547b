"""features.csv keeps its header when no segment was found (a 0.3 s take), so a researcher's
script that reads it finds the columns instead of an empty line."""

from __future__ import annotations

import csv

import soundfile as sf

from stethoscan.audio.analysis.features import write_features_csv
from stethoscan.audio.analysis.synthetic_sounds import synth_breathing


def test_no_segments_still_gives_the_header(tmp_path):
    path = write_features_csv([], tmp_path / "features.csv")
    with path.open(newline="", encoding="utf-8") as handle:
        assert next(csv.reader(handle)) == ["start_s", "end_s", "label"]


def test_analyze_out_on_a_short_take(tmp_path):
    from stethoscan.cli import main

    x, _, _ = synth_breathing(10.0, 4000, seed=3)
    wav = tmp_path / "short.wav"
    sf.write(wav, x[: int(0.3 * 4000)], 4000)
    assert main(["analyze", str(wav), "--task", "breath", "--out", str(tmp_path / "out")]) == 0
    with (tmp_path / "out" / "features.csv").open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert rows == [] and (tmp_path / "out" / "features.csv").read_text().startswith("start_s,end_s,label")
