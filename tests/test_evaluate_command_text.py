"""``stethoscan evaluate`` text output: a figure the data cannot give says why (not "None"), and the
recordings left out are named with their reason, not only counted."""

from __future__ import annotations

import soundfile as sf

from stethoscan.audio.analysis.synthetic_sounds import synth_breathing


def test_missing_auc_and_left_out_recording_are_explained(tmp_path, capsys):
    from stethoscan.cli import main

    data = tmp_path / "data"
    data.mkdir()
    x, cycles, _ = synth_breathing(12.0, 4000, rate_bpm=15.0, seed=3)
    sf.write(data / "a.wav", x, 4000)
    (data / "labels.csv").write_text(
        "file,start_s,end_s,label\n"
        "a.wav,0.0,4.0,normal\na.wav,4.0,8.0,crackle\na.wav,8.0,12.0,normal\n"
        "gone.wav,0.0,4.0,wheeze\n"
    )
    assert main(["evaluate", "--model", "respiratory-cycles", "--data", str(data),
                 "--out", str(tmp_path / "eval")]) == 0
    out = capsys.readouterr().out
    assert "wheeze_auc: n/a (the data hold no wheeze cycles)" in out
    assert "None" not in out
    assert "Left out (1;" in out and "gone.wav does not exist" in out
