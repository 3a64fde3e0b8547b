"""Architecture ``small_cnn3d``: the small CNN for 3D volumes, input ``volume`` (batch, channels, slices, rows, columns)."""

from __future__ import annotations

from typing import Any

from torch import nn

from stethoscan.inference.architectures.small_cnn import SmallCNN, build_small_cnn


def build(params: dict[str, Any]) -> SmallCNN:
    return build_small_cnn({"widths": (8, 16, 32), **params}, dims=3, input_name="volume")


def gradcam_target(model: SmallCNN) -> nn.Module:
    return model.last_block
