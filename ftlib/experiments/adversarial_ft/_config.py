"""adversarial_ft (Duddu, Rao, Balas): the configuration its three sections share.

The architectures and their datasets (Section 6.2), the training configurations of
the baselines (Table 1's regularized models, Table 2's baselines) and of the
proposed two-phase method's Phase I, the evaluation sets, the cached test
accuracy, the statistics of its verdicts, the parameters and profiles of
Table 2's models (shared by ``adversarial_framework``, ``faults`` and the
"beyond" study) and the axes of the fault figures (Figures 2 and 7).

Choices where the paper is silent (one place, shown in the book): softmax
cross-entropy loss, Adam (lr from the profile), batch size from the profile,
penalty on weights but not biases, inputs scaled to [0, 1], no augmentation,
training accuracy measured in eval mode after the last epoch. Baselines
(none / Lasso / Tikhonov) of Table 2 are trained exactly like Table 1's models;
for Architecture 1 they *are* Table 1's models (the same cache entries). The
proposed model's Phase II uses the paper's ‖softmax(f(x)) − onehot(y)‖²; Phase I:
prior N(0, I), k = ``disc_steps`` discriminator steps (:mod:`ftlib.adversarial`).
"""

from __future__ import annotations


from ... import adversarial as adv
from ... import methods
from ...data import load
from ...params import Param, Settings
from ...store import Store
from ...training import TRAINING_CODE, TrainConfig, Trained, accuracy

DATASET = "fashion_mnist"
LOSS = "ce"

ARCH_DATA = {"aft_arch1": "fashion_mnist", "aft_arch2": "fashion_mnist", "aft_arch3": "cifar10",
             "aft_arch4": "cifar10"}
"""The dataset of each architecture (Section 6.2)."""

METHODS = ("none", "lasso", "tikhonov", "proposed")


def regularized_config(s: Settings, regularizer: str, lam: float, arch: str = "aft_arch1",
                       epochs: int | None = None) -> TrainConfig:
    """The training configuration of one Table 1 cell (``regularizer`` is ``"tikhonov"`` or ``"lasso"``)."""
    return TrainConfig(
        arch=arch, dataset=DATASET, epochs=epochs or s.epochs, batch_size=s.batch_size, lr=s.lr, n_train=s.n_train,
        l1=lam if regularizer == "lasso" else 0.0, l2=lam if regularizer == "tikhonov" else 0.0,
        loss=LOSS, seed=s.seed,
    )



def arch_settings(s: Settings, arch: str) -> dict:
    """Epochs, data sizes, λ grids and Phase-I length of ``arch`` under settings ``s``."""
    if arch == "aft_arch1":
        return dict(epochs=s.epochs, n_train=s.n_train, n_test=s.n_test, tikhonov=s.tikhonov_lambdas,
                    lasso=s.lasso_lambdas, phase1_epochs=s.phase1_epochs, phase1_iters=s.phase1_iters,
                    phase1_n_train=s.phase1_n_train, arch_kwargs={})
    if arch == "aft_arch2":
        return dict(epochs=s.cnn_epochs, n_train=s.n_train, n_test=s.n_test, tikhonov=s.cnn_tikhonov_lambdas,
                    lasso=s.cnn_lasso_lambdas, phase1_epochs=s.cnn_phase1_epochs, phase1_iters=s.phase1_iters,
                    phase1_n_train=s.phase1_n_train, arch_kwargs={})
    kw = {"width": s.cifar_width} if arch == "aft_arch3" and s.cifar_width != 1.0 else {}
    return dict(epochs=s.cifar_epochs, n_train=s.cifar_n_train, n_test=s.cifar_n_test, tikhonov=s.cnn_tikhonov_lambdas,
                lasso=s.cnn_lasso_lambdas, phase1_epochs=s.cifar_phase1_epochs, phase1_iters=s.cifar_phase1_iters,
                phase1_n_train=s.cifar_n_train, arch_kwargs=kw)


def table2_archs(s: Settings) -> tuple[str, ...]:
    """The architectures this run trains (Architectures 3-4 only when ``s.cifar``)."""
    return ("aft_arch1", "aft_arch2") + (("aft_arch3", "aft_arch4") if s.cifar else ())


def baseline_config(s: Settings, arch: str, regularizer: str, lam: float) -> TrainConfig:
    """A baseline of Table 2 (``regularizer`` ``"lasso"``/``"tikhonov"``, λ = 0 is "none"); for Architectures 1-2
    this is exactly :func:`regularized_config` (Table 1's / Figure 2's models)."""
    a = arch_settings(s, arch)
    plain = TrainConfig(arch=arch, dataset=ARCH_DATA[arch], epochs=a["epochs"], batch_size=s.batch_size, lr=s.lr,
                        n_train=a["n_train"], loss=LOSS, seed=s.seed, arch_kwargs=a["arch_kwargs"])
    method = {"lasso": "l1", "tikhonov": "l2"}[regularizer]  # the training-method catalogue's names
    return methods.configure(method, plain, **{method: lam})


def phase1_config(s: Settings, arch: str) -> adv.AdversarialConfig:
    """Phase I of the proposed model of ``arch``."""
    a = arch_settings(s, arch)
    return adv.AdversarialConfig(arch=arch, dataset=ARCH_DATA[arch], epochs=a["phase1_epochs"],
                                 batch_size=s.batch_size, lr=s.phase1_lr, disc_lr=s.disc_lr, disc_steps=s.disc_steps,
                                 n_train=a["phase1_n_train"], max_iters=a["phase1_iters"], seed=s.seed,
                                 arch_kwargs=a["arch_kwargs"])


def eval_set(s: Settings, arch: str):
    """The test set of ``arch`` for this run (tensors) and its size setting."""
    n_test = arch_settings(s, arch)["n_test"]
    ds = load(ARCH_DATA[arch], "test").subset(n_test or None, seed=s.seed)
    return ds.x, ds.y, n_test


def test_accuracy(s: Settings, trained: Trained, arch: str, store: Store, test=None) -> float:
    """Test accuracy (%) of ``trained``, cached under the same key as Table 1's evaluations."""
    x, y, n_test = test if test is not None else eval_set(s, arch)
    key = {"train": trained.config.__dict__, "test_n": n_test, "seed": s.seed}
    if ARCH_DATA[arch] != DATASET:
        key["dataset"] = ARCH_DATA[arch]
    return 100 * store.cached_result("eval", key, lambda: accuracy(trained.model, x, y), code=TRAINING_CODE)



def test_set(s: Settings):
    """The Fashion-MNIST test images (N, 1, 28, 28) and labels (N,) of this run, and their cache identity."""
    ds = load(DATASET, "test").subset(s.n_test or None, seed=s.seed)
    return ds.x, ds.y, {"dataset": DATASET, "split": "test", "n": s.n_test, "seed": s.seed}


CLAIM_ALPHA = 0.05
"""A "model A keeps more accuracy than model B under the faults" claim of Figures 2 and 7 is reproduced when
the paired difference over the shared fault draws is positive with one-sided p below this level (a point
estimate inside the draw-to-draw noise is not evidence either way)."""


def claim_note(mean: float, p: float) -> str:
    if p < CLAIM_ALPHA:
        return ""
    return "the difference is within the fault-draw noise" if mean > 0 else "the difference has the other sign"



def paper_point(ax, x: float, y: float, line, label: str) -> None:
    """The paper's quoted value as a cross in the colour of our band ``line``."""
    ax.plot([x], [y], marker="x", ms=8, ls="none", color=line.get_color(), label=f"{label} (paper)")


def finish_fault_panels(fig, axes):
    """Axes of the accuracy-vs-fault-fraction panels of Figures 2 and 7: labels, 0-100 %, one legend."""
    for ax in axes:
        ax.set_xlabel("fraction of faults")
        ax.set_ylim(0, 100)
    axes[0].set_ylabel("test accuracy (%)")
    axes[-1].legend(fontsize=6)
    fig.tight_layout()
    return fig



PHASE1_PARAMS = (
    Param("phase1_epochs", int, "Phase-I epochs of Architecture 1", low=1, high=100_000),
    Param("cnn_phase1_epochs", int, "Phase-I epochs of Architecture 2", low=1, high=100_000),
    Param("phase1_n_train", int, "FashionMNIST images of Phase I (0 = all)", low=0, high=60_000),
    Param("phase1_iters", int, "cap on FashionMNIST Phase-I iterations (0 = none)", low=0, high=10**8),
    Param("phase1_lr", float, "Adam learning rate of the reconstruction game", low=1e-7, high=1.0),
    Param("disc_lr", float, "learning rate of the discriminator and of the FE's adversarial step", low=1e-7, high=1.0),
    Param("disc_steps", int, "discriminator steps k per Phase-I iteration", low=1, high=100),
)
"""Phase I (the adversarial pre-training) settings of Architectures 1 and 2, shared by every section that
trains the two-phase method on FashionMNIST."""

T2_PARAMS = (
    Param("epochs", int, "supervised epochs of the Architecture 1 models (baselines and Phase II)", low=1, high=10_000),
    Param("cnn_epochs", int, "supervised epochs of the Architecture 2 models", low=1, high=10_000),
    Param("batch_size", int, "mini-batch size", low=1, high=60_000),
    Param("lr", float, "Adam learning rate of the supervised training", low=1e-7, high=1.0),
    Param("n_train", int, "FashionMNIST training images (0 = all 60,000)", low=0, high=60_000),
    Param("n_test", int, "FashionMNIST test images (0 = all 10,000)", low=0, high=10_000),
    Param("tikhonov_lambdas", list, "Tikhonov grid of Architecture 1", item=float, low=0.0, high=10.0),
    Param("lasso_lambdas", list, "Lasso grid of Architecture 1", item=float, low=0.0, high=10.0),
    Param("cnn_tikhonov_lambdas", list, "Tikhonov grid of the CNNs", item=float, low=0.0, high=10.0),
    Param("cnn_lasso_lambdas", list, "Lasso grid of the CNNs", item=float, low=0.0, high=10.0),
    *PHASE1_PARAMS,
    Param("cifar", bool, "also train Architectures 3 and 4 on CIFAR-10"),
    Param("cifar_width", float, "width multiplier of Architecture 3", low=0.01, high=4.0),
    Param("cifar_n_train", int, "CIFAR-10 training images (0 = all 50,000)", low=0, high=50_000),
    Param("cifar_n_test", int, "CIFAR-10 test images (0 = all 10,000)", low=0, high=10_000),
    Param("cifar_epochs", int, "supervised epochs of Architectures 3-4", low=1, high=10_000),
    Param("cifar_phase1_epochs", int, "Phase-I epochs of Architectures 3-4", low=1, high=100_000),
    Param("cifar_phase1_iters", int, "cap on CIFAR-10 Phase-I iterations (0 = none)", low=0, high=10**8),
)

_T2_COMMON = dict(phase1_lr=1e-3, disc_lr=5e-5, disc_steps=1, cifar_width=1.0)
T2_PROFILES = {
    # smoke and quick reuse the Architecture 1 models of Table 1 and the CNNs of Figure 2 (same settings)
    "smoke": dict(_T2_COMMON, epochs=1, cnn_epochs=1, batch_size=256, lr=1e-3, n_train=2000, n_test=500,
                  tikhonov_lambdas=[0.0, 1e-3], lasso_lambdas=[0.0, 1e-3], cnn_tikhonov_lambdas=[1e-3],
                  cnn_lasso_lambdas=[1e-3], phase1_epochs=1, cnn_phase1_epochs=1, phase1_n_train=2000,
                  phase1_iters=3, cifar=False, cifar_n_train=1000, cifar_n_test=500, cifar_epochs=1,
                  cifar_phase1_epochs=1, cifar_phase1_iters=3),
    "quick": dict(_T2_COMMON, epochs=6, cnn_epochs=2, batch_size=128, lr=1e-3, n_train=20_000, n_test=5000,
                  tikhonov_lambdas=[0.0, 1e-4, 1e-3, 0.1], lasso_lambdas=[0.0, 1e-4, 1e-3, 1e-2],
                  cnn_tikhonov_lambdas=[1e-4, 1e-3], cnn_lasso_lambdas=[1e-4, 1e-3], phase1_epochs=2,
                  cnn_phase1_epochs=1, phase1_n_train=20_000, phase1_iters=0, cifar=False, cifar_width=0.25,
                  cifar_n_train=10_000, cifar_n_test=2000, cifar_epochs=5, cifar_phase1_epochs=2,
                  cifar_phase1_iters=0),
    "paper": dict(_T2_COMMON, epochs=50, cnn_epochs=50, batch_size=128, lr=1e-3, n_train=0, n_test=0,
                  tikhonov_lambdas=[0.0, 1e-4, 1e-3, 0.1], lasso_lambdas=[0.0, 1e-4, 1e-3, 1e-2],
                  cnn_tikhonov_lambdas=[1e-4, 1e-3, 0.1], cnn_lasso_lambdas=[1e-4, 1e-3, 1e-2],
                  phase1_epochs=2000, cnn_phase1_epochs=2000, phase1_n_train=0, phase1_iters=0, cifar=True,
                  cifar_n_train=0, cifar_n_test=0, cifar_epochs=50, cifar_phase1_epochs=26,
                  cifar_phase1_iters=10_000),
}

FAULT_PARAMS = (
    Param("fault_rates", list, "fault fractions of Figure 7", item=float, low=0.0, high=1.0),
    Param("fault_draws", int, "faulty instances per fault fraction", low=2, high=10_000),
)
FAULT_PROFILES = {"smoke": dict(fault_rates=[0.0, 0.4], fault_draws=2),
                  "quick": dict(fault_rates=[0.0, 0.2, 0.4, 0.6, 0.8, 0.9], fault_draws=5),
                  "paper": dict(fault_rates=[0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9], fault_draws=20)}

