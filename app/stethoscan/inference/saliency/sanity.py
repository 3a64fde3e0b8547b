"""Sanity checks that decide whether a saliency method is offered for a model.

On samples whose evidence is known (a lesion mask, an event's time-frequency box):

- pointing game: the map's peak falls on the evidence in at least 80% of samples;
- model randomization (Adebayo et al. 2018, model parameter randomization test): the maps of
  the trained model and of copies with all weights re-initialized are compared by the Spearman
  rank correlation of their absolute values (over the sample's ``region`` when given, e.g. the
  brain mask, else the whole grid), averaged over samples and 3 re-initializations; the method
  passes when the mean is below 0.5;
- deletion: deleting the most salient samples first lowers the target probability much faster
  than deleting in random order (deletion-curve AUC at most half of the random order's).

Why rank correlation below 0.5: a map that ignores the weights (an edge detector, the input's
magnitude; Guided Backprop in the paper) reproduces its ranking after randomization (rho ~ 1); a
map set by what the model learned shares no ranking with an independent random network (rho ~ 0;
Gradient and Grad-CAM in the paper). The paper fixes no number; 0.5 is the midpoint (the random
network then reproduces at most ~25 % of the rank variance, rho squared). The randomized pointing
hit rate and its chance (the evidence's share of the grid) are still measured and reported but do
not decide: randomly initialized CNNs respond to high-contrast structures (Adebayo et al. saw
edge-detector-like maps), so where the evidence is the most conspicuous structure, a random
network's peak lands on it far more often than the grid share suggests, and the peak location
alone is weaker evidence than the pointing game suggests.

Training code runs :func:`check_loaded_model` (or :func:`run_sanity_checks` on a fresh module)
and writes :func:`saliency_manifest_section` into the package's ``[saliency]`` table.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn

from stethoscan.inference.saliency import METHODS
from stethoscan.inference.saliency.compute import saliency_maps, spatial_input_name

MIN_POINTING_GAME = 0.8
MAX_RANDOMIZED_RANK_CORRELATION = 0.5
MAX_DELETION_AUC_RATIO = 0.5


@dataclass
class SanitySample:
    """One input (batch of 1 per array), the evidence mask on its spatial grid, the class, and
    optionally the region (same grid) where maps are compared, e.g. the brain mask."""

    inputs: dict[str, np.ndarray | None]
    mask: np.ndarray
    target: int
    region: np.ndarray | None = None


@dataclass
class MethodSanity:
    method: str
    pointing_game: float
    randomized_pointing_game: float
    chance: float
    randomized_rank_correlation: float
    deletion_auc: float
    random_deletion_auc: float
    passed: bool = False
    failures: list[str] = field(default_factory=list)

    @property
    def deletion_auc_ratio(self) -> float:
        return self.deletion_auc / max(self.random_deletion_auc, 1e-9)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["deletion_auc_ratio"] = self.deletion_auc_ratio
        return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in data.items()}


# --- the three measures ----------------------------------------------------------------------
def _dilate(mask: np.ndarray, tolerance: int) -> np.ndarray:
    from scipy import ndimage

    mask = np.asarray(mask, dtype=bool)
    return ndimage.binary_dilation(mask, iterations=tolerance) if tolerance > 0 else mask


def pointing_hit(saliency: np.ndarray, mask: np.ndarray, tolerance: int = 1) -> bool:
    """Whether the map's peak lies on the mask (dilated by ``tolerance`` samples)."""
    peak = np.unravel_index(int(np.argmax(saliency)), saliency.shape)
    return bool(_dilate(mask, tolerance)[peak])


def chance_rate(masks: Sequence[np.ndarray], tolerance: int = 1) -> float:
    """Hit rate of a peak placed at random: the dilated masks' share of the grid."""
    return float(np.mean([_dilate(m, tolerance).mean() for m in masks]))


def rank_correlation(trained: np.ndarray, randomized: np.ndarray,
                     region: np.ndarray | None = None) -> float:
    """Spearman rank correlation of two maps' absolute values (inside ``region`` if given).

    A constant map has no ranking to share and counts as 0."""
    from scipy.stats import spearmanr

    a, b = np.abs(trained), np.abs(randomized)
    if region is not None:
        a, b = a[np.asarray(region, dtype=bool)], b[np.asarray(region, dtype=bool)]
    a, b = a.ravel(), b.ravel()
    if a.size < 3 or np.ptp(a) == 0 or np.ptp(b) == 0:
        return 0.0
    return float(spearmanr(a, b)[0])


def deletion_curve(
    score: Callable[[torch.Tensor], torch.Tensor],
    x: torch.Tensor,
    order: np.ndarray,
    steps: int = 20,
    baseline: float = 0.0,
) -> np.ndarray:
    """Target probability as the first 0, 1/steps, ..., all spatial samples of ``order`` are
    set to ``baseline`` (all channels); ``x`` has shape (1, channels, *spatial)."""
    n = order.size
    batch = x.repeat(steps + 1, *([1] * (x.ndim - 1)))
    flat = batch.reshape(steps + 1, x.shape[1], n)
    for step in range(1, steps + 1):
        flat[step][:, torch.as_tensor(order[: int(round(n * step / steps))])] = baseline
    with torch.no_grad():
        return score(flat.reshape(batch.shape)).cpu().numpy()


def curve_auc(curve: np.ndarray) -> float:
    """Area under a deletion curve sampled evenly on [0, 1]."""
    return float(np.trapezoid(curve, dx=1.0 / (len(curve) - 1)))


def randomized_copy(module: nn.Module, seed: int) -> nn.Module:
    """A copy of ``module`` with every layer's parameters re-initialized (full randomization)."""
    torch.manual_seed(seed)
    clone = copy.deepcopy(module)
    for layer in clone.modules():
        if hasattr(layer, "reset_parameters"):
            layer.reset_parameters()
    return clone.eval()


# --- running the checks ----------------------------------------------------------------------
def _to_tensors(inputs: dict[str, Any], device: torch.device) -> dict[str, torch.Tensor | None]:
    from stethoscan.inference.runtime import to_tensors

    return to_tensors(inputs, device)


def _device(module: nn.Module) -> torch.device:
    return next(module.parameters()).device


MapFunction = Callable[[nn.Module, SanitySample], np.ndarray]


def method_map_function(layer_of: Callable[[nn.Module], nn.Module | None], method: str,
                        options: dict[str, Any] | None = None) -> MapFunction:
    """``map_of(module, sample)``: the saliency map of ``method`` on the sample's grid."""

    def map_of(module: nn.Module, sample: SanitySample) -> np.ndarray:
        tensors = _to_tensors(sample.inputs, _device(module))
        out = saliency_maps(module, layer_of(module), tensors, method, sample.target, None, options)
        return out[0].float().cpu().numpy()

    return map_of


def _deletion_aucs(module, samples, maps, steps, seed) -> tuple[float, float]:
    rng = np.random.default_rng(seed)
    salient, random = [], []
    for sample, saliency in zip(samples, maps, strict=True):
        tensors = _to_tensors(sample.inputs, _device(module))
        name = spatial_input_name(tensors)
        others = {k: v for k, v in tensors.items() if k != name}

        def score(x, target=sample.target, name=name, others=others):
            rep = {k: v.expand(x.shape[0], *v.shape[1:]) if v is not None else None
                   for k, v in others.items()}  # fmt: skip
            return torch.softmax(module(**{name: x}, **rep).float(), dim=1)[:, target]

        jitter = rng.random(saliency.size) * 1e-6  # break ties of block-wise maps at random
        order = np.argsort(-(saliency.ravel() + jitter), kind="stable")
        salient.append(curve_auc(deletion_curve(score, tensors[name], order, steps)))
        random.append(np.mean([
            curve_auc(deletion_curve(score, tensors[name], rng.permutation(saliency.size), steps))
            for _ in range(3)
        ]))  # fmt: skip
    return float(np.mean(salient)), float(np.mean(random))


def check_method(
    module: nn.Module,
    layer_of: Callable[[nn.Module], nn.Module | None],
    samples: Sequence[SanitySample],
    method: str,
    options: dict[str, Any] | None = None,
    tolerance: int = 1,
    deletion_steps: int = 20,
    randomizations: int = 3,
    map_of: MapFunction | None = None,
) -> MethodSanity:
    """Run the three checks for one method on ``module`` (eval mode) and randomized copies.

    The rank correlation and the randomized hit rate are averaged over ``randomizations``
    independent re-initializations. ``map_of`` replaces the method's maps (tests use it to check
    that a map ignoring the weights fails).
    """
    module = module.eval()
    map_of = map_of or method_map_function(layer_of, method, options)
    masks = [s.mask for s in samples]
    maps = [map_of(module, sample) for sample in samples]
    hits = np.mean([pointing_hit(m, k, tolerance) for m, k in zip(maps, masks, strict=True)])
    random_hits, correlations = [], []
    for index in range(randomizations):
        random_module = randomized_copy(module, seed=1009 * (index + 1))
        for sample, trained in zip(samples, maps, strict=True):
            randomized = map_of(random_module, sample)
            random_hits.append(pointing_hit(randomized, sample.mask, tolerance))
            correlations.append(rank_correlation(trained, randomized, sample.region))
    auc, random_auc = _deletion_aucs(module, samples, maps, deletion_steps, seed=0)
    result = MethodSanity(
        method,
        float(hits),
        float(np.mean(random_hits)),
        chance_rate(masks, tolerance),
        float(np.mean(correlations)),
        auc,
        random_auc,
    )
    result.failures = _failures(result)
    result.passed = not result.failures
    return result


def _failures(r: MethodSanity) -> list[str]:
    failures = []
    if r.pointing_game < MIN_POINTING_GAME:
        failures.append(f"pointing game {r.pointing_game:.0%} < {MIN_POINTING_GAME:.0%}")
    if not r.randomized_rank_correlation < MAX_RANDOMIZED_RANK_CORRELATION:
        failures.append(
            f"the map of the model with randomized weights has rank correlation "
            f"{r.randomized_rank_correlation:.2f} with the trained model's (at most "
            f"{MAX_RANDOMIZED_RANK_CORRELATION} allowed): the map does not depend enough on what "
            "the model learned"
        )
    if r.deletion_auc_ratio > MAX_DELETION_AUC_RATIO:
        failures.append(
            f"deletion AUC {r.deletion_auc:.3f} is {r.deletion_auc_ratio:.2f} x the random "
            f"order's ({r.random_deletion_auc:.3f}); at most {MAX_DELETION_AUC_RATIO} allowed"
        )
    return failures


def run_sanity_checks(
    module: nn.Module,
    layer_of: Callable[[nn.Module], nn.Module | None],
    samples: Sequence[SanitySample],
    methods: Sequence[str] = METHODS,
    options: dict[str, dict[str, Any]] | None = None,
    tolerance: int = 1,
) -> dict[str, MethodSanity]:
    """Check every method; ``options`` maps a method to its keyword options."""
    options = options or {}
    results = {}
    for method in methods:
        if method == "gradcam" and layer_of(module) is None:
            continue
        results[method] = check_method(
            module, layer_of, samples, method, options.get(method), tolerance
        )
    return results


def check_loaded_model(model: Any, samples: Sequence[SanitySample], methods: Sequence[str] = METHODS,
                       options: dict[str, dict[str, Any]] | None = None) -> dict[str, MethodSanity]:  # fmt: skip
    """The checks on a loaded (e.g. bundled) package's model."""
    from stethoscan.inference.architectures import gradcam_target

    arch_id = model.manifest.architecture.id
    return run_sanity_checks(
        model.module, lambda m: gradcam_target(arch_id, m), samples, methods, options
    )


def saliency_manifest_section(results: dict[str, MethodSanity]) -> dict[str, Any]:
    """The ``[saliency]`` table for a package: validated methods and the figures behind them."""
    return {
        "validated_methods": [m for m, r in results.items() if r.passed],
        "checks": {m: r.to_dict() for m, r in results.items()},
    }
