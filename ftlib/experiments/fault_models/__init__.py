"""The "Fault models" primer chapter: :mod:`~ftlib.experiments.fault_models.primer` (one notebook)."""
