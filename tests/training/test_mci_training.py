"""A tiny MCI model trained in seconds: learning, Grad-CAM pointing, package, evaluation."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from stethoscan.training import brain_synthesis as bs
from stethoscan.training import mci_trainer
from stethoscan.training.mci_dataset import MciSample, encode_history

STRONG = {"hippocampus_left": -0.4, "hippocampus_right": -0.4, "mtl_left": -0.4,
          "mtl_right": -0.4, "ventricles": 0.9, "temporal_horn_left": 1.0,
          "temporal_horn_right": 1.0}


def _sample(label: int, rng: np.random.Generator, template) -> MciSample:
    changes = STRONG if label == 2 else {}
    brain = bs.synthesize_brain(template, changes, rng, float(rng.uniform(0.97, 1.03)))
    mmse = [29, 29, 28] if label == 0 else [25, 23, 20]
    visits = [{"years_from_first": t, "mmse": m + rng.integers(-1, 2)} for t, m in enumerate(mmse)]
    history = encode_history(visits, {"age_years": 74, "sex": "F", "education_years": 14})
    return MciSample(brain.image.astype(np.float16), history, label, brain.atrophy_mask,
                     figures=brain.figures)


@pytest.fixture(scope="module")
def tiny():
    """CN brains versus strongly atrophied ones on the template at 4 mm (8x fewer voxels than
    the bundled model's 2 mm, same code), and a tiny model trained on them in seconds."""
    full = bs.load_template()
    template = bs.BrainTemplate(full.t1[::2, ::2, ::2], full.mask[::2, ::2, ::2],
                                full.labels[::2, ::2, ::2], 2 * full.spacing_mm)
    rng = np.random.default_rng(3)
    train = [_sample(label, rng, template) for label in (0, 2) * 20]
    test = [_sample(label, rng, template) for label in (0, 2) * 5]
    torch.manual_seed(0)
    torch.set_num_threads(1)
    config = mci_trainer.TrainConfig(epochs=15, batch_size=4, learning_rate=3e-3,
                                     widths=(4, 8, 8, 16), threads=1)
    from stethoscan.inference.architectures import mci_fusion

    module = mci_fusion.build({"widths": list(config.widths)})
    aux_head = torch.nn.Linear(32, 3)
    optimizer = torch.optim.AdamW(module.parameters(), lr=config.learning_rate)
    rng_epochs = np.random.default_rng(0)
    from stethoscan.core.task import SilentTask

    for epoch in range(config.epochs):
        mci_trainer._epoch(module, aux_head, optimizer, train, config, rng_epochs, SilentTask(),
                           epoch)
    return module.eval(), train, test


def test_tiny_model_separates_atrophy_from_image_alone(tiny):
    module, _, test = tiny
    logits = mci_trainer._logits(module, test, "image_only")
    labels = np.array([s.label for s in test])
    assert (logits.argmax(axis=1) == labels).mean() >= 0.8


def test_gradcam_peaks_in_the_atrophied_structures(tiny):
    module, _, test = tiny
    checks = mci_trainer.gradcam_checks(module, test, subset=3)
    assert checks["cases"] == 5
    assert checks["pointing_game"] >= 0.8
    # the peak is not at the atrophy by construction: the masks cover a small part of the brain
    assert checks["chance_within_brain"] < 0.35
    # the randomization check (Adebayo et al.): the trained and randomized maps share few ranks
    sub = checks["subset_checks"]
    assert sub["randomized_rank_correlation"] == pytest.approx(checks["randomized_rank_correlation"], abs=1e-4)
    assert sub["randomized_rank_correlation"] < 0.5
    assert 0.0 <= sub["randomized_pointing_game"] <= 1.0 and 0.0 < sub["chance"] < 0.35


def test_temperature_fit_recovers_a_known_temperature():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 3, 2000)
    true_logits = rng.normal(0, 1, (2000, 3))
    true_logits[np.arange(2000), labels] += 1.5
    # labels drawn from softmax(true_logits) with the model reporting 3x too confident logits
    probs = mci_trainer.softmax(true_logits)
    drawn = np.array([rng.choice(3, p=p) for p in probs])
    temperature = mci_trainer.fit_temperature(3.0 * true_logits, drawn)
    assert 2.5 < temperature < 3.5


def test_package_round_trip_and_history_only_prediction(tiny, tmp_path):
    from stethoscan.inference.package_writer import write_package
    from stethoscan.inference.runtime import load_model
    from stethoscan.training import mci_package
    from stethoscan.workflows import mci_prediction

    module, train, test = tiny
    labels = np.array([s.label for s in test])
    figures = mci_trainer.classification_figures(labels, mci_trainer.softmax(
        mci_trainer._logits(module, test, "all")))
    result = mci_trainer.TrainResult(
        module, {"widths": [4, 8, 8, 16], "hidden": 32, "embed": 32, "n_classes": 3}, 1.2,
        {c: figures for c in mci_trainer.CONDITIONS}, {"pointing_game": 0.9, "passed": True},
        mci_trainer.TrainConfig(epochs=6), [1.0, 0.5], {"train": 1.0},
        {"train": 20, "validation": 0, "test": 10})
    manifest = mci_package.build_manifest(result, True, {}, {"synthetic": 30, "seed": 3})
    card = mci_package.build_card(result, True, {}, {"total": 1.0}, {"synthetic": 30, "seed": 3})
    assert "Not for diagnostic use" in card and "synthetic" in card.lower()
    folder = write_package(tmp_path / "mci-tiny", manifest, module.state_dict(), card)
    model = load_model(folder)
    assert model.manifest.model.synthetic_training_data and model.temperature == 1.2
    prediction = mci_prediction.run(model, None, {
        "visits": [{"years_from_first": 0, "mmse": 24}, {"years_from_first": 1, "mmse": 19}],
        "patient": {"age_years": 77, "sex": "M", "education_years": 12}})
    assert prediction.inputs_used == ["clinical_scores"]
    assert prediction.contributions["scan"] == 0.0
    assert any("No brain MRI" in w for w in prediction.warnings)
    assert prediction.disclaimer == "Not for diagnostic use"
    assert abs(sum(prediction.probabilities) - 1) < 1e-6 and prediction.saliency is None
