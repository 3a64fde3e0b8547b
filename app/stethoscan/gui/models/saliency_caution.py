"""How much the place of a validated map's peak says, from the package's own sanity checks.

Where the known evidence is the most conspicuous structure (ventricles and CSF-filled medial
temporal regions on a T1 brain; a wheeze or crackle on a spectrogram), networks with random
weights also put their peak on it. The method is validated because its map's ranking differs from
theirs (Adebayo et al. 2018), so the Results panel says how often random networks hit the evidence
too, and that the peak's place alone is weaker evidence than it looks.
"""

from __future__ import annotations

from typing import Any

MIN_EXCESS = 0.25  # say it when random networks hit the evidence this much more often than chance


def method_checks(checks: dict[str, Any], method: str) -> dict[str, Any]:
    """The check figures of ``method`` (the MCI package nests them under ``subset_checks``)."""
    entry = checks.get(method) or {}
    return entry.get("subset_checks", entry) if isinstance(entry, dict) else {}


def random_network_caution(checks: dict[str, Any], method: str) -> str:
    """A sentence for the Results panel, or "" when random networks hit the evidence about as
    often as a peak placed at random."""
    figures = method_checks(checks, method)
    hit, chance = figures.get("randomized_pointing_game"), figures.get("chance")
    if hit is None or chance is None or hit < chance + MIN_EXCESS:
        return ""
    return (f"Read the peak with care: in this model's checks, networks with random weights also "
            f"put their peak on the known evidence in {hit:.0%} of cases (a random place: "
            f"{chance:.0%}), because it lies in the most conspicuous structures. The map was "
            "validated because its ranking differs from theirs (see the model card).")


def caution_for(model_name: str, method: str | None) -> str:
    """The caution for an installed package's method ("" when unknown or not needed)."""
    from stethoscan.core.errors import ModelPackageError
    from stethoscan.inference.registry import find_package

    if not method:
        return ""
    try:
        manifest = find_package(model_name).manifest
    except ModelPackageError:
        return ""
    return random_network_caution(dict(manifest.saliency.checks), method) if manifest else ""
