"""snn_patterns (fault-tolerant spiking networks with adversarial pattern generation): one module per notebook
of the chapter.

- :mod:`~ftlib.experiments.snn_patterns.method` — Section 3: Tables 1-2, the LIF network with HSF / NASF
  faults, Algorithm 1 on a few images;
- :mod:`~ftlib.experiments.snn_patterns.accuracy` — Section 4.B: Tables 3-4 and Fig. 3 on our trained models;
- :mod:`~ftlib.experiments.snn_patterns.convergence` — Section 4.C: Tables 5-8;
- :mod:`~ftlib.experiments.snn_patterns.authors_models` — Tables 3-4 and Fig. 3 on the authors' checkpoints;
- ``_config`` — the training configurations, the five models of Table 4, the test set, parameters and
  profiles; ``_table4`` — the Table 4 / Fig. 3 analyses that ``accuracy`` and ``authors_models`` share.
"""

from ._config import MODEL_LABELS as _LABELS

MODEL_LABELS = _LABELS
"""Table 4's columns, in the paper's order (:data:`ftlib.experiments.snn_patterns._config.MODEL_LABELS`, kept here
under the name that :data:`ftlib.models.snn_authors.TABLE_MODELS` cites)."""
