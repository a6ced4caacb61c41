"""Beyond the papers: one module per notebook of the chapter, on one generic pipeline.

- :mod:`~ftlib.experiments.beyond.methods_faults` — every training method under every fault model;
- :mod:`~ftlib.experiments.beyond.theory` — can the damage be predicted (b3, generalization error)?
- :mod:`~ftlib.experiments.beyond.spiking` — snn_patterns' methods under every fault model;
- ``_pipeline`` — the generic pipeline (:class:`~ftlib.experiments.beyond._pipeline.Study`: population,
  sweeps, retained accuracy, rankings); ``_config`` — the non-spiking configuration both first sections share.
"""
