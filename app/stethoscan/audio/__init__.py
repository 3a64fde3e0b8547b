"""Audio capture, files, and signal processing (denoise, segmentation, features). No Qt, no torch."""
