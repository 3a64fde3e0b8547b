"""Stethoscan: an offline clinical workstation for scans, breath and voice, with local AI."""

__version__ = "0.1.0"
