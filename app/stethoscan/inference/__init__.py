"""Model packages (manifest, integrity), registry, runtime/device, predictors and saliency. torch lives here."""
