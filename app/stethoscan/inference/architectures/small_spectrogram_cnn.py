"""Architecture ``small_spectrogram_cnn``: the small CNN for spectrograms, input ``spectrogram`` (batch, 1, frequency bins, frames)."""

from __future__ import annotations

from typing import Any

from torch import nn

from stethoscan.inference.architectures.small_cnn import SmallCNN, build_small_cnn


def build(params: dict[str, Any]) -> SmallCNN:
    return build_small_cnn(params, dims=2, input_name="spectrogram")


def gradcam_target(model: SmallCNN) -> nn.Module:
    return model.last_block
