"""Phantoms with known evidence for the saliency sanity tests, and a few-second trainer.

Every image, volume or spectrogram holds 2-4 bright bars lying across the last axis (vertical
bars; rods along another axis; broadband "clicks" on a spectrogram) whatever its class; the
positive class also holds one bar of the same size and brightness along the last axis (a
horizontal "lesion"; a tonal "wheeze" band in time). Only the orientation tells the classes
apart, so a network with random weights has no reason to prefer the lesion, and deleting samples
(setting them to the background value 0) cuts bars short without creating a lesion.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from stethoscan.inference.saliency.sanity import SanitySample


def _box(rng, shape, axis, length, thickness):
    """Slices of a bar of ``length`` along ``axis``, ``thickness`` across, inside ``shape``."""
    sizes = [length if a == axis else thickness for a in range(len(shape))]
    starts = [int(rng.integers(1, n - s)) for n, s in zip(shape, sizes, strict=True)]
    return tuple(slice(b, b + s) for b, s in zip(starts, sizes, strict=True))


def bar_phantom(rng, shape, lesion: bool, length=9, thickness=3, noise=0.15):
    """(array, lesion mask): 2-4 distractor bars across the last axis, and with ``lesion`` a
    bar along it. Bars keep one background sample between each other."""
    while True:
        array = rng.normal(0.0, noise, size=shape).astype(np.float32)
        taken = np.zeros(shape, dtype=bool)
        mask = np.zeros(shape, dtype=bool)
        axes = [len(shape) - 1] * int(lesion)
        axes += list(rng.integers(0, len(shape) - 1, size=int(rng.integers(2, 5))))
        placed = 0
        for index, axis in enumerate(axes):
            for _ in range(50):
                box = _box(rng, shape, axis, length, thickness)
                grown = tuple(slice(b.start - 1, b.stop + 1) for b in box)
                if not taken[grown].any():
                    break
            else:
                break
            taken[box] = True
            array[box] += 1.0
            if lesion and index == 0:
                mask[box] = True
            placed += 1
        if placed == len(axes):
            return array, mask


def make_dataset(kind: str, n: int, seed: int):
    """Arrays x (n, 1, *shape), labels y (n,), masks (n, *shape) for kind 2d | 3d | spec."""
    rng = np.random.default_rng(seed)
    xs, ys, masks = [], [], []
    for index in range(n):
        label = index % 2
        if kind == "2d":
            x, m = bar_phantom(rng, (32, 32), bool(label))
        elif kind == "3d":
            x, m = bar_phantom(rng, (16, 16, 16), bool(label), length=7, thickness=2)
        else:  # (frequency bins, frames): clicks 16 bins tall, a wheeze 3 bins x 16 frames
            x, m = bar_phantom(rng, (32, 64), bool(label), length=16, thickness=3)
        xs.append(x[None])
        ys.append(label)
        masks.append(m)
    return np.stack(xs), np.array(ys), np.stack(masks)


INPUT_NAME = {"2d": "image", "3d": "volume", "spec": "spectrogram"}
ARCH = {"2d": "small_cnn2d", "3d": "small_cnn3d", "spec": "small_spectrogram_cnn"}


SHAPES = {"2d": "32 x 32", "3d": "16 x 16 x 16", "spec": "32 bins x 64 frames"}


def train_model(kind: str, n: int = 256, epochs: int = 10, seed: int = 0, widths=(16, 32),
                lr: float = 3e-3, batch_size: int = 32):  # fmt: skip
    """A small CNN trained on phantoms in a few seconds; returns (model, accuracy on new data).

    Two convolution blocks: the Grad-CAM layer keeps half the input resolution."""
    from stethoscan.inference.architectures import build_architecture

    torch.manual_seed(seed)
    model = build_architecture(ARCH[kind], {"n_classes": 2, "widths": list(widths)})
    x, y, _ = make_dataset(kind, n, seed)
    x_t, y_t = torch.from_numpy(x), torch.from_numpy(y)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    loss_fn = nn.CrossEntropyLoss()
    name = INPUT_NAME[kind]
    model.train()
    for _ in range(epochs):
        for batch in torch.randperm(n).split(batch_size):
            optimizer.zero_grad()
            loss_fn(model(**{name: x_t[batch]}), y_t[batch]).backward()
            optimizer.step()
    model.eval()
    xv, yv, _ = make_dataset(kind, 64, seed + 100)
    with torch.no_grad():
        accuracy = (model(**{name: torch.from_numpy(xv)}).argmax(1).numpy() == yv).mean()
    return model, float(accuracy)


def positive_samples(kind: str, n: int, seed: int) -> list[SanitySample]:
    """Samples of the positive class with their evidence masks (target class 1)."""
    x, y, masks = make_dataset(kind, 2 * n, seed)
    name = INPUT_NAME[kind]
    return [SanitySample({name: x[i : i + 1]}, masks[i], 1) for i in range(len(y)) if y[i] == 1]
