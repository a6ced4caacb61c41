"""adversarial_ft (Duddu, Rao, Balas): one module per notebook of the chapter.

- :mod:`~ftlib.experiments.adversarial_ft.experiment_setup` — Section 4: Table 1, Figures 1 and 2;
- :mod:`~ftlib.experiments.adversarial_ft.adversarial_framework` — Section 6.3: Table 2, Figure 5, Algorithm 1;
- :mod:`~ftlib.experiments.adversarial_ft.faults` — Section 6.4: Figure 7 and the generalization hypothesis;
- ``_config`` — the architectures, training configurations, parameters and profiles they share.
"""
