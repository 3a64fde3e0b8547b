"""What a model said about one input: calibrated probabilities, saliency and caveats (torch-free)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Literal

import numpy as np

SaliencySpace = Literal["image", "volume", "spectrogram"]


@dataclass
class Prediction:
    """One model's result for one input, ready to show beside the scan or recording.

    ``probabilities`` are calibrated (temperature scaling) and ordered like ``labels``.
    ``saliency`` is a float32 map on the input grid (rows x cols for an image, slices x rows x
    cols for a volume, frequency bins x frames for a spectrogram), scaled to [0, 1], or None.
    ``contributions`` says how much each input (e.g. "scan", "clinical_scores") drove the
    result, for multi-input models. ``warnings`` are input mismatches the user must see.
    ``underlay`` is what the map lies on, for figures only (not in ``to_dict``).
    """

    model_name: str
    version: str
    labels: list[str]
    descriptions: list[str]
    probabilities: list[float]
    top_label: str
    top_probability: float
    research_use_only: bool = True
    disclaimer: str = "Not for diagnostic use"
    card_summary: str = ""
    synthetic_training_data: bool = False
    saliency: np.ndarray | None = None
    saliency_space: SaliencySpace | None = None
    saliency_method: str | None = None
    saliency_regions: list[str] = field(default_factory=list)
    saliency_axes: dict[str, Any] = field(default_factory=dict)  # e.g. times_s, frequencies_hz
    warnings: list[str] = field(default_factory=list)
    inputs_used: list[str] = field(default_factory=list)
    contributions: dict[str, float] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)  # pipeline-specific extras (JSON-able)
    # What the map lies on, for figures (never in JSON): the scan's Volume for a volume map, the
    # image for an image map, the spectrogram (dB, the map's grid) for a spectrogram map.
    underlay: Any = field(default=None, repr=False, compare=False)

    @classmethod
    def from_probabilities(
        cls, manifest: Any, probabilities: np.ndarray, **kwargs: Any
    ) -> Prediction:
        """Build from a package manifest and a 1-D probability vector in label order."""
        probs = [float(p) for p in np.asarray(probabilities, dtype=np.float64).ravel()]
        top = int(np.argmax(probs))
        research = bool(manifest.model.research_use_only)
        return cls(
            model_name=manifest.model.name,
            version=manifest.model.version,
            labels=list(manifest.labels),
            descriptions=list(manifest.descriptions),
            probabilities=probs,
            top_label=manifest.labels[top],
            top_probability=probs[top],
            research_use_only=research,
            disclaimer="Not for diagnostic use" if research else "",
            card_summary=manifest.model.summary,
            synthetic_training_data=bool(manifest.model.synthetic_training_data),
            **kwargs,
        )

    def probability_of(self, label: str) -> float:
        return self.probabilities[self.labels.index(label)]

    def to_dict(self) -> dict[str, Any]:
        """JSON-able dict; the saliency map itself is replaced by its shape (saved as NPY)."""
        data = asdict(replace(self, saliency=None, underlay=None))
        del data["underlay"]
        data["saliency_shape"] = list(self.saliency.shape) if self.saliency is not None else None
        return data

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, default=_json_default)


def _json_default(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"not JSON serializable: {type(value).__name__}")
