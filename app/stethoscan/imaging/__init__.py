"""DICOM indexing, series geometry, volumes, windowing and rendering to arrays. No Qt, no torch."""
