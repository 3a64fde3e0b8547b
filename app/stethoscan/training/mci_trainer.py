"""Training of the ``mci_fusion`` model: modality dropout, temperature scaling, held-out figures.

:func:`train_mci` splits the samples (stratified 70/10/20 train/validation/test), trains with
AdamW on the mean cross-entropy of three views of every batch (all inputs, image only, history
only: modality dropout in expectation, so the model works with either input missing), fits the temperature on the validation set (NLL, pooled over
the three input conditions), and evaluates on the test set with all inputs, image only and
history only. The saliency checks run Grad-CAM on the test set's MCI and dementia brains (image
input only) against their ground-truth atrophy masks (pointing game) and on a subset with the
model-randomization and deletion checks of :mod:`stethoscan.inference.saliency.sanity`.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from stethoscan.core.errors import TrainingDataError
from stethoscan.core.task import SilentTask, Task
from stethoscan.inference.architectures import mci_fusion
from stethoscan.training.mci_dataset import CLASSES, MAX_VISITS, MciSample

CONDITIONS = ("all", "image_only", "history_only")


@dataclass
class TrainConfig:
    epochs: int = 30
    batch_size: int = 8
    learning_rate: float = 5e-3
    weight_decay: float = 1e-4
    seed: int = 0
    widths: tuple[int, ...] = (8, 16, 16, 32)
    history_warmup_epochs: int = 10  # cheap epochs of the history branch alone, first
    aux_weight: float = 1.0  # weight of the auxiliary atrophy regression (synthetic data only)
    threads: int = 1  # more threads are slower when other processes share the 2 cores
    sanity_subset: int = 20  # test brains for the randomization and deletion checks


@dataclass
class TrainResult:
    module: torch.nn.Module
    params: dict[str, Any]
    temperature: float
    metrics: dict[str, Any]
    saliency: dict[str, Any]
    config: TrainConfig
    losses: list[float] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)
    split_sizes: dict[str, int] = field(default_factory=dict)


# -- data ------------------------------------------------------------------------------------
def split_samples(samples: list[MciSample], seed: int) -> tuple[list, list, list]:
    """Stratified 70/10/20 split (train, validation, test)."""
    rng = np.random.default_rng(seed)
    train, val, test = [], [], []
    for label in range(len(CLASSES)):
        group = [s for s in samples if s.label == label]
        order = rng.permutation(len(group))
        n_test, n_val = int(round(0.2 * len(group))), int(round(0.1 * len(group)))
        test += [group[i] for i in order[:n_test]]
        val += [group[i] for i in order[n_test:n_test + n_val]]
        train += [group[i] for i in order[n_test + n_val:]]
    if not train or not val or not test:
        raise TrainingDataError("Too few subjects to split into training, validation and test.")
    return train, val, test


def collate(samples: list[MciSample], condition: str = "all") -> dict[str, torch.Tensor]:
    """Batch tensors; a missing input of a sample becomes a ``drop_*`` flag.

    With ``condition="history_only"`` no image tensor is built (``image`` is None).
    """
    shape = next((s.image.shape for s in samples if s.image is not None), (1, 1, 1))
    if condition == "history_only":
        shape = (1, 1, 1)
    images = np.zeros((len(samples), 1, *shape), np.float32)
    visits = np.zeros((len(samples), MAX_VISITS, mci_fusion.VISIT_FEATURES), np.float32)
    mask = np.zeros((len(samples), MAX_VISITS), bool)
    static = np.zeros((len(samples), mci_fusion.STATIC_FEATURES), np.float32)
    no_image, no_history = np.zeros(len(samples), bool), np.zeros(len(samples), bool)
    for n, sample in enumerate(samples):
        history = sample.history
        if sample.image is None or condition == "history_only":
            no_image[n] = True
        else:
            images[n, 0] = sample.image
        if (history.visits is None and history.static is None) or condition == "image_only":
            no_history[n] = True
            continue
        if history.visits is not None:
            visits[n], mask[n] = history.visits, history.visit_mask
        if history.static is not None:
            static[n] = history.static
    image = None if condition == "history_only" else torch.from_numpy(images)
    return {"image": image, "visits": torch.from_numpy(visits),
            "visit_mask": torch.from_numpy(mask), "static": torch.from_numpy(static),
            "drop_image": torch.from_numpy(no_image), "drop_history": torch.from_numpy(no_history)}


# -- training --------------------------------------------------------------------------------
AUX_KEYS = (("measured_hippocampus_left", "measured_hippocampus_right"),
            ("measured_mtl_left", "measured_mtl_right"), ("measured_ventricles",))
_AUX_SCALE = np.array([0.2, 0.2, 0.4], np.float32)


def _aux_targets(batch: list[MciSample]) -> tuple[torch.Tensor, torch.Tensor]:
    """Known volume changes of synthetic brains (scaled), and which samples have them."""
    targets = np.zeros((len(batch), len(AUX_KEYS)), np.float32)
    known = np.zeros(len(batch), bool)
    for n, sample in enumerate(batch):
        if sample.image is not None and all(k in sample.figures for keys in AUX_KEYS for k in keys):
            targets[n] = [np.mean([sample.figures[k] for k in keys]) for keys in AUX_KEYS]
            known[n] = True
    return torch.from_numpy(targets / _AUX_SCALE), torch.from_numpy(known)


def _augment(images: torch.Tensor, rng: np.random.Generator) -> torch.Tensor:
    """Random left-right flips, shifts of up to 2 voxels, and for half of the images input
    dropout: a random 0-50 % of the voxels set to 0 (the brain's median), so that no single
    voxel matters and scattered missing voxels do not change the result."""
    out = images.clone()
    for n in range(images.shape[0]):
        if rng.random() < 0.5:
            out[n] = torch.flip(out[n], dims=(-1,))
        shifts = tuple(int(v) for v in rng.integers(-2, 3, 3))
        out[n] = torch.roll(out[n], shifts=shifts, dims=(-3, -2, -1))
        if rng.random() < 0.5:
            keep = torch.from_numpy(rng.random(out[n].shape) >= rng.uniform(0.0, 0.5))
            out[n] = out[n] * keep
    return out


def _three_view_loss(module, aux_head, inputs, labels, aux, aux_weight: float) -> torch.Tensor:
    """Cross-entropy with all inputs, with the image only and with the history only, plus the
    auxiliary regression of the known atrophy from the image embedding.

    The three views are modality dropout in expectation, at the cost of one image pass: each
    branch must carry the decision alone and the fusion must use both. The auxiliary target (the
    synthetic brains' measured hippocampus, MTL and ventricle volume changes) gives the image
    branch a richer signal than three labels; it is used in training only.
    """
    img, hist = module.embeddings(**inputs)
    losses = [F.cross_entropy(module.fuse(img, hist), labels),
              F.cross_entropy(module.fuse(img, module.missing_history.expand_as(hist)), labels),
              F.cross_entropy(module.fuse(module.missing_image.expand_as(img), hist), labels)]
    loss = sum(losses) / 3
    targets, known = aux
    if aux_weight > 0 and bool(known.any()):
        loss = loss + aux_weight * F.mse_loss(aux_head(img[known]), targets[known])
    return loss


def _epoch(module, aux_head, optimizer, train, config, rng, task, epoch) -> float:
    module.train()
    order = rng.permutation(len(train))
    losses = []
    for start in range(0, len(order), config.batch_size):
        task.check_cancelled()
        batch = [train[i] for i in order[start:start + config.batch_size]]
        inputs = collate(batch)
        inputs["image"] = _augment(inputs["image"], rng)
        labels = torch.tensor([s.label for s in batch])
        loss = _three_view_loss(module, aux_head, inputs, labels, _aux_targets(batch),
                                config.aux_weight)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
        done = (epoch + min(start + config.batch_size, len(order)) / len(order)) / config.epochs
        task.progress(done, f"epoch {epoch + 1}/{config.epochs}, loss {np.mean(losses):.3f}")
    return float(np.mean(losses))


def _history_warmup(module, train, config, rng) -> None:
    """Train the history branch and the head with the image missing (fast: no image pass)."""
    parameters = [p for n, p in module.named_parameters() if not n.startswith("image_")]
    optimizer = torch.optim.AdamW(parameters, lr=5e-3, weight_decay=config.weight_decay)
    module.train()
    for _ in range(config.history_warmup_epochs):
        order = rng.permutation(len(train))
        for start in range(0, len(order), 32):
            batch = [train[i] for i in order[start:start + 32]]
            loss = F.cross_entropy(module(**collate(batch, "history_only")),
                                   torch.tensor([s.label for s in batch]))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()


def _logits(module, samples: list[MciSample], condition: str, batch_size: int = 16) -> np.ndarray:
    module.eval()
    out = []
    with torch.inference_mode():
        for start in range(0, len(samples), batch_size):
            out.append(module(**collate(samples[start:start + batch_size], condition)).numpy())
    return np.concatenate(out)


def fit_temperature(logits: np.ndarray, labels: np.ndarray) -> float:
    """Temperature minimising the NLL of ``softmax(logits / T)`` (LBFGS on log T)."""
    log_t = torch.zeros(1, requires_grad=True)
    x, y = torch.from_numpy(logits).float(), torch.from_numpy(labels).long()
    optimizer = torch.optim.LBFGS([log_t], lr=0.1, max_iter=100)

    def closure():
        optimizer.zero_grad()
        loss = F.cross_entropy(x / log_t.exp(), y)
        loss.backward()
        return loss

    optimizer.step(closure)
    return float(np.clip(log_t.exp().item(), 0.05, 20.0))


def softmax(logits: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    z = logits / temperature
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def classification_figures(labels: np.ndarray, probs: np.ndarray) -> dict[str, Any]:
    """Balanced accuracy, per-class recall/precision/F1, confusion matrix, ECE (10 bins), AUC.

    A short view of :func:`stethoscan.training.metrics.classification_report`.
    """
    from stethoscan.training.metrics import classification_report

    report = classification_report(labels, probs, list(CLASSES))
    per_class = report["per_class"]
    return {
        "n": report["n"],
        "balanced_accuracy": report["balanced_accuracy"],
        "accuracy": report["accuracy"],
        "recall": {c: per_class[c]["recall"] for c in CLASSES},
        "precision": {c: per_class[c]["precision"] for c in CLASSES},
        "f1": {c: per_class[c]["f1"] for c in CLASSES},
        "confusion": report["confusion_matrix"],
        "ece": report["calibration"]["ece"],
        "macro_auc": report["roc"]["macro_auc"],
    }


# -- saliency checks -------------------------------------------------------------------------
def gradcam_checks(module, samples: list[MciSample], subset: int) -> dict[str, Any]:
    """Pointing game on every MCI/dementia test brain; randomization and deletion on a subset."""
    from stethoscan.inference.saliency.compute import saliency_maps
    from stethoscan.inference.saliency.sanity import SanitySample, check_method, pointing_hit

    module.eval()
    cases = [s for s in samples if s.label > 0 and s.image is not None and s.atrophy_mask is not None]
    if not cases:
        return {"pointing_game": None, "cases": 0}
    layer = mci_fusion.gradcam_target(module)
    hits, chance_grid, chance_brain = [], [], []
    for sample in cases:
        image = torch.from_numpy(sample.image.astype(np.float32))[None, None]
        cam = saliency_maps(module, layer, {"image": image}, "gradcam", sample.label)[0].numpy()
        hits.append(pointing_hit(cam, sample.atrophy_mask, tolerance=1))
        brain = sample.image != 0
        chance_grid.append(sample.atrophy_mask.mean())
        chance_brain.append(sample.atrophy_mask[brain].mean() if brain.any() else 0.0)
    groups = [[c for c in cases if c.label == k] for k in (1, 2)]
    mixed = [g[i] for i in range(max(map(len, groups))) for g in groups if i < len(g)]  # in turn
    sanity_samples = [SanitySample({"image": s.image.astype(np.float32)[None, None]},
                                   s.atrophy_mask, s.label, region=s.image != 0)
                      for s in mixed[:subset]]  # maps compared inside the brain, as shown
    sanity = check_method(module, mci_fusion.gradcam_target, sanity_samples, "gradcam")
    pointing = float(np.mean(hits))
    return {
        "pointing_game": pointing, "cases": len(cases),
        "chance_grid": float(np.mean(chance_grid)), "chance_within_brain": float(np.mean(chance_brain)),
        "subset": len(sanity_samples), "subset_checks": sanity.to_dict(),
        "randomized_rank_correlation": sanity.randomized_rank_correlation,
        "passed": bool(pointing >= 0.8 and sanity.passed),
    }


# -- orchestration ---------------------------------------------------------------------------
def train_mci(samples: list[MciSample], config: TrainConfig | None = None,
              task: Task | None = None) -> TrainResult:
    """Train, calibrate and evaluate; see the module docstring."""
    config = config or TrainConfig()
    task = task or SilentTask()
    torch.manual_seed(config.seed)
    torch.set_num_threads(max(1, config.threads))
    rng = np.random.default_rng(config.seed)
    train, val, test = split_samples(samples, config.seed)
    params = {"widths": list(config.widths), "hidden": 32, "embed": 32, "n_classes": len(CLASSES)}
    module = mci_fusion.build(params)
    aux_head = torch.nn.Linear(params["embed"], len(AUX_KEYS))  # training only, not packaged
    seconds, losses = {}, []
    start = time.perf_counter()
    _history_warmup(module, train, config, rng)
    seconds["history_warmup"] = time.perf_counter() - start
    optimizer = torch.optim.AdamW([*module.parameters(), *aux_head.parameters()],
                                  lr=config.learning_rate, weight_decay=config.weight_decay)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(
        optimizer, max_lr=config.learning_rate, epochs=config.epochs,
        steps_per_epoch=-(-len(train) // config.batch_size))
    start = time.perf_counter()
    for epoch in range(config.epochs):
        losses.append(_epoch(module, aux_head, _Stepper(optimizer, scheduler), train, config, rng,
                             task, epoch))
    seconds["train"] = time.perf_counter() - start
    start = time.perf_counter()
    val_labels = np.array([s.label for s in val])
    val_logits = np.concatenate([_logits(module, val, c) for c in CONDITIONS])
    temperature = fit_temperature(val_logits, np.tile(val_labels, len(CONDITIONS)))
    test_labels = np.array([s.label for s in test])
    metrics = {c: classification_figures(test_labels, softmax(_logits(module, test, c), temperature))
               for c in CONDITIONS}
    uncalibrated = classification_figures(test_labels, softmax(_logits(module, test, "all")))
    metrics["all"]["ece_before_calibration"] = uncalibrated["ece"]
    seconds["evaluate"] = time.perf_counter() - start
    start = time.perf_counter()
    saliency = gradcam_checks(module, test, config.sanity_subset)
    seconds["saliency_checks"] = time.perf_counter() - start
    return TrainResult(module.eval(), params, temperature, metrics, saliency, config, losses,
                       seconds, {"train": len(train), "validation": len(val), "test": len(test)})


class _Stepper:
    """Optimizer facade that also steps the learning-rate schedule."""

    def __init__(self, optimizer, scheduler) -> None:
        self.optimizer, self.scheduler = optimizer, scheduler

    def zero_grad(self) -> None:
        self.optimizer.zero_grad()

    def step(self) -> None:
        self.optimizer.step()
        self.scheduler.step()


def config_dict(config: TrainConfig) -> dict[str, Any]:
    return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(config).items()}
