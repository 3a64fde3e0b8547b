"""Readers for the ICBHI layout and a labelled folder, cycle patches and splits."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
import soundfile as sf

from stethoscan.core.errors import TrainingDataError
from stethoscan.training import icbhi_dataset as ds
from stethoscan.training.respiratory_features import (
    PatchSpec,
    combine_window_probabilities,
    cycle_patches,
    window_starts,
)
from stethoscan.training.respiratory_trainer import split_cycles

SPEC = PatchSpec()


def write_tone(path, seconds=8.0, rate=8000):
    t = np.arange(int(seconds * rate)) / rate
    sf.write(path, (0.1 * np.sin(2 * np.pi * 300 * t)).astype(np.float32), rate)


def test_icbhi_layout_with_official_split(tmp_path):
    for name in ("101_1b1_Al_sc_Meditron", "102_1b1_Ar_sc_Meditron", "103_2b2_Ar_mc_LittC2SE"):
        write_tone(tmp_path / f"{name}.wav")
        (tmp_path / f"{name}.txt").write_text("0.1\t2.5\t0\t1\n2.5\t5.0\t1\t1\n5.0 7.5 1 0\n")
    (tmp_path / "ICBHI_challenge_train_test.txt").write_text(
        "101_1b1_Al_sc_Meditron\ttrain\n102_1b1_Ar_sc_Meditron\ttest\n"
    )
    recordings = ds.read_recordings(tmp_path)
    assert [r.patient for r in recordings] == ["101", "102", "103"]
    assert [r.split for r in recordings] == ["train", "test", None]
    assert [c.label for c in recordings[0].cycles] == ["wheeze", "both", "crackle"]
    assert recordings[0].cycles[1].start_s == pytest.approx(2.5)


def test_icbhi_malformed_line_is_skipped_with_its_reason(tmp_path):
    write_tone(tmp_path / "a.wav")
    (tmp_path / "a.txt").write_text("0.1 2.5 0 1\n0.3 crackle\n4.0 3.0 0 0\n")
    with pytest.raises(TrainingDataError, match="Line 2 of a.txt"):
        ds.read_icbhi_annotation(tmp_path / "a.txt")
    [rec] = ds.read_recordings(tmp_path)
    assert len(rec.cycles) == 1
    assert rec.skipped[0].startswith("a.txt, line 2: not 'start end crackles wheezes'")
    assert rec.skipped[1].startswith("a.txt, line 3: the cycle ends (3 s) before")
    data = ds.extract_cycles([rec], SPEC)
    assert data.n_cycles == 1 and data.skipped == rec.skipped


def test_label_csv_bad_rows_and_cycles_outside_the_file_are_listed(tmp_path):
    write_tone(tmp_path / "a.wav", seconds=20.0)
    (tmp_path / "labels.csv").write_text(
        "file,start_s,end_s,label\n"
        "a.wav,0.5,3.0,normal\na.wav,5.0,4.0,crackle\na.wav,30,33,wheeze\n"
        "a.wav,6.0,9.0,Wheezing\na.wav,9.0,x,normal\na.wav,10.0,13.0,both\n"
    )
    data = ds.extract_cycles(ds.read_recordings(tmp_path), SPEC)
    assert data.n_cycles == 2
    assert [info["start_s"] for info in data.cycle_info] == [0.5, 10.0]
    reasons = "\n".join(data.skipped)
    assert len(data.skipped) == 4, reasons
    assert "labels.csv, row 3 (a.wav): the cycle ends (4 s) before" in reasons
    assert ("labels.csv, row 5 (a.wav): unknown label 'Wheezing'; use one of normal, crackle, "
            "wheeze, both.") in reasons
    assert "labels.csv, row 6 (a.wav): start_s '9.0' or end_s 'x' is not a number" in reasons
    assert "a.wav, cycle 30-33 s: the recording is only 20.00 s long" in reasons
    assert data.subset(np.array([1])).skipped == data.skipped  # the trainer's test part keeps them
    from stethoscan.training.respiratory_evaluation import evaluate_cycles

    report = evaluate_cycles(lambda x: np.full((len(x), 4), 0.25, dtype=np.float32), data)
    assert report["skipped"] == data.skipped  # what metrics.json["skipped"] holds


def test_label_csv_folder(tmp_path):
    (tmp_path / "audio").mkdir()
    write_tone(tmp_path / "audio" / "take1.wav")
    write_tone(tmp_path / "take2.wav")
    (tmp_path / "labels.csv").write_text(
        "file,start_s,end_s,label,patient\n"
        "audio/take1.wav,0.0,2.0,normal,p1\naudio/take1.wav,2.0,4.5,Wheeze,p1\n"
        "take2.wav,1.0,3.0,both,p2\n"
    )
    recordings = ds.read_recordings(tmp_path)
    assert [(r.name, r.patient, len(r.cycles)) for r in recordings] == [("take1", "p1", 2), ("take2", "p2", 1)]
    assert recordings[0].cycles[1].label == "wheeze"
    (tmp_path / "labels.csv").write_text("file,start_s,end_s,label\ntake2.wav,1,3,rattle\n")
    with pytest.raises(TrainingDataError, match="rattle"):
        ds.read_recordings(tmp_path)


def test_empty_folder_and_unreadable_recording(tmp_path):
    with pytest.raises(TrainingDataError, match="No labelled breathing cycles"):
        ds.read_recordings(tmp_path)
    write_tone(tmp_path / "good.wav")
    (tmp_path / "good.txt").write_text("0.5 3.0 0 0\n")
    (tmp_path / "bad.wav").write_bytes(b"not audio at all")
    (tmp_path / "bad.txt").write_text("0.5 3.0 0 0\n")
    data = ds.extract_cycles(ds.read_recordings(tmp_path), SPEC)
    assert data.n_cycles == 1 and len(data.skipped) == 1 and "bad" in data.skipped[0]


def test_windows_and_combination():
    assert window_starts(100, SPEC) == [0]
    starts = window_starts(int(7.2 * SPEC.rate_hz), SPEC)
    assert starts[0] == 0 and starts[-1] + SPEC.segment_samples == int(7.2 * SPEC.rate_hz)
    x = np.random.default_rng(0).normal(size=int(10 * SPEC.rate_hz)).astype(np.float32)
    short, long = cycle_patches(x, 1.0, 2.2, SPEC), cycle_patches(x, 1.0, 8.0, SPEC)
    assert short.patches.shape == (1, *SPEC.shape)
    assert long.patches.shape[0] == len(long.offsets_s) >= 3
    assert np.isfinite(long.patches).all()
    # a wheeze in one window only makes the cycle a wheeze cycle
    windows = np.array([[0.9, 0.05, 0.03, 0.02], [0.1, 0.05, 0.8, 0.05]])
    combined = combine_window_probabilities(windows)
    assert combined.sum() == pytest.approx(1.0) and int(np.argmax(combined)) == 2


def test_synthetic_cycles_have_masks_and_group_splits():
    data = ds.extract_cycles(ds.synthetic_recordings(40, seed=2), SPEC, with_masks=True)
    assert data.n_cycles == 40 and data.patches.shape[1:] == SPEC.shape
    assert data.window_masks.shape == data.patches.shape
    abnormal = data.window_labels > 0
    assert data.window_masks[abnormal].any(axis=(1, 2)).mean() > 0.9
    assert not data.window_masks[~abnormal].any()
    assert data.features.shape == (40, len(data.feature_names)) and np.isfinite(data.features).all()
    split = split_cycles(data, seed=0)
    groups = {part: {data.groups[i] for i in idx} for part, idx in split.items()}
    assert not groups["train"] & groups["test"] and not groups["train"] & groups["val"]
    assert sum(len(v) for v in split.values()) == 40
    subset = data.subset(split["test"])
    assert subset.n_cycles == len(split["test"]) and subset.window_cycle.max() == subset.n_cycles - 1


@pytest.mark.real_data
def test_real_icbhi_sample(shared_data, tmp_path):
    recordings = ds.read_recordings(shared_data / "icbhi-sample")
    data = ds.extract_cycles(recordings, SPEC)
    assert data.n_cycles == 31 and not data.skipped
    assert np.bincount(data.labels, minlength=4).tolist() == [26, 1, 4, 0]
    assert set(data.groups) == {"101", "103", "104"}
    # the official split file is honoured on the real files too
    for wav in (shared_data / "icbhi-sample").glob("*.wav"):
        shutil.copy(wav, tmp_path / wav.name)
        shutil.copy(wav.with_suffix(".txt"), tmp_path / wav.with_suffix(".txt").name)
    (tmp_path / "ICBHI_challenge_train_test.txt").write_text("103_2b2_Ar_mc_LittC2SE test\n")
    assert {r.name: r.split for r in ds.read_recordings(tmp_path)}["103_2b2_Ar_mc_LittC2SE"] == "test"
