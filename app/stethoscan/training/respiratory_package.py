"""The respiratory model's package: manifest (``pipeline = "respiratory_cycles"``) and model card.

The card says what the model is, how it was trained, exactly how the synthetic data is made,
the figures on held-out synthetic cycles and on real cycles when given, and its limits, with
"Not for diagnostic use".
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from stethoscan.training import respiratory_synthesis
from stethoscan.training.respiratory_features import PatchSpec
from stethoscan.training.respiratory_synthesis import LABEL_DESCRIPTIONS, LABELS

MODEL_NAME = "respiratory-cycles"
MODEL_VERSION = "1.0.0"
TASK = "respiratory_cycle_classification"
PIPELINE = "respiratory_cycles"
DISCLAIMER = "Not for diagnostic use"
INTENDED_USE = (
    "Research and teaching: marks breathing cycles of a chest recording that may hold crackles "
    "or wheezes, with the time and frequency of the evidence, as a second look for a clinician "
    "who listens to the recording. Not for diagnostic use; not a medical device."
)


@dataclass
class PackageContent:
    """Everything the manifest and card say about one trained model."""

    arch: str
    arch_params: dict[str, Any]
    temperature: float
    spec: PatchSpec
    data_description: str
    synthetic: bool
    command: str
    evaluation: dict[str, Any]  # headline figures: held_out_test, baselines, real_sample, ...
    saliency: dict[str, Any]
    training: dict[str, Any]  # seconds, epochs, cycles per split, seed, parameters
    name: str = MODEL_NAME
    version: str = MODEL_VERSION
    extra_files: dict[str, bytes] = field(default_factory=dict)


def _toml_clean(value: Any) -> Any:
    """TOML has no null: drop None values (recursively) and turn tuples into lists."""
    if isinstance(value, dict):
        return {str(k): _toml_clean(v) for k, v in value.items() if v is not None}
    if isinstance(value, list | tuple):
        return [_toml_clean(v) for v in value if v is not None]
    return value


def build_manifest(content: PackageContent) -> dict[str, Any]:
    spec = content.spec
    summary = (
        "Classifies each breathing cycle as normal, crackle, wheeze or both (ICBHI classes) from "
        f"its log-mel spectrogram. {'Trained on SYNTHETIC recordings only. ' if content.synthetic else ''}"
        f"{DISCLAIMER}."
    )
    return _toml_clean({
        "schema_version": 1,
        "model": {
            "name": content.name,
            "version": content.version,
            "task": TASK,
            "pipeline": PIPELINE,
            "input_modalities": ["audio"],
            "research_use_only": True,
            "synthetic_training_data": content.synthetic,
            "multi_label": False,
            "licence": "MIT",
            "intended_use": INTENDED_USE,
            "training_data": content.data_description,
            "summary": summary,
            "authors": "Stethoscan project",
        },
        "architecture": {"id": content.arch, "params": content.arch_params},
        "input": {"audio": {
            "sample_rate_hz": spec.rate_hz,
            "segment_s": spec.segment_s,
            "min_duration_s": 1.0,
            "min_sample_rate_hz": spec.rate_hz,
            "feature": "log_mel",
            "feature_params": spec.feature_params,
        }},
        "outputs": [{"label": label, "description": text}
                    for label, text in zip(LABELS, LABEL_DESCRIPTIONS, strict=True)],
        "calibration": {
            "temperature": float(content.temperature),
            "method": "temperature scaling on the validation cycles (NLL)",
        },
        "saliency": content.saliency,
        "evaluation": {**content.evaluation, "training": content.training},
    })  # fmt: skip


def _row(name: str, figures: dict[str, Any] | None) -> str:
    if not figures:
        return f"| {name} | n/a | | | | | | | |"

    def fmt(key: str) -> str:
        value = figures.get(key)
        return "n/a" if value is None else f"{value:.3f}"

    keys = ("accuracy", "balanced_accuracy", "macro_f1", "macro_auc", "icbhi_sensitivity",
            "icbhi_specificity", "icbhi_score", "ece")  # fmt: skip
    return f"| {name} | " + " | ".join(fmt(k) for k in keys) + " |"


def _synthesis_text() -> str:
    doc = respiratory_synthesis.__doc__ or ""
    return doc.split("How a recording is made (the model card quotes this):", 1)[-1].strip()


def _real_sample_section(real: dict[str, Any] | None) -> str:
    if not real:
        return "No real recordings were given at training time, so there are no real-data figures."
    counts = ", ".join(f"{k} {v}" for k, v in real.get("class_counts", {}).items())
    lines = [
        f"Real cycles: {real.get('n')} ({counts}), from {real.get('source', 'the given folder')}.",
        "",
        "| figure | value |",
        "|---|---|",
    ]
    for key in ("accuracy", "balanced_accuracy", "macro_f1", "icbhi_sensitivity",
                "icbhi_specificity", "icbhi_score", "wheeze_auc", "crackle_auc"):  # fmt: skip
        value = real.get(key)
        lines.append(f"| {key} | {'n/a' if value is None else f'{value:.3f}'} |")
    for name, auc in sorted(real.get("within_recording_wheeze_auc", {}).items()):
        lines.append(f"| wheeze AUC within {name} | {auc:.3f} |")
    lines += ["", real.get("note", "")]
    specificity = real.get("icbhi_specificity")
    if specificity is not None and specificity < 0.5:
        lines += ["", f"**On these real recordings the model called {1 - specificity:.0%} of the normal "
                  "cycles abnormal.** Its normal/abnormal call does not transfer from its training "
                  "data to real recordings; only the ranking of cycles (the AUCs above) carries "
                  "some signal. Do not read a single cycle's label as a finding."]
    return "\n".join(lines)


_METHOD_TITLES = {"gradcam": "Grad-CAM", "ig": "Integrated Gradients", "occlusion": "Occlusion"}


def _saliency_section(saliency: dict[str, Any]) -> str:
    """The card's saliency checks: the rule, a table per method, and how to read the map."""
    from stethoscan.inference.saliency.sanity import MAX_RANDOMIZED_RANK_CORRELATION

    validated = saliency.get("validated_methods", [])
    checks = {m: c for m, c in saliency.get("checks", {}).items() if isinstance(c, dict)}
    if not checks:
        note = saliency.get("checks", {}).get("note", "no held-out samples with known events")
        return (f"No saliency sanity checks were run ({note}), so no saliency method is offered; "
                "a cycle's sentence names the loudest sound above the background instead.")
    lines = [
        f"Checked on {saliency.get('checks', {}).get('samples', 'n/a')} held-out synthetic "
        "windows with a known wheeze or crackle box, correctly classified: pointing game (the "
        "map's peak on the box) >= 80%; model randomization (Adebayo et al. 2018): Spearman rank "
        "correlation between the trained model's map and the maps of the same network with all "
        f"weights re-initialized (3 times) below {MAX_RANDOMIZED_RANK_CORRELATION}; deleting the "
        "most salient time-frequency bins first gives at most 0.5 x the deletion-curve area of a "
        "random order.",
        "",
        "| method | pointing game | randomized nets' hit rate (chance) | rank correlation with "
        "randomized | deletion AUC ratio | offered |",
        "|---|---|---|---|---|---|",
    ]
    for method, c in checks.items():
        lines.append(
            f"| {_METHOD_TITLES.get(method, method)} | {c.get('pointing_game', 0):.0%} | "
            f"{c.get('randomized_pointing_game', 0):.0%} ({c.get('chance', 0):.0%}) | "
            f"{c.get('randomized_rank_correlation', float('nan')):.2f} | "
            f"{c.get('deletion_auc_ratio', float('nan')):.2f} | "
            f"{'yes' if c.get('passed') else 'no: ' + '; '.join(c.get('failures', []))} |")
    lines += ["", "Offered: **" + (", ".join(_METHOD_TITLES.get(m, m) for m in validated) or "none")
              + "**. Only validated methods are offered; without one, a cycle's sentence names the "
              "loudest sound above the background instead and says that the model's evidence is "
              "not located. Grad-CAM explains the network's third convolution block (1/4 of the "
              "input resolution)."]
    for method in validated:
        c = checks[method]
        lines += ["", f"Read the {_METHOD_TITLES.get(method, method)} map with care: networks "
                  f"with random weights also put the map's peak on the event in "
                  f"{c['randomized_pointing_game']:.0%} of these windows (a peak placed at random: "
                  f"{c['chance']:.0%}). Wheezes and crackles are the most conspicuous, "
                  "highest-contrast parts of the spectrogram, where even an untrained network "
                  "responds, so the peak's location alone is weaker evidence than the pointing "
                  "game suggests; the rank correlation shows how little of the map's ranking a "
                  "random network reproduces."]
    return "\n".join(lines)


def _data_section(content: PackageContent) -> str:
    """How the training data was made (synthetic) or what it was (the user's recordings)."""
    if not content.synthetic:
        return ("## Training data\n" + content.data_description + " Labels as given in the data's "
                "annotation files (ICBHI cycle annotations or labels.csv); cycles that could not "
                "be used are listed in metrics.json with their reason.\n")  # fmt: skip
    return f"""## Exactly how the synthetic data is made
{_synthesis_text()}

Labels: each cycle is normal, crackle, wheeze or both with probabilities
{dict(zip(LABELS, respiratory_synthesis.DEFAULT_LABEL_PROBABILITIES, strict=True))}; a window's label
follows the events inside it. Recordings hold 3-8 cycles; cycle boundaries are jittered by up to
0.15 s to resemble automatic segmentation. Background speech (room noise) and stethoscope contact
artifacts were added after real chest recordings were seen to contain talking and clicks, and a
first model trained without them called most real normal cycles abnormal.
"""


def _source_limits(content: PackageContent) -> str:
    if content.synthetic:
        return """- Trained on synthetic sounds made from textbook acoustic definitions; real adventitious sounds,
  devices, patients and noise vary far more. Figures on a few real cycles are anecdotal, and on
  real recordings the model tends to call normal cycles abnormal (see the real-recording figures).
- Retrain it on a clinic's own labelled recordings (`stethoscan train respiratory --data PATH`)
  before any use beyond research and teaching."""
    return """- Trained on the labelled recordings named above: its figures hold for recordings like them
  (the same devices, chest sites, patients and annotators). Check it on recordings from other
  sources before relying on it, and keep the test patients out of training (patient-grouped split)."""


def build_card(content: PackageContent) -> str:
    ev, tr = content.evaluation, content.training
    synthetic_note = (
        "**This model was trained on SYNTHETIC recordings only.** Its figures on real recordings "
        "are shown below and are the ones that matter.\n\n" if content.synthetic else ""
    )
    return f"""# Model card: {content.name} {content.version}

**{DISCLAIMER}.** Research use only; not a medical device.

{synthetic_note}## What it is
A {content.arch} network (architecture parameters: `{json.dumps(content.arch_params)}`) that
classifies ONE breathing cycle of a chest recording as normal, crackle, wheeze or both (the ICBHI
2017 classes). Input: the cycle resampled to {content.spec.rate_hz} Hz, as log-mel patches of
{content.spec.segment_s:g} s ({content.spec.n_mels} mel bands {content.spec.fmin:g}-{content.spec.fmax:g} Hz,
{1000 * content.spec.win_length / content.spec.rate_hz:g} ms window, {1000 * content.spec.hop_length / content.spec.rate_hz:g} ms hop;
each band's {content.spec.floor_percentile:g}th percentile over time subtracted, divided by the patch SD).
Shorter cycles are repeated to fill the patch; longer ones are split into half-overlapping windows
whose crackle and wheeze probabilities are combined (present if present in any window).
Probabilities are calibrated by temperature scaling (T = {content.temperature:.3f}).
The recording-level result lists each cycle with a sentence naming the time and frequency of the
evidence, from a saliency map over the spectrogram.

## Intended use
{INTENDED_USE}

## How it was trained
Data: {content.data_description}

Rebuild: `{content.command}`

Training: AdamW (lr {tr.get('learning_rate')}, weight decay {tr.get('weight_decay')}), class-weighted
cross-entropy, SpecAugment-style time/frequency masks and scattered bin dropout, one-cycle
learning-rate schedule,
early stopping on validation balanced accuracy; {tr.get('epochs_run')} epochs run, {tr.get('seconds', 0):.0f} s on
{tr.get('threads')} CPU threads; cycles train/validation/test = {tr.get('cycles_train')}/{tr.get('cycles_val')}/{tr.get('cycles_test')}
(each synthetic recording or patient in one split only); seed {tr.get('seed')}.
Classical baseline beside it: MFCC, LPC and spectral descriptors per cycle, the 30 with the highest
mutual information with the label, then logistic regression or a random forest (balanced class weights).

{_data_section(content)}

## Figures on held-out {'synthetic' if content.synthetic else 'test'} cycles
Cycle level, {ev.get('held_out_test', {}).get('n', 'n/a')} test cycles from {'recordings' if content.synthetic else 'patients'} never seen in training.

| model | accuracy | balanced acc. | macro F1 | macro AUC | ICBHI Se | ICBHI Sp | ICBHI score | ECE |
|---|---|---|---|---|---|---|---|---|
{_row(content.arch + ' (this model)', ev.get('held_out_test'))}
{_row('logistic regression (MI-selected features)', ev.get('baseline_logistic_regression'))}
{_row('random forest (MI-selected features)', ev.get('baseline_random_forest'))}

## Figures on real recordings
{_real_sample_section(ev.get('real_sample'))}

## Saliency
{_saliency_section(content.saliency)}

## Limitations
{_source_limits(content)}
- Applicability check: `training_sound_statistics.json` holds the 1st-99th percentile range of
  five sound statistics of the training cycles (broadband clicks per second, level swing below
  150 Hz, at 150-500 Hz and above 500 Hz, low-to-high roll-off). A recording whose median lies
  outside a range gets a warning beside the results naming the statistic, its value and the
  range. Passing the check does not make a call right.
- Per-cycle labels depend on the breathing-cycle segmentation; without expert cycle boundaries
  the automatic segmentation is used.
- Stridor, squawks, pleural rubs and voice sounds are not modelled as classes; background speech
  and heart sounds can still be mistaken for wheezes or crackles.
- Calibration was fitted on {'synthetic ' if content.synthetic else ''}validation data{'' if content.synthetic else ' of the same source'}; on {'real recordings' if content.synthetic else 'recordings from other devices or sites'} probabilities may be
  over- or under-confident.
- **{DISCLAIMER}.**

## Licence
Weights and card: MIT (Stethoscan project). Training data: {'generated by the program itself' if content.synthetic else 'the recordings named above; their own licence applies'}.
"""


def write_respiratory_package(out_dir: Path, content: PackageContent, state_dict) -> Path:
    """Write the complete package (weights, card, manifest with hashes, extra files)."""
    from stethoscan.inference.package_writer import write_package

    return write_package(Path(out_dir), build_manifest(content), state_dict, build_card(content),
                         content.extra_files)  # fmt: skip
