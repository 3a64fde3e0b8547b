"""MCI figures for ``stethoscan bench inference``: the 384-slice T1 series end to end.

Measured in one run, each beside a baseline:

- ``mci_resample_s``: our orientation + resampling of the whole field of view to 2 mm (block
  average + one trilinear pass) versus ``mci_baseline_sitk_resample_s``: SimpleITK's linear
  resampling of the same volume onto the same grid (no anti-aliasing), when SimpleITK is
  installed, and ``mci_baseline_direct_resample_s``: one scipy trilinear pass from the full
  resolution (the unoptimised path);
- ``mci_preprocess_s`` (all preprocessing), ``mci_predict_s`` (preprocessing + model + input
  contributions, targets < 3 s) and ``mci_predict_gradcam_s`` (the same plus Grad-CAM mapped
  back onto the original grid and the regions named, target < 5 s; timed even when the package
  does not offer Grad-CAM, the preprocessing then runs twice); ``mci_load_s`` (reading the DICOM
  series) is reported apart.

Uses ``../shared/data/brain-t1-dicom`` when present, else a 384-slice volume made from the
bundled template (upsampled to 0.67 mm, tilted 7 degrees).
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from stethoscan.core import paths
from stethoscan.core.task import SilentTask, Task


def _timed(func, repeats: int = 2) -> tuple[float, Any]:
    best, result = float("inf"), None
    for _ in range(repeats):
        start = time.perf_counter()
        result = func()
        best = min(best, time.perf_counter() - start)
    return best, result


def _volume(task: Task) -> tuple[Any, dict[str, str], str, float | None]:
    shared = paths.shared_data_dir()
    series = shared / "brain-t1-dicom" if shared is not None else None
    if series is not None and series.is_dir():
        from stethoscan.training.mci_dataset import load_volume_any

        start = time.perf_counter()
        volume, hints = load_volume_any(series, task)
        return volume, hints, "brain-t1-dicom (384 slices)", time.perf_counter() - start
    return _template_volume(), {"description": "T1 synthetic"}, "template upsampled", None


def _template_volume():
    from scipy import ndimage

    from stethoscan.imaging.volume import Volume
    from stethoscan.training.brain_synthesis import load_template

    template = load_template()
    padded = np.pad(template.t1, 24)
    big = ndimage.zoom(padded, (384 / padded.shape[0], 384 / padded.shape[1], 274 / padded.shape[2]),
                       order=1).astype(np.int16)
    angle = np.deg2rad(7.0)
    direction = np.array([[1, 0, 0], [0, np.cos(angle), -np.sin(angle)], [0, np.sin(angle), np.cos(angle)]])
    spacing = (padded.shape[0] * 2 / 384, padded.shape[1] * 2 / 384, padded.shape[2] * 2 / 274)
    return Volume(voxels=big, spacing_mm=spacing, direction=direction, modality="MR")


def _sitk_resample(volume, canonical) -> float | None:
    try:
        import SimpleITK as sitk
    except ImportError:
        return None
    image = sitk.GetImageFromArray(volume.voxels)
    image.SetSpacing(tuple(float(s) for s in volume.spacing_mm[::-1]))
    image.SetOrigin(tuple(float(v) for v in volume.origin_mm))
    image.SetDirection(tuple(float(v) for v in np.asarray(volume.direction).ravel()))
    reference = sitk.Image([int(n) for n in canonical.shape[::-1]], sitk.sitkFloat32)
    reference.SetSpacing(tuple(float(s) for s in canonical.spacing_mm[::-1]))
    reference.SetOrigin(tuple(float(v) for v in canonical.origin_mm))
    seconds, _ = _timed(lambda: sitk.Resample(image, reference, sitk.Transform(), sitk.sitkLinear,
                                              0.0, sitk.sitkFloat32))
    return seconds


def _direct_resample(volume, mapping) -> float:
    from scipy import ndimage

    def once():
        data = volume.voxels.astype(np.float32)
        return ndimage.affine_transform(data, mapping.matrix, offset=mapping.offset,
                                        output_shape=mapping.canonical_shape, order=1, prefilter=False)

    return _timed(once, repeats=1)[0]


def run_benchmark(task: Task | None = None) -> dict[str, Any]:
    """Figures (seconds and ratios) for the MCI pipeline; see the module docstring."""
    from stethoscan.imaging.brain_preprocessing import preprocess_brain, resample_canonical
    from stethoscan.inference.runtime import load_model
    from stethoscan.workflows import mci_prediction

    task = task or SilentTask()
    volume, hints, source, load_s = _volume(task)
    model = load_model("mci-fusion")
    resample_s, (canonical, mapping) = _timed(lambda: resample_canonical(volume))
    preprocess_s, _ = _timed(lambda: preprocess_brain(volume, **hints))
    visits = [{"years_from_first": 0.0, "mmse": 28, "moca": 25},
              {"years_from_first": 1.0, "mmse": 27, "moca": 24}]
    options = {"volume": volume, **hints, "visits": visits,
               "patient": {"age_years": 70, "sex": "F", "education_years": 14}}
    mci_prediction.run(model, None, {**options, "saliency": None})  # warm-up (lazy imports)
    predict_s, _ = _timed(lambda: mci_prediction.run(model, None, {**options, "saliency": None}))
    def with_gradcam():  # timed even when the package does not offer Grad-CAM
        prediction = mci_prediction.run(model, None, {**options, "saliency": None})
        pre = mci_prediction.preprocess_brain_for_model(volume, hints)
        target = prediction.labels.index(prediction.top_label)
        return mci_prediction.saliency_on_original_grid(model, pre, "gradcam", target, False)

    gradcam_s, saliency = _timed(with_gradcam)
    prediction = mci_prediction.run(model, None, {**options, "saliency": None})
    sitk_s = _sitk_resample(volume, canonical)
    direct_s = _direct_resample(volume, mapping)
    figures = {
        "mci_source": source, "mci_slices": int(volume.shape[0]),
        "mci_load_s": load_s, "mci_resample_s": resample_s,
        "mci_baseline_sitk_resample_s": sitk_s, "mci_baseline_direct_resample_s": direct_s,
        "mci_resample_speedup_vs_sitk": (sitk_s / resample_s) if sitk_s else None,
        "mci_resample_speedup_vs_direct": direct_s / resample_s,
        "mci_preprocess_s": preprocess_s, "mci_predict_s": predict_s,
        "mci_predict_gradcam_s": gradcam_s,
        "mci_predict_target_s": 3.0, "mci_predict_gradcam_target_s": 5.0,
        "mci_top_label": prediction.top_label,
        "mci_saliency_regions": saliency["saliency_regions"],
        "mci_gradcam_offered": "gradcam" in model.validated_saliency_methods,
    }
    return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in figures.items()}
