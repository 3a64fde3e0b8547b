"""Use cases that combine imaging, audio, inference and records: run(inputs, task) -> result. No Qt."""
