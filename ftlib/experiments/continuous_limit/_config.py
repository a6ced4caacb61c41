"""continuous_limit (probabilistic fault tolerance in the continuous limit): what its sections share.

The networks (:mod:`ftlib.models.continuous_limit`, Definition 1): the original
code's sigmoid(4x)/ReLU, its init and MSE-on-linear-output training with Adam.
Crashes are the fault engine's Bernoulli crashes (Definition 3), transient (a
fresh crash set per input and draw), no rescaling; train-time dropout is the same
crash (unscaled). Choices where the paper is silent (shown in the book): batch
64 (Boston) / 128 (MNIST, Figure 2), Boston inputs standardised with the
training split's mean and std, raw MEDV targets; inputs of random networks
N(0, 1); crash probability and crashing layers per profile.

Here: the Boston and MNIST networks of the bounds (supplement Sec. 7) and of
Figure 2 (:func:`boston_config`, :func:`mnist_config`, :func:`random_network`),
the training configurations and metrics of Table 2's networks (shared by the
``dropout_ranking`` and ``regularizers`` sections: :func:`t2_config`,
:func:`evaluate_network`), and the parameter groups and profiles several
sections declare. These networks are tiny: their training runs single-threaded
(:func:`single_thread`), which on 2 shared cores is many times faster than
letting OpenMP split 100×784 products over contended threads.
"""

from __future__ import annotations

import contextlib

import torch

from ... import methods, regularizers, theory
from ...data import load
from ...faults import BernoulliCrash, FaultSession
from ...models import build
from ...params import Param, Settings
from ...store import Store
from ...training import TrainConfig, train

# ----------------------------------------------------------------------------- the networks of the bounds and Figure 2


def boston_standardization() -> tuple[list[float], list[float]]:
    """Mean and std (ddof 0) of each Boston feature on the fixed training split."""
    x = load("boston", "train").x.double()
    return [round(float(v), 6) for v in x.mean(0)], [round(float(v), 6) for v in x.std(0, unbiased=False)]


def boston_config(s: Settings, seed: int, epochs: int | None = None) -> TrainConfig:
    """A Boston sigmoid network 13-``boston_hidden``-1 (inputs standardised by :func:`boston_standardization`,
    MSE on the linear output, batch 64), seed ``seed``, trained ``epochs`` (default ``s.boston_epochs``) epochs."""
    shift, scale = boston_standardization()
    return TrainConfig(arch="cl_mlp", dataset="boston", epochs=epochs or s.boston_epochs, batch_size=64, lr=s.lr,
                       loss="mse", output="linear", seed=seed,
                       arch_kwargs={"widths": [13, *s.boston_hidden, 1], "activation": "sigmoid",
                                    "shift": shift, "scale": scale})


def boston_networks(s: Settings, store: Store | None = None):
    """``s.n_networks`` sigmoid networks trained on Boston from different initialisations (seeds)."""
    return [train(boston_config(s, s.seed + k), store) for k in range(s.n_networks)]


def boston_inputs(n: int, seed: int) -> torch.Tensor:
    """``n`` Boston test rows (a seeded subset), shape ``(n, 13)``."""
    return load("boston", "test").subset(n, seed=seed).x


def random_network(widths, activation: str, seed: int):
    """An untrained network of layer widths ``widths`` (the original init, seeded by ``seed``), in eval mode."""
    torch.manual_seed(seed)
    return build("cl_mlp", widths=list(widths), activation=activation).eval()


def mnist_config(s: Settings, width: int) -> TrainConfig:
    """Figure 2's MNIST sigmoid network 784-``width``-10 (MSE on the linear output, Adam 1e-3, batch 128)."""
    return TrainConfig(arch="cl_mlp", dataset="mnist", epochs=s.mnist_epochs, batch_size=128, lr=1e-3,
                       n_train=s.n_train, loss="mse", output="linear", seed=s.seed,
                       arch_kwargs={"widths": [784, width, 10], "activation": "sigmoid", "flatten": True})



# ----------------------------------------------------------------------------- Table 2's networks and metrics


@contextlib.contextmanager
def single_thread():
    """Run torch on one thread inside the block (restores the previous setting)."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(n)


def mlp_config(dataset: str, widths, s: Settings, seed: int, batch_size: int, **kw) -> TrainConfig:
    """A sigmoid network of layer widths ``widths`` on ``dataset`` (flattened inputs, MSE on the linear output,
    ``s.epochs``, ``s.lr``, ``s.n_train``); ``kw``: the regularizers and dropout of :class:`ftlib.training.TrainConfig`."""
    return TrainConfig(arch="cl_mlp", dataset=dataset, epochs=s.epochs, batch_size=batch_size, lr=s.lr,
                       n_train=s.n_train, loss="mse", output="linear", seed=seed,
                       arch_kwargs={"widths": [int(w) for w in widths], "activation": "sigmoid", "flatten": True}, **kw)


def _onehot(y, k=10):
    """One-hot targets of the labels ``y``: ``(B, k)``."""
    return torch.nn.functional.one_hot(y, k).float()


@torch.no_grad()
def correct_metrics(net, x, y) -> tuple[float, float]:
    """(MAE against the one-hot target, accuracy in %) of the crash-free network."""
    out = net(x)
    return float((out - _onehot(y)).abs().mean()), 100.0 * float((out.argmax(1) == y).double().mean())


@torch.no_grad()
def crashing_metrics(net, x, y, p: float, layer: str, reps: int, seed: int) -> tuple[float, float]:
    """(MAE, accuracy %) of the network with transient crashes at ``layer`` (probability p), over ``reps``
    repetitions of the data set (a fresh crash set per input and repetition)."""
    mae, acc = 0.0, 0.0
    with FaultSession(net, BernoulliCrash(layers=[layer], permanent=False)) as sess:
        for r in range(reps):
            sess.apply(p, torch.Generator().manual_seed(seed * 1000 + r))
            try:
                out = net(x)
            finally:
                sess.reset()
            mae += float((out - _onehot(y)).abs().mean())
            acc += 100.0 * float((out.argmax(1) == y).double().mean())
    return mae / reps, acc / reps


def t2_config(s: Settings, p_train: float, rep: int) -> TrainConfig:
    """Table 2's network 784-``hidden``-10 trained with unscaled dropout ``p_train`` on ``act1`` (repetition
    ``rep``: seed ``s.seed + rep``, batch 100)."""
    plain = mlp_config("mnist", [784, *s.hidden, 10], s, s.seed + rep, 100)
    return methods.configure("dropout", plain, dropout=p_train, dropout_layer="act1")


def evaluate_network(net, s: Settings, data: dict, seed: int, b4: bool = False) -> dict:
    """Every CL-T2 metric of one network: correct/crashing MAE and accuracy on the train/test evaluation
    subsets, and the bounds (T1 = b3, P2 = b1; optionally b4) averaged over ``n_bound`` test inputs."""
    row = {}
    for split in ("train", "test"):
        x, y = data[split]
        row[f"correct_mae_{split}"], row[f"correct_acc_{split}"] = correct_metrics(net, x, y)
        row[f"crash_mae_{split}"], row[f"crash_acc_{split}"] = crashing_metrics(net, x, y, s.p, "act1",
                                                                                 s.crash_reps, seed)
    xb = data["bound"]
    b3 = theory.first_order(net, xb, s.p, layers=["act1"])
    b1 = theory.spectral(net, xb, s.p, layers=["act1"])
    row.update(t1_mean=float(b3.mean.abs().mean()), t1_var=float(b3.var.mean()),
               p2_mean=float(b1.mean[:, 0].mean()), p2_var=float(b1.var[:, 0].mean()))
    if b4:
        row["b4_var"] = float(theory.single_crash(net, xb, s.p, layers=["act1"]).var.mean())
    row["weight_l2"] = float(sum(m.weight.detach().pow(2).sum() for m in regularizers.linear_layers(net)).sqrt())
    return row


def eval_data(s: Settings) -> dict:
    """The evaluation images of Table 2's networks: ``n_eval`` train and test images (``"train"``, ``"test"``:
    (x, y)) and the first ``n_bound`` test images for the bounds (``"bound"``)."""
    tr = load("mnist", "train").subset(s.n_eval, seed=s.seed + 1)
    te = load("mnist", "test").subset(s.n_eval, seed=s.seed + 2)
    return {"train": (tr.x, tr.y), "test": (te.x, te.y), "bound": te.x[:s.n_bound]}


# ----------------------------------------------------------------------------- parameters and profiles

COMMON_PARAMS = (Param("p", float, "crash probability of every crashing layer", low=1e-6, high=0.5),
                 Param("draws", int, "Monte Carlo crash sets per input", low=10, high=10_000_000),
                 Param("n_inputs", int, "inputs evaluated", low=2, high=10_000))
"""p, draws, n_inputs: the crash probability and the Monte Carlo scale (theorem1, bounds, width, tails, training_decay)."""
BOSTON_PARAMS = (Param("n_networks", int, "networks (different initialisations)", low=2, high=1000),
                 Param("boston_hidden", list, "hidden widths of the Boston networks", item=int, low=1, high=10_000),
                 Param("boston_epochs", int, "Boston training epochs", low=1, high=100_000),
                 Param("lr", float, "Adam learning rate for Boston", low=1e-6, high=1.0))
"""The Boston networks (bounds, tails, training_decay)."""
MNIST_PARAMS = (Param("widths", list, "hidden widths n of the MNIST networks", item=int, low=2, high=100_000),
                Param("mnist_epochs", int, "MNIST training epochs", low=1, high=1000),
                Param("n_train", int, "MNIST training images (0 = all)", low=0, high=60_000),
                Param("n_test", int, "MNIST test images for b3", low=10, high=10_000))
"""The MNIST networks of Figure 2 (width, tails)."""
TRAIN_PARAMS = (Param("epochs", int, "training epochs", low=1, high=1000),
                Param("n_train", int, "MNIST training images (0 = all 60,000)", low=0, high=60_000),
                Param("lr", float, "Adam learning rate", low=1e-6, high=1.0))
"""MNIST training (dropout_ranking, regularizers, continuity, certification)."""
T2_PARAMS = TRAIN_PARAMS + (
    Param("p", float, "crash probability at inference (first hidden layer)", low=1e-6, high=0.5),
    Param("hidden", list, "hidden widths", item=int, low=1, high=100_000),
    Param("p_train_max", float, "largest training dropout (grid linspace(0, p_train_max, n_p_train))", low=0.0,
          high=0.9),
    Param("n_p_train", int, "number of training dropout values", low=2, high=100),
    Param("reps", int, "repetitions (seeds) per setting", low=1, high=100),
    Param("crash_reps", int, "crash repetitions of the evaluation data for the experimental error", low=1, high=1000),
    Param("n_eval", int, "train and test images for MAE / accuracy", low=10, high=60_000),
    Param("n_bound", int, "test images for the bounds", low=2, high=10_000),
)
"""Table 2's networks and their evaluation (dropout_ranking, regularizers)."""
T2_PROFILES = {
    "smoke": dict(epochs=1, n_train=500, lr=1e-3, p=0.05, hidden=[100, 50], p_train_max=0.06, n_p_train=4, reps=2,
                  crash_reps=2, n_eval=200, n_bound=20),
    "quick": dict(epochs=10, n_train=10_000, lr=1e-3, p=0.05, hidden=[100, 50], p_train_max=0.06, n_p_train=10,
                  reps=2, crash_reps=6, n_eval=10_000, n_bound=200),
    "paper": dict(epochs=10, n_train=0, lr=1e-3, p=0.05, hidden=[100, 50], p_train_max=0.06, n_p_train=10, reps=10,
                  crash_reps=6, n_eval=60_000, n_bound=1000),
}
"""The profiles of :data:`T2_PARAMS`."""


def with_profiles(profiles: dict, **extra) -> dict:
    """``profiles`` with each profile updated by ``extra[profile]``."""
    return {k: {**v, **extra.get(k, {})} for k, v in profiles.items()}
