"""A PNG of a saliency map: the image, three planes through a volume's peak, or a spectrogram
with time (s) and frequency (Hz) axes. Matplotlib with the Agg backend (no screen needed)."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def _planes(volume: np.ndarray) -> list[tuple[str, np.ndarray]]:
    k, j, i = np.unravel_index(int(np.argmax(volume)), volume.shape)
    return [(f"slice {k + 1}", volume[k]), (f"row {j + 1}", volume[:, j, :]),
            (f"column {i + 1}", volume[:, :, i])]  # fmt: skip


def save_saliency_png(prediction, path: Path, colormap: str = "inferno") -> Path:
    """Draw ``prediction.saliency`` with its regions and the disclaimer as a title."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure

    saliency = np.asarray(prediction.saliency, dtype=np.float32)
    space = prediction.saliency_space
    panels = _planes(saliency) if space == "volume" else [("", saliency)]
    figure = Figure(figsize=(4.2 * len(panels), 4.2), dpi=100, layout="constrained")
    axes = figure.subplots(1, len(panels), squeeze=False)[0]
    for ax, (title, panel) in zip(axes, panels, strict=True):
        extent, aspect = None, "equal"
        if space == "spectrogram" and prediction.saliency_axes:
            t = prediction.saliency_axes["times_s"]
            f = prediction.saliency_axes["frequencies_hz"]
            extent, aspect = (t[0], t[-1], 0, panel.shape[0]), "auto"
            ticks = np.linspace(0, panel.shape[0] - 1, 5).astype(int)
            ax.set_yticks(ticks + 0.5, [f"{f[i]:.0f}" for i in ticks])
            ax.set_xlabel("time (s)")
            ax.set_ylabel("frequency (Hz)")
        origin = "lower" if space == "spectrogram" else "upper"
        ax.imshow(panel, cmap=colormap, vmin=0, vmax=1, origin=origin, extent=extent,
                  aspect=aspect, interpolation="nearest")  # fmt: skip
        ax.set_title(title, fontsize=9)
    head = f"{prediction.model_name}: {prediction.saliency_method} for {prediction.top_label}"
    if prediction.disclaimer:
        head += f" - {prediction.disclaimer}"
    regions = "; ".join(prediction.saliency_regions[:2])
    figure.suptitle(head + ("\n" + regions if regions else ""), fontsize=9)
    figure.savefig(path)
    return path
