"""computation_failures (Vialatte & Leduc-Primeau, COGNITIVE 2017): one module per notebook of the chapter.

- :mod:`~ftlib.experiments.computation_failures.hyperparameters` — Section V.A: Figures 1–2 and the CF-H claims;
- :mod:`~ftlib.experiments.computation_failures.fault_tolerance` — Section V.B: Figures 3–6;
- ``_config`` — the model grid, its training and evaluation, the deviation models, parameters and profiles.
"""
