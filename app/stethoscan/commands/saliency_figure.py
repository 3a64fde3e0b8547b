"""A PNG of a saliency map over what it explains: the scan (axial, coronal and sagittal planes
through the map's peak, with orientation letters), the image, or the spectrogram with time (s)
and frequency (Hz) axes. Without an underlay the map is drawn alone. Matplotlib with the Agg
backend (no screen needed)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

SHOW_FROM = 0.2  # map values below this are left transparent over the underlay


@dataclass
class Panel:
    """One drawing: the map, what lies under it (or None), edge letters and pixel aspect."""

    title: str
    saliency: np.ndarray
    underlay: np.ndarray | None = None
    labels: dict[str, str] = field(default_factory=dict)  # top/bottom/left/right -> letters
    aspect: float = 1.0  # pixel height / width on screen


def _peak_planes(saliency: np.ndarray) -> list[Panel]:
    k, j, i = np.unravel_index(int(np.argmax(saliency)), saliency.shape)
    return [Panel(f"slice {k + 1}", saliency[k]), Panel(f"row {j + 1}", saliency[:, j, :]),
            Panel(f"column {i + 1}", saliency[:, :, i])]  # fmt: skip


def _volume_planes(saliency: np.ndarray, volume: Any) -> list[Panel]:
    """Axial, coronal and sagittal planes of the scan through the map's peak, oriented as in
    the viewer (radiological convention), the map resliced the same way."""
    from stethoscan.imaging.slice_rendering import extract_plane, plane_axes

    peak = np.unravel_index(int(np.argmax(saliency)), saliency.shape)
    as_map = replace(volume, voxels=saliency, slope=1.0, intercept=0.0, loaded=None)
    panels = []
    for plane in ("axial", "coronal", "sagittal"):
        fixed = plane_axes(volume, plane)[0]
        index = int(peak[fixed])
        under, over = extract_plane(volume, plane, index), extract_plane(as_map, plane, index)
        values = under.data.astype(np.float32) * np.float32(volume.slope) + np.float32(volume.intercept)
        what = ("slice", "row", "column")[fixed]
        panels.append(Panel(f"{plane} ({what} {index + 1})", np.asarray(over.data), values,
                            under.labels, under.aspect))  # fmt: skip
    return panels


def figure_panels(prediction) -> list[Panel]:
    """What ``save_saliency_png`` draws, one Panel per axes."""
    saliency = np.asarray(prediction.saliency, dtype=np.float32)
    space, under = prediction.saliency_space, prediction.underlay
    if space == "volume":
        voxels = getattr(under, "voxels", None)
        if voxels is not None and voxels.shape == saliency.shape:  # grey scans only (not RGB)
            return _volume_planes(saliency, under)
        return _peak_planes(saliency)
    if isinstance(under, np.ndarray) and under.shape == saliency.shape:
        return [Panel("", saliency, under.astype(np.float32))]
    return [Panel("", saliency)]


def _draw(ax, panel: Panel, space: str, axes: dict, colormap: str):
    """Draw one panel; returns the map's image (for the colour bar)."""
    extent, aspect, origin = None, panel.aspect, "upper"
    if space == "spectrogram":
        origin, aspect = "lower", "auto"
        if axes:
            t, f = axes["times_s"], axes["frequencies_hz"]
            extent = (t[0], t[-1], 0, panel.saliency.shape[0])
            ticks = np.linspace(0, panel.saliency.shape[0] - 1, 5).astype(int)
            ax.set_yticks(ticks + 0.5, [f"{f[i]:.0f}" for i in ticks])
        ax.set_xlabel("time (s)")
        ax.set_ylabel("frequency (Hz)")
    common = {"origin": origin, "extent": extent, "aspect": aspect, "interpolation": "nearest"}
    if panel.underlay is None:
        shown = ax.imshow(panel.saliency, cmap=colormap, vmin=0, vmax=1, **common)
    else:
        low, high = np.percentile(panel.underlay, [1, 99.5] if space != "spectrogram" else [5, 100])
        ax.imshow(panel.underlay, cmap="gray", vmin=low, vmax=max(high, low + 1e-6), **common)
        masked = np.ma.masked_less(panel.saliency, SHOW_FROM)
        alpha = 0.9 if space == "spectrogram" else 0.65  # spectrogram maps are thin: less see-through
        shown = ax.imshow(masked, cmap=colormap, vmin=0, vmax=1, alpha=alpha, **common)
    if space != "spectrogram":
        ax.set_xticks([])
        ax.set_yticks([])
    for edge, (x, y, ha, va) in {"top": (0.5, 0.99, "center", "top"),
                                 "bottom": (0.5, 0.01, "center", "bottom"),
                                 "left": (0.01, 0.5, "left", "center"),
                                 "right": (0.99, 0.5, "right", "center")}.items():  # fmt: skip
        if panel.labels.get(edge):
            ax.text(x, y, panel.labels[edge], transform=ax.transAxes, ha=ha, va=va, color="yellow",
                    fontsize=10, fontweight="bold")  # fmt: skip
    ax.set_title(panel.title, fontsize=9)
    return shown


def figure_heading(prediction) -> str:
    """E.g. "respiratory-cycles: Integrated Gradients map for 'crackle' - Not for diagnostic use"."""
    from stethoscan.inference.saliency import METHOD_TITLES

    method = METHOD_TITLES.get(prediction.saliency_method, prediction.saliency_method or "saliency")
    head = f"{prediction.model_name}: {method} map for '{prediction.top_label}'"
    return head + (f" - {prediction.disclaimer}" if prediction.disclaimer else "")


def save_saliency_png(prediction, path: Path, colormap: str = "inferno") -> Path:
    """Draw ``prediction.saliency`` over its underlay, with its regions and the disclaimer."""
    saliency_figure(prediction, colormap).savefig(path)
    return path


def saliency_figure(prediction, colormap: str = "inferno"):
    """The matplotlib Figure that ``save_saliency_png`` saves: the panels and a colour bar."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure

    panels = figure_panels(prediction)
    space = prediction.saliency_space
    width = 9.0 if space == "spectrogram" else 4.2 * len(panels)
    figure = Figure(figsize=(width, 4.2), dpi=100, layout="constrained")
    axes = figure.subplots(1, len(panels), squeeze=False)[0]
    for ax, panel in zip(axes, panels, strict=True):
        shown = _draw(ax, panel, space, prediction.saliency_axes, colormap)
    under = any(p.underlay is not None for p in panels)
    bar = figure.colorbar(shown, ax=list(axes), shrink=0.8, pad=0.01, fraction=0.03)
    bar.set_label("saliency (1 = the map's peak" + (f"; below {SHOW_FROM:g} not drawn)" if under else ")"),
                  fontsize=8)  # fmt: skip
    bar.ax.tick_params(labelsize=7)
    head = figure_heading(prediction)
    regions = "; ".join(prediction.saliency_regions[:2])
    figure.suptitle(head + ("\n" + regions if regions else ""), fontsize=9)
    return figure
