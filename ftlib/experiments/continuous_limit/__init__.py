"""continuous_limit (probabilistic fault tolerance in the continuous limit): one module per notebook of the chapter.

- :mod:`~ftlib.experiments.continuous_limit.theorem1` — Theorem 1 (b3, b4) and the superposition of supplement Fig 11;
- :mod:`~ftlib.experiments.continuous_limit.bounds` — the bounds b1-b4 (supplement Figs 5-6) and Proposition 2;
- :mod:`~ftlib.experiments.continuous_limit.width` — Figure 2, Var Δ against the width;
- :mod:`~ftlib.experiments.continuous_limit.tails` — Propositions 3 and 5 and the median trick;
- :mod:`~ftlib.experiments.continuous_limit.training_decay` — Additional Proposition 9 (supplement Fig 12);
- :mod:`~ftlib.experiments.continuous_limit.architectures` — supplement Table 2, VGG16, VGG19 and MobileNet;
- :mod:`~ftlib.experiments.continuous_limit.dropout_ranking` — Table 2, metrics against training dropout;
- :mod:`~ftlib.experiments.continuous_limit.regularizers` — supplement Fig 10, the Var Δ regularizer;
- :mod:`~ftlib.experiments.continuous_limit.continuity` — supplement Figs 2-4, the continuity regularizer;
- :mod:`~ftlib.experiments.continuous_limit.certification` — Algorithm 1 (supplement Figs 7-8);
- ``_config`` — the Boston, MNIST and random networks, Table 2's networks and metrics, parameters and profiles.
"""
