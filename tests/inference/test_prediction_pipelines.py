"""The pipeline registry and the run(model, input, options, task) protocol: progress, cancel."""

from __future__ import annotations

import numpy as np
import pytest
from inference_test_packages import write_audio_package

from stethoscan.audio.clip import AudioClip
from stethoscan.core.errors import Cancelled, ModelPackageError
from stethoscan.core.task import SilentTask
from stethoscan.workflows import prediction_pipelines


class CancelAfter(SilentTask):
    """Cancels itself once progress passes ``fraction`` (as a user pressing Cancel would)."""

    def __init__(self, fraction: float) -> None:
        super().__init__()
        self.limit = fraction
        self.messages: list[str] = []

    def progress(self, fraction: float, message: str = "") -> None:
        super().progress(fraction, message)
        self.messages.append(message)
        if fraction >= self.limit:
            self.cancel()


def _clip(seconds: float = 6.0, rate: int = 4000) -> AudioClip:
    samples = np.random.default_rng(1).normal(0, 0.05, (int(seconds * rate), 1)).astype(np.float32)
    return AudioClip(samples, rate, source="synthetic")


def test_predict_with_a_clip_in_memory_reports_progress(tmp_path, model_dirs):
    folder = write_audio_package(tmp_path / "a")
    task = CancelAfter(2.0)  # never cancels
    result = prediction_pipelines.predict(
        folder, None, {"clip": _clip(), "saliency": "gradcam"}, task
    )
    assert task.fraction == 1.0 and "running the model" in task.messages
    assert result.saliency is not None and result.saliency_axes["times_s"][0] >= 0
    assert result.inputs_used == ["audio"] and len(result.probabilities) == 3


def test_cancel_stops_the_pipeline(tmp_path, model_dirs):
    folder = write_audio_package(tmp_path / "a")
    with pytest.raises(Cancelled):
        prediction_pipelines.predict(folder, None, {"clip": _clip(20.0)}, CancelAfter(0.2))


def test_unknown_pipeline_is_a_clear_error():
    with pytest.raises(ModelPackageError, match="does not have"):
        prediction_pipelines.pipeline_module("generic_xray")


def test_every_registered_pipeline_has_run():
    for name in prediction_pipelines.PIPELINE_MODULES:
        try:
            module = prediction_pipelines.pipeline_module(name)
        except ModelPackageError:
            continue  # written by another module, not installed in this checkout
        assert callable(module.run)


def test_single_frame_evidence_is_named_with_its_own_width():
    """A one-frame, one-band peak (a crackle; a pixel of Integrated Gradients) is not named as
    "4.02-4.02 s, 182-182 Hz" but with the frame's and band's own extent."""
    from stethoscan.inference.saliency.regions import describe_regions

    saliency = np.zeros((4, 10), np.float32)
    saliency[2, 5] = 1.0
    axes = {"times_s": np.arange(10) * 0.02, "frequencies_hz": [100.0, 200.0, 300.0, 500.0]}
    assert describe_regions(saliency, "spectrogram", axes) == ["0.09-0.11 s, 250-400 Hz"]
    saliency[:] = 0.0
    saliency[0, 0] = 1.0  # nothing before the first frame or band
    assert describe_regions(saliency, "spectrogram", axes) == ["0.00-0.01 s, 100-150 Hz"]


def test_bundled_respiratory_evidence_says_why_it_is_or_is_not_located():
    """The bundled package validates a method, so "auto" locates each abnormal cycle's evidence
    in s and Hz; asking for no map, or for a method that did not pass, is said as such (not as
    "no method passed")."""
    import re

    from stethoscan.audio.analysis.synthetic_sounds import synth_breathing
    from stethoscan.workflows import respiratory_prediction as rp

    model = rp._load("respiratory-cycles")
    assert model.validated_saliency_methods
    breath, _, _ = synth_breathing(12.0, 4000, seed=1)
    clip = AudioClip(breath[:, None], 4000, source="synthetic")
    segments = [(0.5, 3.5), (4.0, 7.0)]
    failed = next(m for m in ("gradcam", "occlusion", "ig")
                  if m not in model.validated_saliency_methods)  # fmt: skip
    for wanted, expected in (("auto", r"evidence at \d+\.\d\d-\d+\.\d\d s, \d+-\d+ Hz$"),
                             ("none", r"\(no explanation map was asked for, so "),
                             (None, r"\(no explanation map was asked for, so "),
                             (failed, r"did not pass its checks for this model, so ")):  # fmt: skip
        cycles = rp.predict_cycles(clip, segments, model=model, saliency=wanted)
        abnormal = [c for c in cycles if c["label"] != "normal"]
        assert abnormal, cycles
        for cycle in abnormal:
            assert re.search(expected, cycle["evidence"]), (wanted, cycle["evidence"])
