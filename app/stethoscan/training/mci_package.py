"""Train the MCI model and write its package: manifest, weights, card and metrics.

:func:`train_and_package` is what ``stethoscan train mci`` runs. The card says exactly how the
training data was made, the held-out figures, the saliency checks and the limitations.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import numpy as np

from stethoscan.core.task import SilentTask, Task
from stethoscan.imaging.brain_preprocessing import MIN_SLICES, TARGET_SHAPE, TARGET_SPACING_MM
from stethoscan.training.mci_cohort import CLASS_DESCRIPTIONS
from stethoscan.training.mci_dataset import CLASSES, MAX_VISITS, MciSample

PACKAGE_NAME = "mci-fusion"
VERSION = "1.0.0"
DISCLAIMER = "Not for diagnostic use"


def train_and_package(options: dict[str, Any], out_dir: Path, task: Task | None = None) -> dict[str, Any]:
    """Build the data (``options``: synthetic N or data PATH, seed, epochs), train, write.

    Returns a JSON-able summary (metrics, saliency checks, seconds, package path and size).
    """
    from stethoscan.inference.package_writer import write_package
    from stethoscan.training.mci_dataset import folder_dataset, synthetic_dataset
    from stethoscan.training.mci_trainer import TrainConfig, train_mci

    task = task or SilentTask()
    seed = int(options.get("seed", 1))
    started = time.perf_counter()
    synthetic = options.get("synthetic") is not None
    skipped: list[str] = []
    if synthetic:
        samples = synthetic_dataset(int(options["synthetic"]), seed, _Scaled(task, 0.0, 0.3))
    else:
        samples, skipped = folder_dataset(Path(options["data"]), _Scaled(task, 0.0, 0.3))
    data_seconds = time.perf_counter() - started
    config = TrainConfig(epochs=int(options.get("epochs", 30)), seed=seed)
    result = train_mci(samples, config, _Scaled(task, 0.3, 0.98))
    seconds = {"data": data_seconds, **result.seconds, "total": time.perf_counter() - started}
    cohort = cohort_figures(samples) if synthetic else {}
    manifest = build_manifest(result, synthetic, cohort, options)
    card = build_card(result, synthetic, cohort, seconds, options)
    metrics = {"metrics": result.metrics, "saliency": result.saliency, "seconds": seconds,
               "losses": result.losses, "split_sizes": result.split_sizes, "cohort": cohort,
               "skipped": skipped, "temperature": result.temperature}
    extra = {"metrics.json": json.dumps(_clean(metrics), indent=2).encode("utf-8")}
    folder = write_package(Path(out_dir), manifest, result.module.state_dict(), card, extra)
    size_mb = sum(f.stat().st_size for f in folder.iterdir() if f.is_file()) / 1e6
    task.progress(1.0, "package written")
    return _clean({**metrics, "package": str(folder), "package_mb": size_mb})


class _Scaled:
    """Maps a sub-task's progress into [low, high] of the parent task."""

    def __init__(self, task: Task, low: float, high: float) -> None:
        self.task, self.low, self.high = task, low, high

    def progress(self, fraction: float, message: str = "") -> None:
        self.task.progress(self.low + (self.high - self.low) * fraction, message)

    def partial(self, result: Any) -> None:
        self.task.partial(result)

    def is_cancelled(self) -> bool:
        return self.task.is_cancelled()

    def check_cancelled(self) -> None:
        self.task.check_cancelled()


def cohort_figures(samples: list[MciSample]) -> dict[str, Any]:
    """Per class: mean measured volume changes and last-visit scores of the synthetic cohort."""
    out = {}
    keys = ("measured_hippocampus_left", "measured_hippocampus_right", "measured_mtl_left",
            "measured_mtl_right", "measured_ventricles")
    for label, name in enumerate(CLASSES):
        group = [s for s in samples if s.label == label]
        if not group:
            continue
        entry = {k.replace("measured_", ""): float(np.mean([s.figures.get(k, 0.0) for s in group]))
                 for k in keys}
        last_mmse = [s.history.visits[s.history.used_visits - 1, 0] * 30 for s in group
                     if s.history.visits is not None and s.history.visits[s.history.used_visits - 1, 1]]
        entry["n"] = len(group)
        entry["last_mmse_mean"] = float(np.mean(last_mmse)) if last_mmse else 0.0
        out[name] = entry
    return out


def _clean(value: Any) -> Any:
    """JSON/TOML-safe: no None, numpy scalars as Python numbers."""
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items() if v is not None}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value if v is not None]
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, float):
        return round(value, 4)
    return value


def build_manifest(result: Any, synthetic: bool, cohort: dict, options: dict) -> dict[str, Any]:
    checks = result.saliency
    validated = ["gradcam"] if checks.get("passed") else []
    data_text = (
        f"{options.get('synthetic')} synthetic subjects (seed {options.get('seed')}): one real "
        "T1 template deformed with known atrophy, and simulated MMSE/MoCA histories; see the card"
        if synthetic else f"the folder data set {Path(str(options.get('data'))).name}")
    return _clean({
        "schema_version": 1,
        "model": {
            "name": PACKAGE_NAME, "version": VERSION, "task": "mci_classification",
            "pipeline": "mci_fusion", "input_modalities": ["scan", "clinical_scores"],
            "research_use_only": True, "synthetic_training_data": synthetic, "licence": "MIT",
            "intended_use": "Research and teaching: shows how brain MRI atrophy and cognitive "
            "score histories can be combined. " + DISCLAIMER + ".",
            "training_data": data_text,
            "summary": "Cognitively normal / MCI / dementia from a T1 brain MRI and the MMSE/MoCA "
            "history, either may be missing. Trained on SYNTHETIC data only: it has never seen a "
            "real patient with MCI or dementia. " + DISCLAIMER + ".",
            "authors": "Stethoscan project",
        },
        "architecture": {"id": "mci_fusion", "params": result.params},
        "input": {
            "scan": {"modalities": ["MR"], "dimensions": 3,
                     "target_spacing_mm": [TARGET_SPACING_MM] * 3,
                     "target_shape": list(TARGET_SHAPE), "normalization": "zscore_brain",
                     "normalization_params": {"center": "median in brain mask",
                                              "scale": "IQR / 1.349", "clip": 5.0},
                     "min_slices": MIN_SLICES, "body_parts": ["HEAD", "BRAIN"]},
            "clinical_scores": {"fields": ["mmse", "moca", "age_years", "sex", "education_years"],
                                "max_visits": MAX_VISITS},
        },
        "outputs": [{"label": c, "description": d} for c, d in zip(CLASSES, CLASS_DESCRIPTIONS, strict=True)],
        "calibration": {"temperature": result.temperature,
                        "method": "temperature scaling on the validation split (NLL), pooled over "
                        "all inputs, image only and history only"},
        "saliency": {"validated_methods": validated, "checks": {"gradcam": checks}},
        "evaluation": {"held_out": result.metrics, "split_sizes": result.split_sizes},
    })


def _pct(value: float) -> str:
    return f"{100 * value:.0f} %"


def build_card(result: Any, synthetic: bool, cohort: dict, seconds: dict, options: dict) -> str:
    from stethoscan.inference.saliency.sanity import MAX_RANDOMIZED_RANK_CORRELATION

    m = result.metrics
    rows = "\n".join(
        f"| {cond.replace('_', ' ')} | {m[cond]['balanced_accuracy']:.3f} | "
        + " | ".join(f"{m[cond]['recall'][c]:.2f}" for c in CLASSES) + f" | {m[cond]['ece']:.3f} |"
        for cond in ("all", "image_only", "history_only"))
    s = result.saliency
    sub = s.get("subset_checks", {})
    cohort_rows = "\n".join(
        f"| {name} | {v['n']} | {_pct(-v['hippocampus_left'])} / {_pct(-v['hippocampus_right'])} | "
        f"{_pct(-v['mtl_left'])} / {_pct(-v['mtl_right'])} | +{_pct(v['ventricles'])} | "
        f"{v['last_mmse_mean']:.1f} |" for name, v in cohort.items())
    data_section = _SYNTHETIC_TEXT.format(n=options.get("synthetic"), seed=options.get("seed"),
                                          cohort_rows=cohort_rows) if synthetic else (
        f"Trained on the folder data set `{options.get('data')}` (labels.csv with visits).")
    return _CARD.format(
        disclaimer=DISCLAIMER, version=VERSION, data_section=data_section, rows=rows,
        n_test=result.split_sizes["test"], n_train=result.split_sizes["train"],
        n_val=result.split_sizes["validation"], temperature=result.temperature,
        ece_before=m["all"].get("ece_before_calibration", float("nan")), ece_after=m["all"]["ece"],
        pointing=s.get("pointing_game", float("nan")), cases=s.get("cases", 0),
        chance_brain=s.get("chance_within_brain", float("nan")),
        chance_grid=s.get("chance_grid", float("nan")), subset=s.get("subset", 0),
        random_pointing=sub.get("randomized_pointing_game", float("nan")),
        deletion_ratio=sub.get("deletion_auc_ratio", float("nan")),
        rank_corr=s.get("randomized_rank_correlation", float("nan")),
        max_rank_corr=MAX_RANDOMIZED_RANK_CORRELATION,
        chance_subset=sub.get("chance", float("nan")),
        validated=("Grad-CAM passed and is offered" if s.get("passed") else
                   "Grad-CAM FAILED (" + "; ".join(sub.get("failures", [])) + ") and is therefore "
                   "NOT offered by the program for this model"),
        train_s=seconds.get("total", 0.0), epochs=result.config.epochs,
        warmup=result.config.history_warmup_epochs, lr=result.config.learning_rate,
        batch=result.config.batch_size,
    )


_SYNTHETIC_TEXT = """\
**All training and test data are synthetic.** No real MCI or dementia data could be used.
{n} subjects were generated with seed {seed}, a third per class, as follows.

*Images.* One real brain MRI is the template: the 7 T T1-weighted scan of the studyforrest data
set (Hanke et al. 2014, Sci Data 1:140003; PDDL), preprocessed by this program (2 mm LPS grid,
morphological brain mask, 80 x 96 x 80 box) and stored in `resources/templates/`. Approximate
regions were placed on it: hippocampus and medial temporal lobe (MTL) ellipsoids at MNI152
positions scaled to the brain's bounding box, ventricles and temporal horns as the CSF-dark
voxels of central boxes. Every synthetic brain is this template resampled through a smooth map:
radial displacement fields (Gaussian-weighted) that shrink each hippocampus and MTL region, and
wall-normal fields (gradient of the Gaussian-smoothed region) that enlarge the ventricles and
temporal horns, each calibrated on the template to give the requested volume change; tissue lost
from the hippocampus/MTL regions is filled with CSF intensity (the widened fissures and horns of
medial temporal atrophy; a modelling choice); then a
random rotation (SD 3 degrees), shift (SD 2 mm), brain size (sex-dependent, SD 3 % linear) and a
smooth random shape field (~3 mm), and finally gamma (0.85-1.15), a smooth bias field (~15 %),
blur and Gaussian noise (1-4 %), and the same robust z-score in the brain mask as at inference.

*Effect sizes* (relative to the young template; literature values rounded):
hippocampus MCI -12 %, dementia -24 % versus controls (Shi et al. 2009, Hippocampus 19:1055);
annual loss 1.4 / 2.8 / 4.7 %/yr for CN / MCI / dementia over the follow-up (Barnes et al. 2009,
Neurobiol Aging 30:1711; Schuff et al. 2009, Brain 132:1067; Frisoni et al. 2010, Nat Rev Neurol
6:67); 0.5 %/yr ageing after 50; between-subject SD 8 %; MTL the same; ventricles +15 % (MCI) and
+40 % (dementia), growing 2.5 / 4 / 6 %/yr, +2 %/yr with age, SD 20 % (Nestor et al. 2008, Brain
131:2443); temporal horns enlarge by 3x the hippocampal loss (a modelling assumption).
Measured on the generated brains (mean relative volume change versus the template, left / right):

| class | n | hippocampus | MTL | ventricles | mean MMSE at scan |
|---|---|---|---|---|---|
{cohort_rows}

*Cognitive histories.* 1-6 visits 0.5-1.5 years apart, the scan at the last. Age 73 +- 7 years,
education 14 +- 3 years, half women. First MMSE CN 29.0 +- 1.0, MCI 27.0 +- 1.8, dementia
23.3 +- 2.0 (ADNI baseline, Petersen et al. 2010, Neurology 74:201) with education and age terms
(after Crum et al. 1993, JAMA 269:2386); first MoCA 26.5 +- 2.3 / 22.1 +- 3.1 / 16.2 +- 4.8
(Nasreddine et al. 2005, J Am Geriatr Soc 53:695), +1 for <= 12 years of education; MMSE
slopes -0.2 +- 0.3 / -1.0 +- 0.7 / -2.8 +- 1.2 points per year (Han et al. 2000; Clark et al.
1999), MoCA 1.2x; visit noise SD 1 (MMSE) and 1.5 (MoCA); 10 % of MMSE and 40 % of MoCA missing.
CDR is not used (it largely defines the label)."""

_CARD = """\
# mci-fusion {version}: brain MRI + cognitive history -> CN / MCI / dementia

**{disclaimer}.** Research use only. **Trained on synthetic data**: this model has never seen a
real patient with mild cognitive impairment or dementia; its figures describe how well it
recovers the synthetic effects below, not clinical accuracy.

## What it does
Input: a T1-weighted brain MRI series (any orientation; reoriented to LPS, resampled to 2 mm,
brain-masked, cropped to 80 x 96 x 80 and z-scored in the mask by the program) and/or the
patient's visits with MMSE and MoCA scores plus age, sex and years of education. Output:
calibrated probabilities of cognitively normal (CN), mild cognitive impairment (MCI) and dementia,
which inputs were used and how much each moved the result, and a Grad-CAM map over the volume.
Either input may be missing: a missing branch is replaced by a learned "missing" embedding.

Architecture `mci_fusion`: small 3D CNN (8-16-16-32 channels, global and 2 x 2 x 2 regional
mean pooling) on the volume; GRU (32 units) over up to 6 visits with an MLP of age/sex/education;
fusion MLP. Contribution of an input = probability of the result with all inputs minus with that
input replaced by its missing embedding.

Training: first {warmup} epochs of the history branch alone, then {epochs} epochs of AdamW
(one-cycle learning rate, peak {lr:g}, batch {batch}) on the mean cross-entropy of three views of
every batch (all inputs, image only, history only: modality dropout in expectation) plus an
auxiliary regression, from the image embedding, of each synthetic brain's measured hippocampus,
MTL and ventricle volume changes (training only; not in the package). Images are flipped left-right
and shifted by up to 2 voxels at random, and half of them lose a random 0-50 % of their voxels
(set to 0, input dropout).

## Training data
{data_section}

## Held-out figures
Split 70/10/20 stratified: {n_train} training, {n_val} validation, {n_test} test subjects
(synthetic, same generator, never used for training or calibration). Balanced accuracy, recall
per class and expected calibration error (10 bins) on the test subjects:

| inputs | balanced accuracy | recall CN | recall MCI | recall dementia | ECE |
|---|---|---|---|---|---|
{rows}

Temperature {temperature:.3f} (fit on the validation split); ECE with all inputs
{ece_before:.3f} before and {ece_after:.3f} after scaling.

## Saliency checks (Grad-CAM on the image branch)
Pointing game on the {cases} MCI and dementia test brains: the Grad-CAM peak (target = true
class, image input only) lies inside the ground-truth atrophy mask (atrophied structures plus
tissue moved > 0.5 mm by the atrophy fields, 2 mm tolerance) in **{pointing:.0%}** of cases
(chance: {chance_brain:.0%} of the brain, {chance_grid:.0%} of the box). On {subset} of them
(the program's sanity checks, Adebayo et al. 2018): the Spearman rank correlation inside the
brain between the trained model's Grad-CAM maps and those of the same network with all weights
re-initialized (3 times) is {rank_corr:.2f} (must stay below {max_rank_corr}); deleting the most
salient voxels first gives {deletion_ratio:.2f} x the deletion-curve area of a random order (at
most 0.5 allowed). {validated}.

Read the map with care: networks with random weights also put their Grad-CAM peak on the atrophy
mask in {random_pointing:.0%} of these brains (a peak placed at random: {chance_subset:.0%}, same
tolerance). The atrophy lies in the most conspicuous structures of a T1 brain (ventricles and
CSF-filled medial temporal regions, the strongest contrast), where any convolutional network's
activations tend to peak. So the peak's location alone is weaker evidence than the pointing game
suggests; what shows that the map comes from what the model learned is how little its voxel
ranking shares with a random network's (the rank correlation above).

## Limitations
- Synthetic data from ONE young adult brain: no real anatomical variability beyond smooth
  deformations, no vascular lesions, no other dementias, no scanner/protocol differences beyond
  simple intensity changes. Cortical thinning and global atrophy are NOT simulated.
- Region positions (hippocampus, MTL) are approximate ellipsoids, not a segmentation; region names
  in the explanation use the same approximate atlas, aligned by the brain's bounding box.
- The skull strip is morphological (thresholds, erosion, largest component): it can include dura
  or exclude cortex on unusual images; check the mask overlay.
- Effect sizes are rounded literature means; real cohorts differ (selection, amyloid status).
- Data generation, training and checks took {train_s:.0f} s on a shared 2-core CPU; the model is
  small and fast by design, and small test sets make the figures above uncertain by several
  percentage points.

{disclaimer}.
"""
