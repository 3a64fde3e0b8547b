"""Types, errors, settings, paths, logging and the task protocol. Standard library and numpy only."""
