"""The non-spiking "beyond the papers" study: the configuration ``beyond/methods_faults`` and ``beyond/theory``
share (:data:`ANN`, a :class:`~ftlib.experiments.beyond._pipeline.Study`).

- **data and networks**: FashionMNIST, adversarial_ft's Architecture 1 (MLP
  784-512-1024-512-10) and Architecture 2 (CNN); training settings (epochs,
  subset, batch, Adam lr, Phase I) named like adversarial_ft's Table 2 settings
  and passed to *its* configuration functions
  (:func:`ftlib.experiments.adversarial_ft._config.baseline_config`,
  :func:`~ftlib.experiments.adversarial_ft._config.phase1_config`), so a profile with
  adversarial_ft's settings trains exactly its models (the same cache entries;
  the ``smoke`` and ``paper`` profiles do, see :func:`shares_adversarial_ft`);
- **methods** (:data:`METHODS`): none, L1 (Lasso), L2 (Tikhonov), dropout
  (unscaled, on the last hidden layer, continuous_limit's Table 2 setting),
  adversarial_ft's two-phase method, fault-aware training (snn_patterns'
  "previous work" [5] for non-spiking nets: clean loss + loss under a fresh
  faulty instance per batch), continuous_limit's Var Δ regularizer (b3 of the
  last hidden layer) and its continuity regularizer;
- **fault models** (:data:`FAULTS`, ``ftlib.faults.catalog``): stuck-at-0
  weights / filters (CNN only) / nodes, Bernoulli crashes, conditionally-uniform
  and erasure deviations, int8 bit flips; each at one stated severity (the heat
  map) and over a short range of rates around it (the bands);
- **seeds**: ``n_seeds`` training seeds per (architecture, method); all models
  meet the *same* fault draws (common random numbers: the sweep seed is the
  run's ``seed``), so differences between methods are paired.
"""

from __future__ import annotations

from types import SimpleNamespace

from ... import adversarial as adv
from ... import methods
from ...data import load
from ...faults.catalog import CATALOG, FAULT_NAMES, by_name
from ...params import Param, Settings
from ...store import Store
from ...training import TrainConfig, Trained, train
from ..adversarial_ft import _config as aft
from ..common import cached_sweep
from ._pipeline import Study, seeds

ARCHS = ("aft_arch1", "aft_arch2")
ARCH_LABELS = {"aft_arch1": "MLP (Arch. 1)", "aft_arch2": "CNN (Arch. 2)"}
DATASET = "fashion_mnist"

METHODS = methods.METHOD_NAMES
"""The training methods of the study: every method of the catalogue (:mod:`ftlib.methods`)."""
METHOD_LABELS = {m: methods.get(m).label for m in METHODS}
METHOD_PAPER = {m: methods.get(m).paper for m in METHODS}
"""Which paper proposes or compares each method."""

FAULTS = FAULT_NAMES
"""Every fault model of the shared engine (stuck-at-0 weights, filters, nodes, Bernoulli crashes,
conditionally-uniform, erasure, int8 bit flips)."""

LAST_HIDDEN = {"aft_arch1": "6", "aft_arch2": "8"}
"""The module name of the last hidden activation (the input of the output layer) of each architecture:
where dropout acts and where the Var Δ regularizer measures (the FC layer of both)."""


def applies(arch: str, fault: str) -> bool:
    """Whether ``fault`` has sites in ``arch`` (filters exist only in the CNN)."""
    return not (fault == "stuck_filters" and arch == "aft_arch1")


def fault_label(fault: str) -> str:
    return CATALOG[fault][0]


def aft_settings(s: Settings, seed: int) -> SimpleNamespace:
    """The study's settings in the shape adversarial_ft's configuration functions read, for one seed."""
    return SimpleNamespace(
        epochs=s.epochs, cnn_epochs=s.cnn_epochs, batch_size=s.batch_size, lr=s.lr, n_train=s.n_train,
        n_test=s.n_test, tikhonov_lambdas=[s.l2], lasso_lambdas=[s.l1], cnn_tikhonov_lambdas=[s.l2],
        cnn_lasso_lambdas=[s.l1], phase1_epochs=s.phase1_epochs, cnn_phase1_epochs=s.cnn_phase1_epochs,
        phase1_n_train=s.phase1_n_train, phase1_iters=s.phase1_iters, phase1_lr=s.phase1_lr,
        disc_lr=s.disc_lr, disc_steps=s.disc_steps, seed=seed, cifar=False)


def shares_adversarial_ft(s: Settings, aft_profile: str) -> bool:
    """True when the study's none / L1 / L2 / adversarial models of ``s.seed`` are exactly the models of
    adversarial_ft's Table 2 in ``aft_profile`` (same TrainConfigs, hence the same cache entries)."""
    from ..adversarial_ft.adversarial_framework import SECTION as T2

    t2 = Settings({**T2.profiles[aft_profile], "seed": s.seed})
    ours = aft_settings(s, s.seed)
    for arch in ARCHS:
        if aft.phase1_config(t2, arch) != aft.phase1_config(ours, arch):
            return False
        a = aft.arch_settings(t2, arch)
        if aft.baseline_config(t2, arch, "tikhonov", 0.0) != aft.baseline_config(ours, arch, "tikhonov", 0.0):
            return False
        if s.l1 not in a["lasso"] or s.l2 not in a["tikhonov"]:
            return False
    return True


def train_config(s: Settings, arch: str, method: str, seed: int) -> TrainConfig:
    """The TrainConfig of ``method`` on ``arch`` (every method but ``adversarial``, which is two-phase)."""
    base = aft.baseline_config(aft_settings(s, seed), arch, "tikhonov", 0.0)
    values = {"none": {}, "l1": {"l1": s.l1}, "l2": {"l2": s.l2},
              "dropout": {"dropout": s.dropout, "dropout_layer": LAST_HIDDEN[arch]},
              "fault_aware": {"fault_train": s.fault_train, "fault_train_rate": s.fault_train_rate},
              "var_reg": {"var_reg": s.var_reg, "var_layers": (LAST_HIDDEN[arch],)},
              "continuity": {"continuity": tuple(s.continuity)}}
    methods.get(method)  # an unknown name: one ParameterError listing the catalogue
    return methods.configure(method, base, **values.get(method, {}))


def train_method(s: Settings, arch: str, method: str, seed: int, store: Store) -> tuple[Trained, float]:
    """Train (or load) one model; returns it and its total training seconds (Phase I included)."""
    if method == "adversarial":
        a = aft_settings(s, seed)
        pre = adv.pretrain(aft.phase1_config(a, arch), store)
        aa = aft.arch_settings(a, arch)
        t = adv.finetune(pre, aa["epochs"], s.batch_size, s.lr, aa["n_train"], seed, store)
        return t, t.wall_time_s + pre.wall_time_s
    t = train(train_config(s, arch, method, seed), store)
    return t, t.wall_time_s


def eval_set(s: Settings):
    """The evaluation images (the first ``n_test`` of a seeded FashionMNIST test subset), shared by every model."""
    ds = load(DATASET, "test").subset(s.n_test or None, seed=s.seed)
    return ds.x, ds.y, {"dataset": DATASET, "split": "test", "n": s.n_test, "seed": s.seed}



def _train_row(s: Settings, arch: str, method: str, seed: int, store: Store, evaluation) -> tuple[Trained, dict]:
    """One model of the population and its row: train / test accuracy (%) on the shared evaluation images,
    generalization error (pp), training seconds (Phase I included), cached."""
    x, y, _ = evaluation
    t, secs = train_method(s, arch, method, seed, store)
    test_acc = aft.test_accuracy(aft_settings(s, s.seed), t, arch, store, test=(x, y, s.n_test))
    return t, {"train_acc": 100 * t.train_acc, "test_acc": test_acc, "gen_error": 100 * t.train_acc - test_acc,
               "train_seconds": secs, "cached": t.from_cache}


def _sweep(store: Store, t: Trained, fault: str, rates, x, y, draws: int, seed: int, data_id: dict):
    """:func:`ftlib.experiments.common.cached_sweep` under the catalog's fault model ``fault``."""
    return cached_sweep(store, t, by_name(fault), rates, x, y, draws, seed, data_id)


ANN = Study(archs=ARCHS, methods=METHODS, faults=FAULTS, severities="severities",
            units=lambda s: [(a, m, seed) for a in ARCHS for m in METHODS for seed in seeds(s)],
            train=_train_row, sweep=_sweep, eval_set=eval_set, applies=applies)
"""The non-spiking study: every (architecture, method, seed) of this module's settings, every fault model of
the catalog that has sites in the architecture."""


SECTION_PARAMS = (
    Param("n_seeds", int, "training seeds per architecture and method (seed, seed+1, ...)", low=1, high=100),
    Param("epochs", int, "training epochs of the MLP (Architecture 1) models, Phase II included", low=1,
          high=10_000),
    Param("cnn_epochs", int, "training epochs of the CNN (Architecture 2) models", low=1, high=10_000),
    Param("batch_size", int, "mini-batch size", low=1, high=60_000),
    Param("lr", float, "Adam learning rate", low=1e-7, high=1.0),
    Param("n_train", int, "FashionMNIST training images (0 = all 60,000)", low=0, high=60_000),
    Param("n_test", int, "FashionMNIST test images every model is evaluated on (0 = all 10,000)", low=0,
          high=10_000),
    Param("l1", float, "Lasso strength λ₁ of the L1 method", low=0.0, high=10.0),
    Param("l2", float, "Tikhonov strength λ₂ of the L2 method", low=0.0, high=10.0),
    Param("dropout", float, "unscaled dropout probability on the last hidden layer", low=0.0, high=0.99),
    Param("fault_train", str, "fault model injected by fault-aware training", choices=FAULT_NAMES),
    Param("fault_train_rate", float, "its rate during training", low=1e-6, high=1.0),
    Param("var_reg", float, "λ of the Var Δ (b3) regularizer on the last hidden layer", low=0.0, high=1e6),
    Param("continuity", list, "continuity regularizer ψ as [psi_D, psi_S]", item=float, low=0.0, high=10.0),
    *aft.PHASE1_PARAMS,
    Param("severities", list, "heat-map severity of each fault model, in the order stuck_weights stuck_filters "
          "stuck_nodes crash uniform erasure bitflip", item=float, low=0.0, high=1.0),
    Param("band_factors", list, "rates of the bands as multiples of each severity", item=float, low=0.0, high=100.0),
    Param("draws", int, "fault draws per rate and model", low=2, high=10_000),
    Param("n_theory", int, "evaluation images on which b3 is computed per model", low=1, high=10_000),
    Param("n_perm", int, "permutations of the correlation tests", low=99, high=1_000_000),
)

_SEVERITIES = [0.5, 0.4, 0.6, 0.6, 0.1, 0.3, 0.1]
_METHOD_SETTINGS = dict(dropout=0.3, fault_train="stuck_nodes", fault_train_rate=0.3, var_reg=0.2,
                        continuity=[1e-6, 1e-5], phase1_lr=1e-3, disc_lr=5e-5, disc_steps=1)
PROFILES = {
    # smoke: adversarial_ft's smoke settings (the same none / L1 / L2 / adversarial models of seed 0)
    "smoke": dict(_METHOD_SETTINGS, n_seeds=2, epochs=1, cnn_epochs=1, batch_size=256, lr=1e-3, n_train=2000,
                  n_test=200, l1=1e-3, l2=1e-3, phase1_epochs=1, cnn_phase1_epochs=1, phase1_n_train=2000,
                  phase1_iters=3, severities=_SEVERITIES, band_factors=[1.0], draws=2, n_theory=20, n_perm=99),
    "quick": dict(_METHOD_SETTINGS, n_seeds=3, epochs=2, cnn_epochs=2, batch_size=128, lr=1e-3, n_train=2000,
                  n_test=500, l1=1e-4, l2=1e-3, phase1_epochs=1, cnn_phase1_epochs=1, phase1_n_train=2000,
                  phase1_iters=0, severities=_SEVERITIES, band_factors=[0.5, 1.5], draws=2, n_theory=200,
                  n_perm=2000),
    # paper: adversarial_ft's paper settings (its Table 2 models are the none / L1 / L2 / adversarial models of seed 0)
    "paper": dict(_METHOD_SETTINGS, n_seeds=5, epochs=50, cnn_epochs=50, batch_size=128, lr=1e-3, n_train=0,
                  n_test=0, l1=1e-4, l2=1e-3, phase1_epochs=2000, cnn_phase1_epochs=2000, phase1_n_train=0,
                  phase1_iters=0, severities=_SEVERITIES, band_factors=[0.25, 0.5, 1.5, 2.0], draws=20,
                  n_theory=1000, n_perm=10_000),
}

