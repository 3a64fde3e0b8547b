"""Datasets (synthetic generators, ICBHI and folder readers), trainers and evaluation. torch lives here."""
