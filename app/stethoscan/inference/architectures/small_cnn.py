"""A small plain CNN for 2D images, 3D volumes and spectrograms (tests, demos, benchmarks).

Blocks of convolution, batch norm and ReLU with max pooling in between, then global average
pooling and a linear layer. The output of the last block is what Grad-CAM explains.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn


class SmallCNN(nn.Module):
    """``forward(**inputs)`` reads the tensor named ``input_name``, shape (batch, channels, ...)."""

    def __init__(
        self,
        dims: int,
        input_name: str,
        in_channels: int = 1,
        n_classes: int = 2,
        widths: tuple[int, ...] = (16, 32, 64),
        stem_stride: int = 1,
    ) -> None:
        super().__init__()
        if dims not in (2, 3):
            raise ValueError("dims must be 2 or 3")
        if not widths or n_classes < 1 or in_channels < 1:
            raise ValueError("widths, n_classes and in_channels must be positive")
        conv = nn.Conv2d if dims == 2 else nn.Conv3d
        norm = nn.BatchNorm2d if dims == 2 else nn.BatchNorm3d
        pool = nn.MaxPool2d if dims == 2 else nn.MaxPool3d
        layers: list[nn.Module] = []
        channels = in_channels
        for index, width in enumerate(widths):
            if index > 0:
                layers.append(pool(2))
            stride = stem_stride if index == 0 else 1
            layers.append(
                nn.Sequential(
                    conv(channels, width, 3, stride=stride, padding=1, bias=False),
                    norm(width),
                    nn.ReLU(inplace=False),
                )
            )
            channels = width
        self.input_name = input_name
        self.features = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool2d(1) if dims == 2 else nn.AdaptiveAvgPool3d(1)
        self.classifier = nn.Linear(channels, n_classes)

    def forward(self, **inputs: Any) -> torch.Tensor:
        x = inputs[self.input_name]
        x = self.features(x)
        return self.classifier(torch.flatten(self.pool(x), 1))

    @property
    def last_block(self) -> nn.Module:
        return self.features[-1]


def build_small_cnn(params: dict[str, Any], dims: int, input_name: str) -> SmallCNN:
    """Build from manifest ``params`` (in_channels, n_classes, widths, stem_stride)."""
    known = {"in_channels", "n_classes", "widths", "stem_stride"}
    unknown = set(params) - known
    if unknown:
        raise ValueError(f"unknown parameters {sorted(unknown)}")
    kwargs = dict(params)
    if "widths" in kwargs:
        kwargs["widths"] = tuple(int(w) for w in kwargs["widths"])
    return SmallCNN(dims=dims, input_name=input_name, **kwargs)
