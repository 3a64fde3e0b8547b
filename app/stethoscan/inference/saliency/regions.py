"""The most salient regions of a map, described in words (torch-free).

Regions are connected areas above ``threshold`` x the map's peak, ranked by their summed
saliency. Positions are given as 1-based index ranges of the map's grid (slices, rows, columns
as the viewer numbers them), or in seconds and Hz on a spectrogram when its axes are given.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class SalientRegion:
    """Bounding box (inclusive, 0-based index ranges per axis), centroid, peak and share."""

    ranges: tuple[tuple[int, int], ...]
    centroid: tuple[float, ...]
    peak: float
    share: float  # fraction of the map's total saliency inside the region


MAX_SEARCH_SAMPLES = 2_000_000


def find_regions(
    saliency: np.ndarray, top_k: int = 3, threshold: float = 0.5
) -> list[SalientRegion]:
    """Connected regions above ``threshold`` x peak, strongest (summed saliency) first.

    Maps larger than about 2 million samples are searched on an evenly strided copy; ranges and
    centroids are given on the full grid.
    """
    saliency = np.asarray(saliency)
    step = max(1, int(np.ceil((saliency.size / MAX_SEARCH_SAMPLES) ** (1 / max(saliency.ndim, 1)))))
    if step == 1:
        return _find_regions(saliency, top_k, threshold)
    coarse = _find_regions(saliency[(slice(None, None, step),) * saliency.ndim], top_k, threshold)
    return [
        SalientRegion(
            ranges=tuple(
                (lo * step, min(hi * step + step - 1, n - 1))
                for (lo, hi), n in zip(r.ranges, saliency.shape, strict=True)
            ),
            centroid=tuple(c * step for c in r.centroid),
            peak=r.peak,
            share=r.share,
        )
        for r in coarse
    ]


def _find_regions(saliency: np.ndarray, top_k: int, threshold: float) -> list[SalientRegion]:
    from scipy import ndimage

    data = np.nan_to_num(np.asarray(saliency, dtype=np.float64))
    peak = float(data.max()) if data.size else 0.0
    if peak <= 0:
        return []
    labels, count = ndimage.label(data >= threshold * peak)
    if count == 0:
        return []
    sums = np.bincount(labels.ravel(), weights=data.ravel(), minlength=count + 1)[1:]
    boxes = ndimage.find_objects(labels)
    total = float(data.sum())
    return [
        _region(data, labels, boxes[i], i + 1, sums[i], total)
        for i in np.argsort(sums)[::-1][:top_k]
    ]


def _region(data, labels, box, label, summed, total) -> SalientRegion:
    values = np.where(labels[box] == label, data[box], 0.0)
    weight = max(float(values.sum()), 1e-12)
    centroid = tuple(
        float((grid * values).sum() / weight) + b.start
        for grid, b in zip(np.indices(values.shape), box, strict=True)
    )
    return SalientRegion(
        ranges=tuple((b.start, b.stop - 1) for b in box),
        centroid=centroid,
        peak=float(values.max()),
        share=float(summed / total) if total > 0 else 0.0,
    )


def _span(low: int, high: int) -> str:
    return f"{low + 1}" if low == high else f"{low + 1}-{high + 1}"


def _axis_span(values: Sequence[float], low: int, high: int) -> tuple[float, float]:
    """Axis values of the first and last sample; a single sample (one frame, one mel band) is
    given its own width: half the distance to each neighbour (none before the first sample)."""
    values = np.asarray(values, dtype=float)
    high = min(high, len(values) - 1)
    if low != high or len(values) < 2:
        return float(values[low]), float(values[high])
    before = values[low] - values[low - 1] if low > 0 else 0.0
    after = values[low + 1] - values[low] if low + 1 < len(values) else values[low] - values[low - 1]
    return float(values[low] - before / 2), float(values[low] + after / 2)


def _position_words(centroid: Sequence[float], shape: Sequence[int]) -> str:
    row, col = centroid[-2] / max(shape[-2], 1), centroid[-1] / max(shape[-1], 1)
    vertical = "upper" if row < 1 / 3 else ("lower" if row > 2 / 3 else "middle")
    horizontal = "left" if col < 1 / 3 else ("right" if col > 2 / 3 else "centre")
    if vertical == "middle" and horizontal == "centre":
        return "centre of the image"
    return f"{vertical} {horizontal} of the image"


def describe_region(
    region: SalientRegion,
    space: str,
    shape: Sequence[int],
    axes: dict[str, Sequence[float]] | None = None,
    region_namer: Callable[[tuple[float, ...]], str | None] | None = None,
) -> str:
    """One region in words, e.g. "3.20-3.90 s, 300-450 Hz" or "slices 41-53, ..."."""
    axes = axes or {}
    if space == "spectrogram":
        (f0, f1), (t0, t1) = region.ranges
        if "times_s" in axes and "frequencies_hz" in axes:
            start, end = _axis_span(axes["times_s"], t0, t1)
            low, high = _axis_span(axes["frequencies_hz"], f0, f1)
            return f"{start:.2f}-{end:.2f} s, {low:.0f}-{high:.0f} Hz"
        return f"frames {_span(t0, t1)}, frequency bins {_span(f0, f1)}"
    name = region_namer(region.centroid) if region_namer is not None else None
    if space == "volume":
        (k0, k1), (j0, j1), (i0, i1) = region.ranges
        where = f"slices {_span(k0, k1)}, rows {_span(j0, j1)}, columns {_span(i0, i1)}"
        return f"{name}, {where}" if name else where
    (j0, j1), (i0, i1) = region.ranges[-2:]
    where = (
        f"{_position_words(region.centroid, shape)}, rows {_span(j0, j1)}, columns {_span(i0, i1)}"
    )
    return f"{name}, {where}" if name else where


def describe_regions(
    saliency: np.ndarray,
    space: str,
    axes: dict[str, Sequence[float]] | None = None,
    region_namer: Callable[[tuple[float, ...]], str | None] | None = None,
    top_k: int = 3,
    threshold: float = 0.5,
) -> list[str]:
    """The top regions of a map in words, strongest first.

    Parameters
    ----------
    saliency
        Map on the input grid: (rows, cols) for "image", (slices, rows, cols) for "volume",
        (frequency bins, frames) for "spectrogram".
    space
        "image", "volume" or "spectrogram".
    axes
        For spectrograms: ``times_s`` (per frame, s) and ``frequencies_hz`` (per bin, Hz).
    region_namer
        Optional atlas lookup: centroid (voxel indices) -> anatomical name or None.
    """
    regions = find_regions(saliency, top_k=top_k, threshold=threshold)
    return [describe_region(r, space, saliency.shape, axes, region_namer) for r in regions]
