"""ftlib: the helper package behind the neural-network fault-tolerance reproducibility book.

Everything the book computes lives here; the notebooks in ``notebooks/`` stay thin.
Modules (one job each):

- :mod:`ftlib.config`     where data, cache and results live (environment variables)
- :mod:`ftlib.errors`     the exceptions a user can act on
- :mod:`ftlib.params`     sections (a notebook's parameters and profiles) and the validation of papermill parameters
- :mod:`ftlib.data`       datasets by name, checksummed
- :mod:`ftlib.store`      content-addressed cache of trained models and results
- :mod:`ftlib.models`     the architectures of the four papers
- :mod:`ftlib.training`   the supervised training-loop family
- :mod:`ftlib.faults`     the fault engine (fault models + vectorised sweeps)
- :mod:`ftlib.stats`      the statistics every chapter uses (t intervals, paired tests, Holm, permutations)
- :mod:`ftlib.reference`  the papers' published numbers, by checklist id
- :mod:`ftlib.report`     comparison tables, verdicts, result records, plotting style
- :mod:`ftlib.experiments` one module per notebook (``<paper>/<name>``) and the registry of the sections
- :mod:`ftlib.sections`   the notebooks' entry point: ``validate_notebook`` (above the experiments)
"""

__version__ = "0.1.0"
