"""Everything Qt: main window, scan viewer, recording studio, model panel, workers."""
