"""Training of the respiratory cycle classifier, its calibration, the classical baseline and the
saliency sanity check.

- Network: AdamW, class-weighted cross-entropy, SpecAugment-style time and frequency masks and
  scattered bin dropout,
  cosine learning-rate decay, early stopping on the validation set's balanced accuracy.
- Calibration: one temperature fitted on the validation set by minimising the NLL (Guo et al.
  2017).
- Baseline: standardised classical features (MFCC, LPC, spectral descriptors), the best 30 by
  mutual information, then logistic regression and a random forest (scikit-learn), both with
  balanced class weights.
- Saliency: the inference package's sanity checks (pointing game, weight randomisation,
  deletion) on held-out synthetic windows whose wheeze and crackle boxes are known.

Splits keep each patient (or synthetic recording) in one part. Seeded and reproducible.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn

from stethoscan.training.icbhi_dataset import CycleSet
from stethoscan.training.respiratory_features import SALIENCY_OPTIONS, combine_window_probabilities
from stethoscan.training.respiratory_synthesis import LABELS

_log = logging.getLogger(__name__)


@dataclass
class TrainConfig:
    arch: str = "resp_cnn"
    epochs: int = 12
    batch_size: int = 64
    learning_rate: float = 2e-3
    weight_decay: float = 1e-2
    patience: int = 4
    seed: int = 1
    augment: bool = True
    arch_params: dict[str, Any] = field(default_factory=dict)


@dataclass
class TrainedNetwork:
    module: nn.Module
    arch: str
    arch_params: dict[str, Any]
    temperature: float
    history: list[dict[str, float]]
    seconds: float


# --- splits ---------------------------------------------------------------------------------
def split_cycles(data: CycleSet, seed: int, val_fraction: float = 0.15,
                 test_fraction: float = 0.15) -> dict[str, np.ndarray]:  # fmt: skip
    """Cycle indices of train/val/test, whole groups (patients, recordings) per part.

    Cycles marked ``test`` (official ICBHI split) form the test set; when none are marked, a
    share of the groups is drawn. Validation groups are drawn from the rest.
    """
    rng = np.random.default_rng(seed)
    groups = np.asarray(data.groups)
    marked_test = np.asarray([s == "test" for s in data.splits])
    test = np.flatnonzero(marked_test)
    rest_groups = np.unique(groups[~marked_test])
    rng.shuffle(rest_groups)
    n_test = 0 if test.size else max(1, int(round(test_fraction * rest_groups.size)))
    n_val = max(1, int(round(val_fraction * rest_groups.size)))
    if rest_groups.size < n_test + n_val + 1:
        raise_small(rest_groups.size)
    test_groups, val_groups = rest_groups[:n_test], rest_groups[n_test : n_test + n_val]
    if not test.size:
        test = np.flatnonzero(np.isin(groups, test_groups))
    val = np.flatnonzero(np.isin(groups, val_groups) & ~marked_test)
    train = np.setdiff1d(np.arange(data.n_cycles), np.concatenate([test, val]))
    return {"train": train, "val": val, "test": test}


def raise_small(count: int) -> None:
    from stethoscan.core.errors import TrainingDataError

    raise TrainingDataError(
        f"Only {count} patients/recordings are available for training and validation; at least "
        "3 are needed so that none appears in two parts. Add recordings."
    )


# --- network --------------------------------------------------------------------------------
def spec_augment(x: torch.Tensor, generator: torch.Generator, max_time: int = 12,
                 max_freq: int = 5, max_dropout: float = 0.2) -> torch.Tensor:  # fmt: skip
    """One time mask and one frequency mask per patch, and for half the patches a random share
    (up to ``max_dropout``) of single time-frequency bins, all set to 0 (the floor level).

    The scattered bins keep the model's output meaningful when parts of the input are removed
    (as the deletion check of the saliency maps does)."""
    x = x.clone()
    batch, _, bins, frames = x.shape
    rates = torch.rand(batch, 1, 1, 1, generator=generator) * max_dropout
    rates[torch.rand(batch, generator=generator) < 0.5] = 0.0
    x = x * (torch.rand(x.shape, generator=generator) >= rates)
    for i in range(batch):
        t = int(torch.randint(0, max_time + 1, (1,), generator=generator))
        t0 = int(torch.randint(0, max(frames - t, 1), (1,), generator=generator))
        f = int(torch.randint(0, max_freq + 1, (1,), generator=generator))
        f0 = int(torch.randint(0, max(bins - f, 1), (1,), generator=generator))
        x[i, :, :, t0 : t0 + t] = 0.0
        x[i, :, f0 : f0 + f, :] = 0.0
    return x


def class_weights(labels: np.ndarray, n_classes: int) -> torch.Tensor:
    """Inverse-frequency weights (mean 1 over the classes present)."""
    counts = np.bincount(labels, minlength=n_classes).astype(float)
    weights = np.where(counts > 0, counts.sum() / np.maximum(counts, 1) / n_classes, 0.0)
    present = weights > 0
    weights[present] /= weights[present].mean()
    return torch.as_tensor(weights, dtype=torch.float32)


def window_logits(module: nn.Module, patches: np.ndarray, batch_size: int = 256) -> np.ndarray:
    """Logits (W, classes) of patches (W, bins, frames), in eval mode."""
    module.eval()
    outs = []
    with torch.inference_mode():
        for start in range(0, len(patches), batch_size):
            x = torch.from_numpy(patches[start : start + batch_size]).unsqueeze(1)
            outs.append(module(spectrogram=x).float().numpy())
    return np.concatenate(outs) if outs else np.zeros((0, len(LABELS)), dtype=np.float32)


def softmax(logits: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    z = np.asarray(logits, dtype=np.float64) / temperature
    z -= z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def cycle_probabilities(window_probs: np.ndarray, window_cycle: np.ndarray,
                        cycles: np.ndarray) -> np.ndarray:  # fmt: skip
    """Per-cycle probabilities (len(cycles), classes) from those of the cycles' windows."""
    return np.stack([combine_window_probabilities(window_probs[window_cycle == c]) for c in cycles])


def _balanced_accuracy(y: np.ndarray, pred: np.ndarray) -> float:
    present = np.unique(y)
    return float(np.mean([(pred[y == c] == c).mean() for c in present])) if present.size else 0.0


def train_network(data: CycleSet, split: dict[str, np.ndarray], config: TrainConfig,
                  task=None, progress_span: tuple[float, float] = (0.0, 1.0)) -> TrainedNetwork:  # fmt: skip
    """Train, keep the best epoch on validation, fit the temperature."""
    from stethoscan.inference.architectures import build_architecture

    torch.manual_seed(config.seed)
    generator = torch.Generator().manual_seed(config.seed)
    params = {"n_classes": len(LABELS), "n_mels": int(data.patches.shape[1]), **config.arch_params}
    module = build_architecture(config.arch, params)
    train_w, val_w = data.windows_of(split["train"]), data.windows_of(split["val"])
    x_train = torch.from_numpy(data.patches[train_w]).unsqueeze(1)
    y_train = torch.from_numpy(data.window_labels[train_w])
    loss_fn = nn.CrossEntropyLoss(weight=class_weights(data.window_labels[train_w], len(LABELS)))
    optimiser = torch.optim.AdamW(module.parameters(), lr=config.learning_rate,
                                  weight_decay=config.weight_decay)  # fmt: skip
    steps = max(1, config.epochs * int(np.ceil(len(train_w) / config.batch_size)))
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimiser, config.learning_rate, total_steps=steps)
    best, best_state, history, stale, started = -1.0, None, [], 0, time.monotonic()
    lo, hi = progress_span
    for epoch in range(config.epochs):
        module.train()
        order = torch.randperm(len(train_w), generator=generator)
        total = 0.0
        for start in range(0, len(order), config.batch_size):
            idx = order[start : start + config.batch_size]
            xb = spec_augment(x_train[idx], generator) if config.augment else x_train[idx]
            optimiser.zero_grad()
            loss = loss_fn(module(spectrogram=xb), y_train[idx])
            loss.backward()
            optimiser.step()
            schedule.step()
            total += float(loss.detach()) * len(idx)
            if task is not None:
                task.check_cancelled()
                done = (epoch + (start + len(idx)) / len(order)) / config.epochs
                task.progress(lo + (hi - lo) * done, f"Epoch {epoch + 1}/{config.epochs}")
        val_pred = window_logits(module, data.patches[val_w]).argmax(axis=1)
        score = _balanced_accuracy(data.window_labels[val_w], val_pred)
        history.append({"epoch": epoch + 1, "train_loss": total / len(order), "val_balanced_accuracy": score})
        _log.info("epoch %d: loss %.4f, validation balanced accuracy %.3f", epoch + 1, total / len(order), score)
        if score > best:
            best, stale = score, 0
            best_state = {k: v.detach().clone() for k, v in module.state_dict().items()}
        else:
            stale += 1
            if stale >= config.patience:
                break
    module.load_state_dict(best_state)
    module.eval()
    temperature = fit_temperature(window_logits(module, data.patches[val_w]), data.window_labels[val_w])
    return TrainedNetwork(module, config.arch, params, temperature, history,
                          time.monotonic() - started)  # fmt: skip


def fit_temperature(logits: np.ndarray, labels: np.ndarray) -> float:
    """The temperature T minimising the NLL of softmax(logits / T) (bounded to 0.05-20)."""
    from scipy.optimize import minimize_scalar

    if len(labels) == 0:
        return 1.0

    def nll(log_t: float) -> float:
        p = softmax(logits, float(np.exp(log_t)))
        return float(-np.mean(np.log(p[np.arange(len(labels)), labels] + 1e-12)))

    result = minimize_scalar(nll, bounds=(np.log(0.05), np.log(20.0)), method="bounded")
    return float(np.exp(result.x))


def network_cycle_probabilities(net: TrainedNetwork, data: CycleSet, cycles: np.ndarray) -> np.ndarray:
    """Calibrated per-cycle probabilities of the given cycles."""
    windows = data.windows_of(cycles)
    probs = softmax(window_logits(net.module, data.patches[windows]), net.temperature)
    return cycle_probabilities(probs, data.window_cycle[windows], cycles)


# --- classical baseline ---------------------------------------------------------------------
def train_classical(features: np.ndarray, labels: np.ndarray, seed: int, k_best: int = 30):
    """Scaler -> mutual-information selection -> logistic regression, and a random forest."""
    from functools import partial

    from sklearn.ensemble import RandomForestClassifier
    from sklearn.feature_selection import SelectKBest, mutual_info_classif
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    k = min(k_best, features.shape[1])
    selector = partial(mutual_info_classif, random_state=seed)
    models = {
        "logistic_regression": make_pipeline(
            StandardScaler(), SelectKBest(selector, k=k),
            LogisticRegression(class_weight="balanced", max_iter=3000, C=1.0),
        ),
        "random_forest": make_pipeline(
            StandardScaler(), SelectKBest(selector, k=k),
            RandomForestClassifier(n_estimators=200, min_samples_leaf=2, class_weight="balanced",
                                   random_state=seed, n_jobs=1),
        ),
    }  # fmt: skip
    for model in models.values():
        model.fit(features, labels)
    return models


def classical_probabilities(model, features: np.ndarray) -> np.ndarray:
    """(n, 4) probabilities, with zero columns for classes the model never saw."""
    probs = np.zeros((len(features), len(LABELS)))
    probs[:, model.classes_] = model.predict_proba(features)
    return probs


def selected_feature_names(model, names: list[str]) -> list[str]:
    support = model.named_steps["selectkbest"].get_support()
    return [n for n, keep in zip(names, support, strict=True) if keep]


# --- saliency sanity ------------------------------------------------------------------------


def sanity_samples(net: TrainedNetwork, data: CycleSet, cycles: np.ndarray, count: int, seed: int):
    """Held-out windows with a known event, correctly classified, target = their label."""
    from stethoscan.inference.saliency.sanity import SanitySample

    if data.window_masks is None:
        return []
    windows = data.windows_of(cycles)
    labels = data.window_labels[windows]
    has_event = data.window_masks[windows].any(axis=(1, 2)) & (labels > 0)
    candidates = windows[has_event]
    if candidates.size == 0:
        return []
    predicted = window_logits(net.module, data.patches[candidates]).argmax(axis=1)
    candidates = candidates[predicted == data.window_labels[candidates]]
    rng = np.random.default_rng(seed)
    chosen = rng.choice(candidates, size=min(count, candidates.size), replace=False)
    return [SanitySample({"spectrogram": data.patches[w][None, None]}, data.window_masks[w],
                         int(data.window_labels[w])) for w in chosen]  # fmt: skip


def saliency_sanity(net: TrainedNetwork, data: CycleSet, cycles: np.ndarray, seed: int,
                    count: int = 24, methods=("gradcam", "occlusion", "ig")) -> dict[str, Any]:  # fmt: skip
    """The ``[saliency]`` manifest table (validated methods and their check figures)."""
    from stethoscan.inference.architectures import gradcam_target
    from stethoscan.inference.saliency.sanity import run_sanity_checks, saliency_manifest_section

    samples = sanity_samples(net, data, cycles, count, seed) if count > 0 else []
    if len(samples) < 5:
        return {"validated_methods": [], "checks": {"note": "too few held-out samples with known events"}}
    results = run_sanity_checks(net.module, lambda m: gradcam_target(net.arch, m), samples,
                                methods, SALIENCY_OPTIONS)  # fmt: skip
    section = saliency_manifest_section(results)
    section["checks"] = {**section["checks"], "samples": len(samples)}
    return section
