"""Architecture ``mci_fusion``: brain MRI + cognitive history -> CN / MCI / dementia.

Inputs (keyword tensors, any may be None):

- ``image``: (batch, 1, z, y, x) normalised brain crop from
  :func:`stethoscan.imaging.brain_preprocessing.preprocess_brain`;
- ``visits``: (batch, visits, visit_features) and ``visit_mask`` (batch, visits), True where a
  visit exists (see :func:`stethoscan.training.mci_dataset.encode_history`);
- ``static``: (batch, static_features) age, sex, education with "known" flags.

Image branch: a small 3D CNN (stride-2 stem and max-pool to 1/4 resolution, two 3x3x3 conv
blocks, max-pool, one more block; BatchNorm), pooled by a global mean plus a 2 x 2 x 2 grid of
regional means (the inputs are roughly aligned, so where a change lies matters).
History branch: a GRU over the visits (last valid step) joined with an MLP of the static
features. Each branch gives an embedding; a missing branch (input None, or dropped in training
through ``drop_image``/``drop_history``) is replaced by a learned "missing" embedding, so the
fusion head always sees two embeddings. Grad-CAM explains ``image_blocks[2]`` (1/4 resolution,
8 mm cells at 2 mm input voxels).
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

VISIT_FEATURES = 6
STATIC_FEATURES = 6


def _block(cin: int, cout: int, stride: int = 1) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv3d(cin, cout, 3, stride=stride, padding=1, bias=False),
        nn.BatchNorm3d(cout),
        nn.ReLU(inplace=True),
    )


class MciFusion(nn.Module):
    def __init__(
        self,
        widths: tuple[int, ...] = (12, 16, 32, 48),
        hidden: int = 32,
        embed: int = 32,
        n_classes: int = 3,
        dropout: float = 0.2,
        visit_features: int = VISIT_FEATURES,
        static_features: int = STATIC_FEATURES,
    ) -> None:
        super().__init__()
        w = list(widths)
        if len(w) != 4:
            raise ValueError("widths needs 4 channel counts")
        self.image_blocks = nn.ModuleList(
            [
                nn.Sequential(_block(1, w[0], stride=2), nn.MaxPool3d(2)),
                _block(w[0], w[1]),
                _block(w[1], w[2]),
                nn.Sequential(nn.MaxPool3d(2), _block(w[2], w[3])),
            ]
        )
        self.regional_pool = nn.AdaptiveAvgPool3d(2)
        self.image_head = nn.Sequential(nn.Dropout(dropout), nn.Linear(9 * w[3], embed), nn.ReLU())
        self.gru = nn.GRU(visit_features, hidden, batch_first=True)
        self.no_visits = nn.Parameter(torch.zeros(hidden))
        self.static_mlp = nn.Sequential(nn.Linear(static_features, 16), nn.ReLU())
        self.history_head = nn.Sequential(nn.Linear(hidden + 16, embed), nn.ReLU())
        self.missing_image = nn.Parameter(torch.zeros(embed))
        self.missing_history = nn.Parameter(torch.zeros(embed))
        self.head = nn.Sequential(
            nn.Linear(2 * embed, 32), nn.ReLU(), nn.Dropout(dropout), nn.Linear(32, n_classes)
        )
        self.static_features = static_features

    def image_embedding(self, image: torch.Tensor) -> torch.Tensor:
        x = image
        for block in self.image_blocks:
            x = block(x)
        pooled = torch.cat([x.mean(dim=(2, 3, 4)), self.regional_pool(x).flatten(1)], dim=1)
        return self.image_head(pooled)

    def history_embedding(
        self,
        visits: torch.Tensor | None,
        visit_mask: torch.Tensor | None,
        static: torch.Tensor | None,
        batch: int,
    ) -> torch.Tensor:
        if visits is not None:
            mask = (
                visit_mask
                if visit_mask is not None
                else torch.ones(visits.shape[:2], dtype=torch.bool, device=visits.device)
            )
            outputs, _ = self.gru(visits * mask.unsqueeze(-1).to(visits.dtype))
            last = (mask.long().sum(dim=1) - 1).clamp(min=0)
            state = outputs[torch.arange(outputs.shape[0], device=outputs.device), last]
            empty = ~mask.any(dim=1, keepdim=True)
            state = torch.where(empty, self.no_visits.expand_as(state), state)
        else:
            state = self.no_visits.expand(batch, -1)
        if static is None:
            static = torch.zeros(batch, self.static_features, device=state.device)
        return self.history_head(torch.cat([state, self.static_mlp(static)], dim=1))

    def embeddings(self, image: torch.Tensor | None = None, visits: torch.Tensor | None = None,
                   visit_mask: torch.Tensor | None = None, static: torch.Tensor | None = None,
                   drop_image: torch.Tensor | None = None,
                   drop_history: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """Image and history embeddings, the "missing" ones where an input is absent/dropped."""
        batch = _batch_size(image, visits, static)
        device = self.missing_image.device
        if image is not None:
            img = self.image_embedding(image)
        else:
            img = self.missing_image.expand(batch, -1)
        if visits is not None or static is not None:
            hist = self.history_embedding(visits, visit_mask, static, batch)
        else:
            hist = self.missing_history.expand(batch, -1)
        if drop_image is not None:
            img = torch.where(drop_image.view(-1, 1).to(device), self.missing_image.expand_as(img), img)
        if drop_history is not None:
            hist = torch.where(drop_history.view(-1, 1).to(device),
                               self.missing_history.expand_as(hist), hist)
        return img, hist

    def fuse(self, img: torch.Tensor, hist: torch.Tensor) -> torch.Tensor:
        """Logits from the two embeddings."""
        return self.head(torch.cat([img, hist], dim=1))

    def forward(self, image: torch.Tensor | None = None, visits: torch.Tensor | None = None,
                visit_mask: torch.Tensor | None = None, static: torch.Tensor | None = None,
                drop_image: torch.Tensor | None = None,
                drop_history: torch.Tensor | None = None) -> torch.Tensor:
        return self.fuse(*self.embeddings(image, visits, visit_mask, static, drop_image,
                                          drop_history))


def _batch_size(*tensors: torch.Tensor | None) -> int:
    for tensor in tensors:
        if tensor is not None:
            return int(tensor.shape[0])
    raise ValueError("mci_fusion needs at least one of image, visits or static")


def build(params: dict[str, Any]) -> MciFusion:
    known = {
        "widths",
        "hidden",
        "embed",
        "n_classes",
        "dropout",
        "visit_features",
        "static_features",
    }
    unknown = set(params) - known
    if unknown:
        raise ValueError(f"unknown parameters {sorted(unknown)}")
    params = dict(params)
    if "widths" in params:
        params["widths"] = tuple(int(v) for v in params["widths"])
    return MciFusion(**params)


def gradcam_target(model: MciFusion) -> nn.Module:
    return model.image_blocks[2]


@torch.inference_mode()
def logits_and_contributions(model: MciFusion, inputs: dict[str, torch.Tensor | None],
                             temperature: float = 1.0) -> tuple[torch.Tensor, dict[str, float]]:
    """Logits (batch of 1) and how much each input moved the probability of the top label.

    Contribution of an input = p(top | all inputs) - p(top | that input replaced by its learned
    "missing" embedding), with temperature-scaled softmax. Positive: the input supports the
    result; 0 for an input that was absent. One image pass for everything.
    """
    img, hist = model.embeddings(**inputs)
    logits = model.fuse(img, hist)

    def prob(image_emb: torch.Tensor, history_emb: torch.Tensor) -> torch.Tensor:
        return torch.softmax(model.fuse(image_emb, history_emb).float() / temperature, dim=1)

    full = prob(img, hist)[0]
    top = int(torch.argmax(full))
    out = {"scan": 0.0, "clinical_scores": 0.0}
    if inputs.get("image") is not None:
        out["scan"] = float(full[top] - prob(model.missing_image.expand_as(img), hist)[0, top])
    if inputs.get("visits") is not None or inputs.get("static") is not None:
        out["clinical_scores"] = float(
            full[top] - prob(img, model.missing_history.expand_as(hist))[0, top])
    return logits, out
