"""The papers' published numbers, by checklist id (``../shared/papers/CHECKLIST.md``).

These are facts to compare against, never results: notebooks read them only to
put them beside our own numbers. Accuracies are percentages as printed.
``section`` is the book notebook (``"<paper>/<name>"``) that reproduces the id,
or ``None`` while it is not yet reproduced.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

PAPERS: dict[str, str] = {
    "adversarial_ft": "Duddu, Rao, Balas: Adversarial Fault Tolerant Training for Deep Neural Networks (arXiv:1907.03103)",
    "computation_failures": "Vialatte & Leduc-Primeau: A Study of Deep Learning Robustness Against Computation Failures (COGNITIVE 2017)",
    "continuous_limit": "El Mhamdi, Guerraoui, Kucharavy, Volodin: The Probabilistic Fault Tolerance of Neural Networks in the Continuous Limit (arXiv:1902.01686, ICLR 2020 submission)",
    "snn_patterns": "Fault-tolerant training of spiking neural networks with adversarial-attack pattern generation",
}

@dataclass(frozen=True)
class Paper:
    """The bibliographic facts of one paper (for the "How to cite" page and its BibTeX)."""

    key: str
    title: str
    authors: tuple[str, ...]
    year: int
    venue: str
    url: str | None = None
    eprint: str | None = None
    note: str = ""

    def bibtex(self) -> str:
        """A BibTeX entry (``@misc`` for an arXiv preprint, else ``@inproceedings``; key = the book's key)."""
        authors = " and ".join(self.authors) if self.authors else "{Unknown authors}"
        fields = [("title", "{" + self.title + "}"), ("author", authors)] + (
            [("year", str(self.year))] if self.year else [])
        if self.eprint:
            kind = "misc"
            fields += [("eprint", self.eprint), ("archivePrefix", "arXiv")]
        else:
            kind = "inproceedings" if self.venue else "misc"
            if self.venue:
                fields.append(("booktitle", self.venue))
        if self.url:
            fields.append(("url", self.url))
        if self.note:
            fields.append(("note", self.note))
        body = ",\n".join(f"  {k} = {{{v}}}" for k, v in fields)
        return f"@{kind}{{{self.key},\n{body}\n}}"


BIBLIOGRAPHY: dict[str, Paper] = {
    "adversarial_ft": Paper("adversarial_ft", "Adversarial Fault Tolerant Training for Deep Neural Networks",
                            ("Vasisht Duddu", "D. Vijay Rao", "Valentina E. Balas"), 2019, "arXiv preprint",
                            url="https://arxiv.org/abs/1907.03103", eprint="1907.03103"),
    "computation_failures": Paper("computation_failures",
                                  "A Study of Deep Learning Robustness Against Computation Failures",
                                  ("Jean-Charles Vialatte", "François Leduc-Primeau"), 2017,
                                  "COGNITIVE 2017: The Ninth International Conference on Advanced Cognitive "
                                  "Technologies and Applications"),
    "continuous_limit": Paper("continuous_limit",
                              "The Probabilistic Fault Tolerance of Neural Networks in the Continuous Limit",
                              ("El-Mahdi El-Mhamdi", "Rachid Guerraoui", "Andrei Kucharavy", "Sergei Volodin"),
                              2019, "arXiv preprint (an ICLR 2020 submission)",
                              url="https://arxiv.org/abs/1902.01686", eprint="1902.01686",
                              note="the book follows the ICLR 2020 submission (main text and supplement)"),
    "snn_patterns": Paper("snn_patterns",
                          "Fault-tolerant training of spiking neural networks with adversarial-attack pattern "
                          "generation", (), 0, "",
                          note="authors, year and venue are not given in the text the book reproduces "
                               "(its contribution statement names two authors without their names)"),
}
"""The four papers' bibliographic facts (authors as printed, arXiv ids), by paper key; ``PAPERS`` is the
one-line title used on the book's pages."""


STUDIES: dict[str, str] = {
    "beyond": "Beyond the papers: which training method for which hardware fault, and can the damage be predicted?",
}
"""Chapters of the book's own study (no paper): their rows are findings with a confidence, not comparisons."""


@dataclass(frozen=True)
class Reference:
    """One checklist id: what it is, where it is in the paper, the paper's numbers."""

    id: str
    paper: str
    what: str
    values: dict[str, Any] = field(default_factory=dict)
    section: str | None = None


def _t1_rows() -> dict[str, dict[str, float]]:
    # adversarial_ft Table 1: (train, test, generalization error) in %, FashionMNIST, Architecture 1.
    rows = {
        ("tikhonov", 0.0): (98.60, 88.90, 9.70),
        ("tikhonov", 1e-4): (97.84, 89.89, 7.95),
        ("tikhonov", 1e-3): (93.88, 88.86, 5.02),
        ("tikhonov", 0.1): (66.57, 65.74, 0.83),
        ("lasso", 0.0): (96.77, 89.53, 7.24),
        ("lasso", 1e-4): (90.26, 86.70, 3.56),
        ("lasso", 1e-3): (85.07, 84.20, 0.87),
        ("lasso", 1e-2): (70.49, 70.37, 0.12),
    }
    return {f"{reg} {lam:g}": {"train": a, "test": b, "gen_error": c} for (reg, lam), (a, b, c) in rows.items()}


_REFS = [
    # adversarial_ft
    Reference("AFT-F1", "adversarial_ft", "parameter distribution, regularized vs unregularized (std)",
              {"std_regularized": 0.04772, "std_unregularized": 0.452404}, section="adversarial_ft/experiment_setup"),
    Reference("AFT-F2a", "adversarial_ft", "MLP weight faults: accuracy at 50% stuck-at-0 weights, regularized vs not",
              {"regularized": 84.78, "unregularized": 54.49}, section="adversarial_ft/experiment_setup"),
    Reference("AFT-F2b", "adversarial_ft", "CNN filter faults: accuracy at 50% stuck-at-0 filters, regularized vs not",
              {"regularized": 79.90, "unregularized": 51.43}, section="adversarial_ft/experiment_setup"),
    Reference("AFT-F2c", "adversarial_ft", "node faults: accuracy at 60% stuck-at-0 nodes, regularized vs not",
              {"regularized": 93.46, "unregularized": 69.08}, section="adversarial_ft/experiment_setup"),
    Reference("AFT-T1", "adversarial_ft", "Table 1: train/test/generalization error vs λ for Tikhonov and Lasso",
              _t1_rows(), section="adversarial_ft/experiment_setup"),
    Reference("AFT-F5", "adversarial_ft", "Phase I loss curves (reconstruction, generator, discriminator)", {},
              section="adversarial_ft/adversarial_framework"),
    Reference("AFT-T2", "adversarial_ft", "Table 2: train/test/generalization of none/Lasso/Tikhonov/proposed, Arch 1-4",
              {"arch1": {"none": (99.51, 89.42, 10.09), "lasso": (98.42, 88.96, 9.46),
                         "tikhonov": (97.16, 88.52, 8.64), "proposed": (95.78, 90.25, 5.53)},
               "arch2": {"none": (99.60, 90.94, 8.66), "lasso": (96.98, 91.19, 5.79),
                         "tikhonov": (95.74, 90.61, 5.13), "proposed": (96.00, 91.55, 4.55)},
               "arch3": {"none": (96.35, 86.11, 10.24), "lasso": (85.95, 77.78, 8.17),
                         "tikhonov": (93.87, 87.21, 6.66), "proposed": (91.36, 87.58, 3.78)},
               "arch4": {"none": (85.16, 81.71, 3.45), "lasso": (83.90, 81.68, 2.22),
                         "tikhonov": (84.83, 81.71, 3.12), "proposed": (82.96, 81.77, 1.19)}},
              section="adversarial_ft/adversarial_framework"),
    Reference("AFT-F7a", "adversarial_ft", "weight faults: accuracy at 60% weights, proposed / Tikhonov / Lasso",
              {"proposed": 84.36, "tikhonov": 81.66, "lasso": 61.42}, section="adversarial_ft/faults"),
    Reference("AFT-F7b", "adversarial_ft", "filter faults: accuracy drop at 40% filters, proposed / Tikhonov / Lasso",
              {"proposed": 12.58, "tikhonov": 24.98, "lasso": 30.44}, section="adversarial_ft/faults"),
    Reference("AFT-F7c", "adversarial_ft", "node faults: accuracy at 68% nodes, proposed / Tikhonov / Lasso",
              {"proposed": 84.60, "tikhonov": 78.51, "lasso": 51.09}, section="adversarial_ft/faults"),
    Reference("AFT-A1", "adversarial_ft", "Algorithm 1: Phase I games 1+2, Phase II fine-tuning", {},
              section="adversarial_ft/adversarial_framework"),
    Reference("AFT-F3/F4/F6", "adversarial_ft", "the method's diagrams (drawn, not computed)", {},
              section="adversarial_ft/adversarial_framework"),
    # computation_failures
    Reference("CF-F1", "computation_failures", "MLP-L-N error vs p, L = 1..5, conditionally-uniform",
              {"claim": "no clear effect of L for MLPs", "p_max": 5e-3, "error_axis": (0.01, 0.06),
               "best_L_p0": 2}, section="computation_failures/hyperparameters"),
    Reference("CF-F2", "computation_failures", "CNN-L error vs p, L = 1..3, conditionally-uniform",
              {"claim": "more layers usually more robust", "p_max": 5e-3, "error_axis": (0.0, 0.08)},
              section="computation_failures/hyperparameters"),
    # Figures 3-6: the error targets of each figure's legend (first, last, step) and the y-axis range (params).
    Reference("CF-F3", "computation_failures", "parameters needed per error target vs p, MLP, conditionally uniform",
              {"extra_params_pct_target_0.024_p_1e-3": 318, "target": 0.024, "p": 1e-3,
               "targets": (0.016, 0.030, 0.001), "p_axis_max": 2e-3, "params_axis": (0, 4e6)},
              section="computation_failures/fault_tolerance"),
    Reference("CF-F4", "computation_failures", "parameters needed per error target vs p, MLP, erasure",
              {"claim": "all targets reachable", "targets": (0.017, 0.031, 0.001), "p_axis_max": 5e-3,
               "params_axis": (0, 1e6)}, section="computation_failures/fault_tolerance"),
    Reference("CF-F5", "computation_failures", "parameters needed per error target vs p, CNN, conditionally uniform",
              {"extra_params_pct_target_0.023_p_1e-3": 0.2, "target": 0.023, "p": 1e-3,
               "targets": (0.007, 0.063, 0.004), "p_axis_max": 5e-3, "params_axis": (1.14e5, 1.18e5)},
              section="computation_failures/fault_tolerance"),
    Reference("CF-F6", "computation_failures", "parameters needed per error target vs p, CNN, erasure",
              {"targets": (0.007, 0.021, 0.001), "p_axis_max": 5e-3, "params_axis": (1.17e5, 1.19e5)},
              section="computation_failures/fault_tolerance"),
    Reference("CF-H", "computation_failures", "hyperparameter effects: clipped ReLU vs tanh, max pool vs none, before vs after activation",
              {"activation": "robustness similar for clipped ReLU and tanh",
               "pooling": "no pooling slightly more robust than max pooling",
               "placement": "deviations sampled before the activation are less harmful"},
              section="computation_failures/hyperparameters"),
    # continuous_limit
    Reference("CL-T1", "continuous_limit", "Theorem 1 first-order mean/variance of the output error vs Monte Carlo", {},
              section="continuous_limit/theorem1"),
    Reference("CL-P2", "continuous_limit", "Proposition 2 spectral bound vs experiment", {"claim": "loose, exponential in depth"},
              section="continuous_limit/bounds"),
    Reference("CL-P3", "continuous_limit", "Proposition 3 KL tail bound on the crashed weight norm", {},
              section="continuous_limit/tails"),
    Reference("CL-P5", "continuous_limit", "Proposition 5 Chebyshev (ε, δ) guarantee vs empirical tail", {"claim": "bound ≥ empirical"},
              section="continuous_limit/tails"),
    Reference("CL-MT", "continuous_limit", "median of R copies vs mean aggregation", {"claim": "δ·exp(−R) decay"},
              section="continuous_limit/tails"),
    Reference("CL-T2", "continuous_limit", "Table 2: rank loss of metrics vs training dropout (%)",
              {"crashing_mae": (5.6, 5.6), "crashing_acc": (19.8, 17.7), "correct_mae": (23.3, 22.0),
               "correct_acc": (31.7, 39.9), "t1_var": 3.6, "p2_mean": 24.8, "p2_var": 31.7, "t1_mean": 40.8},
              section="continuous_limit/dropout_ranking"),
    Reference("CL-F2", "continuous_limit", "Var Δ vs layer width n", {"loglog_slope": -1},
              section="continuous_limit/width"),
    Reference("CL-ALG", "continuous_limit", "Algorithm 1 on MNIST, ε = 9e-3, δ = 1e-5",
              {"R": 20, "n1": 500, "lambda": 1e-6, "mu": 1e-10, "psi": (1e-4, 1e-2)},
              section="continuous_limit/certification"),
    Reference("CL-REG", "continuous_limit", "Var Δ bound as a regularizer vs dropout", {"claim": "similar resilience"},
              section="continuous_limit/regularizers"),
    Reference("CL-CONT", "continuous_limit", "continuity regularizer (supplement Fig 2-4)", {"accuracy_before": 98, "accuracy_after": 90, "slope_D": -1, "slope_H": -2},
              section="continuous_limit/continuity"),
    Reference("CL-B", "continuous_limit", "bounds b1-b4: rank loss and relative error (supplement Fig 5-6)", {"claim": "b3, b4 meaningful; b4 ≥ b3"},
              section="continuous_limit/bounds"),
    Reference("CL-ARCH", "continuous_limit", "log Var Δ for VGG16, VGG19, MobileNet at p = 1e-2",
              {"vgg16": -18.7, "vgg19": -18.4, "mobilenet": -9.1}, section="continuous_limit/architectures"),
    Reference("CL-SUP", "continuous_limit", "error superposition across layers (supplement Fig 11)", {"claim": "few % relative error"},
              section="continuous_limit/theorem1"),
    Reference("CL-AP9", "continuous_limit", "E Δ decays with the loss gradient during training (supplement Fig 12)",
              {"claim": "b3 ≈ b4 ≈ experiment"},
              section="continuous_limit/training_decay"),
    # snn_patterns
    # snn_patterns (values exactly as printed; accuracies are fractions in this paper)
    Reference("SNN-T1/T2", "snn_patterns", "hyperparameters and pattern-generation settings",
              {"arch": "784x128x10", "lr": 1e-3, "epochs": 20, "batch": 64, "test_reps": 20,
               "time_window": 20, "inference_time": 5, "different_time": 4, "pattern_number": 100},
              section="snn_patterns/method"),
    Reference("SNN-A1", "snn_patterns", "Algorithm 1 gen_pattern", {}, section="snn_patterns/method"),
    # Table 3 as printed: the FIR column reads "0.3" and "0.5" (0.03 and 0.05 in the text) and the
    # second row has only four numbers (the baseline does not depend on the FIR).
    Reference("SNN-T3", "snn_patterns", "fault-free accuracy of baseline / previous / proposed",
              {"accuracy": 0.97, "baseline": 0.971,
               "fir0.03": {"previous HSF": 0.974, "previous NASF": 0.973, "proposed HSF": 0.974, "proposed NASF": 0.975},
               "fir0.05": {"previous HSF": 0.973, "previous NASF": 0.964, "proposed HSF": 0.967, "proposed NASF": 0.968}},
              section="snn_patterns/accuracy"),
    # Table 4: per fault ratio, (baseline, previous FIR 0.03, previous FIR 0.05, proposed FIR 0.03, proposed FIR 0.05)
    Reference("SNN-T4", "snn_patterns", "mean accuracy over 10 fault sets, HSF 0.2-0.5, NASF 0.03-0.15",
              {"nasf_0.15": (0.3403, 0.6280, 0.6902, 0.7987, 0.8347),
               "HSF": {0.2: (0.9271, 0.9435, 0.9491, 0.9498, 0.9510), 0.3: (0.8800, 0.8934, 0.9088, 0.9181, 0.9214),
                       0.4: (0.8195, 0.8530, 0.8542, 0.8880, 0.8804), 0.5: (0.7168, 0.7889, 0.7602, 0.8139, 0.7897)},
               "NASF": {0.03: (0.9079, 0.9592, 0.9570, 0.9646, 0.9593), 0.05: (0.8532, 0.9472, 0.9427, 0.9616, 0.9509),
                        0.10: (0.5543, 0.8016, 0.8499, 0.8735, 0.9079), 0.15: (0.3403, 0.6280, 0.6902, 0.7987, 0.8347)}},
              section="snn_patterns/accuracy"),
    Reference("SNN-F3", "snn_patterns", "accuracy per fault instance, baseline vs previous vs proposed",
              {"claim": "proposed ≥ previous, gap grows with fault ratio"}, section="snn_patterns/accuracy"),
    # Tables 5-8: per fault ratio, (previous s, proposed with pattern generation s, proposed without s,
    # epochs needed, time reduction ratio %). Table 8's header repeats "FIR = 0.03"; its caption says 0.05.
    Reference("SNN-T5-T8", "snn_patterns", "CPU run time, epochs needed, time reduction ratio",
              {"nasf_fir0.03_ratio0.15_reduction_pct": 89.18,
               "NASF FIR 0.03": {0.03: (1948.02, 2280.24, 1715.21, 16, 11.95), 0.05: (2187.94, 2410.26, 1699.07, 16, 22.34),
                                 0.10: (2127.99, 2498.39, 585.46, 5, 72.49), 0.15: (1765.30, 2222.85, 191.00, 1, 89.18)},
               "NASF FIR 0.05": {0.03: (1708.46, 1980.48, 1908.48, 20, -11.71), 0.05: (1742.72, 2400.38, 1948.01, 20, -11.78),
                                 0.10: (1617.79, 1919.36, 340.86, 3, 78.93), 0.15: (1857.12, 2166.75, 195.66, 1, 89.46)},
               "HSF FIR 0.03": {0.2: (1695.65, 2930.16, 1880.42, 20, -10.90), 0.3: (1766.49, 2948.36, 1855.86, 20, -5.06),
                                0.4: (1792.68, 2880.10, 1862.08, 20, -3.87), 0.5: (1821.97, 2876.92, 1927.42, 20, -5.79)},
               "HSF FIR 0.05": {0.2: (1856.91, 2552.15, 1341.46, 13, 27.76), 0.3: (1839.59, 2557.41, 868.36, 8, 52.80),
                                0.4: (1829.27, 2590.57, 774.41, 7, 57.67), 0.5: (1678.04, 2350.01, 1298.80, 14, 22.60)}},
              section="snn_patterns/convergence"),
]

# Beyond the papers: findings of the book's own study (no paper value; the verdict is the finding's confidence)
_MF, _TH = "beyond/methods_faults", "beyond/theory"
_REFS += [
    Reference("BEY-RANK", "beyond", "training methods differ in fault tolerance across all fault models (ranking, Friedman)",
              section=_MF),
    Reference("BEY-BEST", "beyond", "the top-ranked method retains more accuracy than no regularization", section=_MF),
    Reference("BEY-AFT", "beyond", "adversarial_ft's claim beyond stuck-at-0: the two-phase method beats L1 and L2 "
              "under the other fault models", section=_MF),
    Reference("BEY-FAT", "beyond", "fault-aware training transfers to fault models it was not trained with",
              section=_MF),
    Reference("BEY-REG", "beyond", "continuous_limit's Var Δ regularizer protects against Bernoulli crashes (its "
              "target) and against the other fault models", section=_MF),
    Reference("BEY-TRADE", "beyond", "robustness costs clean accuracy (trade-off over all models)", section=_MF),
    Reference("BEY-B3", "beyond", "continuous_limit's first-order Var Δ (b3) ranks models by their damage under "
              "Bernoulli crashes", section=_TH),
    Reference("BEY-B3X", "beyond", "b3 ranks models by their damage under the other fault models", section=_TH),
    Reference("BEY-GEN", "beyond", "adversarial_ft's hypothesis over the whole population: lower generalization "
              "error, more fault tolerance", section=_TH),
    Reference("BEY-SNN-RANK", "beyond", "spiking training methods differ in fault tolerance across all fault models",
              section="beyond/spiking"),
    Reference("BEY-SNN-FAT", "beyond", "snn_patterns' fault-aware training protects beyond the spiking fault it "
              "was trained with", section="beyond/spiking"),
    Reference("BEY-SNN-PAT", "beyond", "snn_patterns' pattern generation adds protection to fault-aware training, "
              "under its own fault and the others", section="beyond/spiking"),
]

REFERENCES: dict[str, Reference] = {r.id: r for r in _REFS}


SNN_PATTERNS_SETTINGS: dict[str, Any] = {"source": "fault_tolerant.py, commit 191a87ba872e2970590541a776ba89d898780784",
    "num_steps": 10, "neuron": "mem = 0.2*mem*(1-spike) + W x; spike if mem > 0.5; rect surrogate (0, 1); "
                    "no bias",
    "fault_population": {"inputs": 784, "hidden": 128, "output": 0, "count": "int(912 * ratio)"},
    "hsf": "spike probability (pixel) or input current (hidden) x 0.1",
    "nasf": "spikes at every step (pixel probability 1; hidden current factor 0 + offset 5)",
    "evaluation": {"fault_sets": 10, "test_images": 10_000, "passes_per_set": 1},
    "previous_training": "a new fault set every batch; cross-entropy of the faulty pass only",
    "keep_rule": {"iterations": 20, "step": "x + 0.1 * sign(grad_ff - grad_ft)", "checks": 5,
                  "reps_per_check": 20, "min_checks": 4,
                  "condition": "fault-free != faulty and fault-free correct",
                  "hotelling_t2": "defined, never called"},
    "saved_model": "the epoch with the best validation accuracy (20 % of the training split held out)",
    "convergence_stop": "a fresh model on the data plus the stored patterns; after every epoch the mean accuracy "
                        "over the 10 fault sets that graded the previous model; stop at the first epoch reaching "
                        "the previous model's"}
"""The settings that produced snn_patterns' Tables 3-8: facts of the authors' public script
``fault_tolerant.py`` (GitHub samsam779/Fault-tolerant_Training_with_Adversarial_Attack_Patterns, commit
191a87b; ``shared/data/snn_patterns_authors/PROVENANCE.md``). Table 2's "time window 20" is the 20 iterations
of pattern generation and its "test repetition 20" the repetitions averaged per check, not the simulation
window (10 steps) nor the evaluation (one pass per fault set)."""


def get(id_: str) -> Reference:
    """The reference entry for checklist id ``id_`` (KeyError with the known ids otherwise)."""
    try:
        return REFERENCES[id_]
    except KeyError:
        raise KeyError(f"unknown checklist id {id_!r}; known: {', '.join(REFERENCES)}") from None
