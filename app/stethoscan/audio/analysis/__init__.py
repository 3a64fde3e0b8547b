"""Signal analysis of breath, cough and voice recordings (GUI-free, no torch)."""
