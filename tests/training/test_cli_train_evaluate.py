"""End to end through the CLI: train a tiny respiratory model, then evaluate it.

Tiny runs (a few dozen cycles, one epoch) take seconds; they check that the commands write a
complete, loadable package and the evaluation files, not that the tiny model is good.
"""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from stethoscan.cli import main
from stethoscan.inference.package_loader import verify_package
from stethoscan.inference.package_manifest import read_manifest

EVAL_FILES = ("metrics.json", "confusion_matrix.png", "roc.png", "reliability.png")


def test_train_synthetic_then_evaluate(tmp_path, capsys):
    package = tmp_path / "tiny-resp"
    code = main(["train", "respiratory", "--synthetic", "48", "--epochs", "1", "--out", str(package),
                 "--seed", "3", "--saliency-samples", "0", "--name", "tiny-resp"])  # fmt: skip
    assert code == 0
    manifest = read_manifest(package)
    assert manifest.model.pipeline == "respiratory_cycles"
    assert manifest.model.research_use_only and manifest.model.synthetic_training_data
    assert manifest.labels == ["normal", "crackle", "wheeze", "both"]
    assert manifest.input.audio.sample_rate_hz == 4000 and manifest.calibration.temperature > 0
    assert {"held_out_test", "baseline_logistic_regression", "baseline_random_forest"} <= set(manifest.evaluation)
    card = (package / "card.md").read_text()
    assert "Not for diagnostic use" in card and "SYNTHETIC" in card and "(IDW)" in card
    verify_package(package, deep=True, action="verify")  # hashes, safetensors, shapes
    assert "training_sound_statistics.json" in manifest.files  # the applicability reference, hashed
    assert "Applicability check" in card
    printed = capsys.readouterr().out
    assert "Package written to" in printed
    tested = manifest.evaluation["training"]["cycles_test"]
    assert tested < 30 and f"Note: only {tested} held-out cycles were tested" in printed

    out = tmp_path / "eval"
    assert main(["evaluate", "--model", str(package), "--synthetic", "24", "--out", str(out),
                 "--json"]) == 0  # fmt: skip
    for name in EVAL_FILES:
        assert (out / name).stat().st_size > 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["n"] == 24 and "icbhi" in metrics and len(metrics["confusion_matrix"]) == 4
    printed = json.loads(capsys.readouterr().out)
    assert "icbhi_score" in printed and "ece" in printed


def test_same_seed_same_weights(tmp_path):
    """Reproducible with a seed for a given thread count (floating-point sums depend on it)."""
    args = ["train", "respiratory", "--synthetic", "36", "--epochs", "1", "--seed", "4",
            "--saliency-samples", "0", "--threads", "1"]  # fmt: skip
    assert main([*args, "--out", str(tmp_path / "a")]) == 0
    assert main([*args, "--out", str(tmp_path / "b")]) == 0
    from safetensors.numpy import load_file

    # Compare tensors, not file hashes: safetensors writes its metadata keys in varying order.
    a, b = (load_file(tmp_path / p / "weights.safetensors") for p in ("a", "b"))
    assert a.keys() == b.keys()
    assert all(np.array_equal(a[name], b[name]) for name in a)


def test_bad_arguments_are_refused_with_a_message(tmp_path, capsys):
    assert main(["train", "respiratory", "--synthetic", "40", "--eval-data", str(tmp_path / "typo"),
                 "--out", str(tmp_path / "x")]) == 1  # fmt: skip
    assert "typo does not exist: check the path" in capsys.readouterr().err  # before any training
    assert main(["train", "respiratory", "--synthetic", "5", "--out", str(tmp_path / "x")]) == 1
    assert "at least 30" in capsys.readouterr().err
    assert main(["evaluate", "--model", "no-such-model", "--synthetic", "5", "--out", str(tmp_path)]) == 1
    assert "no-such-model" in capsys.readouterr().err


@pytest.mark.real_data
@pytest.mark.slow
def test_train_and_evaluate_on_an_icbhi_layout(shared_data, tmp_path):
    """The two commands a user with the ICBHI database runs, on the real sample files."""
    database = tmp_path / "ICBHI_final_database"
    database.mkdir()
    for wav in (shared_data / "icbhi-sample").glob("*.wav"):
        shutil.copy(wav, database / wav.name)
        shutil.copy(wav.with_suffix(".txt"), database / wav.with_suffix(".txt").name)
    (database / "ICBHI_challenge_train_test.txt").write_text(
        "101_1b1_Al_sc_Meditron\ttrain\n104_1b1_Al_sc_Litt3200\ttrain\n"
        "104_1b1_Ll_sc_Litt3200\ttrain\n103_2b2_Ar_mc_LittC2SE\ttest\n"
    )
    package = tmp_path / "icbhi-model"
    assert main(["train", "respiratory", "--data", str(database), "--out", str(package),
                 "--epochs", "1", "--name", "icbhi-model"]) == 0  # fmt: skip
    manifest = read_manifest(package)
    assert not manifest.model.synthetic_training_data
    assert manifest.evaluation["training"]["cycles_test"] == 6  # the official split: 103 only
    card = (package / "card.md").read_text()  # says what it was trained on, not the synthetic text
    assert "## Training data" in card and "ICBHI_final_database" in card
    for synthetic_only in ("Exactly how the synthetic data is made", "generated by the program itself",
                           "Trained on synthetic sounds", "SYNTHETIC"):  # fmt: skip
        assert synthetic_only not in card
    out = tmp_path / "eval"
    assert main(["evaluate", "--model", str(package), "--data", str(database), "--out", str(out)]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["n"] == 31
    assert metrics["detection"]["wheeze"]["positives"] == 4
    assert metrics["detection"]["wheeze"]["auc"] is not None
    assert set(metrics["icbhi"]) == {"sensitivity", "specificity", "score"}
    assert main(["evaluate", "--model", str(package), "--data", str(database), "--split", "test",
                 "--out", str(tmp_path / "eval-test")]) == 0  # fmt: skip
    assert json.loads((tmp_path / "eval-test" / "metrics.json").read_text())["n"] == 6


def test_training_data_with_one_class_is_refused_with_a_sentence(tmp_path, capsys):
    """Every wheeze mislabelled (here 'wheezing', an unknown label): only normal cycles are left
    to train on, which the command refuses with what to check instead of a traceback."""
    import numpy as np
    import soundfile as sf

    from stethoscan.audio.analysis.synthetic_sounds import synth_breathing

    data = tmp_path / "data"
    data.mkdir()
    rows = ["file,start_s,end_s,label"]
    for index in range(6):
        samples, _, _ = synth_breathing(8.0, 4000, rate_bpm=15.0, seed=index)
        sf.write(data / f"r{index}.wav", np.asarray(samples, dtype=np.float32), 4000)
        rows += [f"r{index}.wav,0.5,4.5,normal", f"r{index}.wav,4.5,8.0,wheezing"]
    (data / "labels.csv").write_text("\n".join(rows) + "\n")
    assert main(["train", "respiratory", "--data", str(data), "--out", str(tmp_path / "m"),
                 "--epochs", "1"]) == 1  # fmt: skip
    err = capsys.readouterr().err
    assert "holds only normal cycles" in err and "wheezing" in err and "Traceback" not in err
    assert not (tmp_path / "m" / "manifest.toml").exists()
