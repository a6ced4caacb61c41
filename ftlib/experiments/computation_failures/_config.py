"""computation_failures (Vialatte & Leduc-Primeau, COGNITIVE 2017): the configuration its two sections share.

The grid search (:func:`search`): every (L, N) of ``mlp_depths`` × ``mlp_widths``
and every (L, F) of ``cnn_depths`` × ``cnn_filters`` (kernel ``cnn_kernel``,
2×2 max pooling), each trained once with the paper's recipe (Adadelta,
batch 128, dropout, Glorot, clipped ReLU). Both sections use the same grid,
so ``fault_tolerance`` (V.B) reuses ``hyperparameters``' (V.A) trained models and
sweeps from the cache.

Deviations (:mod:`ftlib.faults`): transient, independent per scalar, on the
outputs of every Linear/Conv2d (pre-activations, pooling after), including
the output layer's logits — only the softmax is reliable (Section IV).
Conditionally-uniform draws use the fixed-point range ``value_range``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from ... import faults
from ...data import load
from ...distributed import train_many
from ...errors import ParameterError
from ...models.computation_failures import n_params
from ...params import Param, Settings
from ...stats import summarize
from ...store import Store
from ...training import TRAINING_CODE, TrainConfig, Trained, accuracy
from ..common import cached_sweeps

DATASET = "mnist"
OPTIMIZER = "adadelta"


# ----------------------------------------------------------------------------- configurations and data

def mlp_config(s: Settings, layers: int, neurons: int, activation: str = "crelu") -> TrainConfig:
    """The training configuration of MLP–``layers``–``neurons``."""
    return TrainConfig(arch="cf_mlp", dataset=DATASET, epochs=s.epochs, batch_size=s.batch_size, lr=s.lr,
                       n_train=s.n_train, seed=s.seed, optimizer=OPTIMIZER,
                       arch_kwargs={"layers": int(layers), "neurons": int(neurons), "activation": activation})


def cnn_config(s: Settings, layers: int, filters: int, pooling: str = "max", activation: str = "crelu") -> TrainConfig:
    """The training configuration of CNN–``layers``–C–2–``filters``–``pooling`` (C = ``s.cnn_kernel``)."""
    return TrainConfig(arch="cf_cnn", dataset=DATASET, epochs=s.epochs, batch_size=s.batch_size, lr=s.lr,
                       n_train=s.n_train, seed=s.seed, optimizer=OPTIMIZER,
                       arch_kwargs={"layers": int(layers), "kernel": int(s.cnn_kernel), "pool": 2,
                                    "filters": int(filters), "pooling": pooling, "activation": activation})


def model_name(cfg: TrainConfig) -> str:
    """The paper's naming: MLP–L–N or CNN–L–C–P–F–pool (plus the activation when it is not the clipped ReLU)."""
    a = cfg.arch_kwargs
    if cfg.arch == "cf_mlp":
        name = f"MLP-{a['layers']}-{a['neurons']}"
    else:
        name = f"CNN-{a['layers']}-{a['kernel']}-{a['pool']}-{a['filters']}-{a['pooling']}"
    return name + ("" if a.get("activation", "crelu") == "crelu" else f"-{a['activation']}")


def validation_set(s: Settings):
    """Validation images: training-split items *not* used for training (``n_val`` of them), and their identity.

    With ``n_train = 0`` (all 60,000 used for training) there is no held-out
    part and the validation set falls back to the test subset (said in the identity).
    """
    full = load(DATASET, "train")
    if s.n_train:
        used = full.subset(s.n_train, seed=s.seed).indices
        mask = torch.ones(len(full), dtype=torch.bool)
        mask[used] = False
        rest = mask.nonzero().flatten()
        pick = torch.from_numpy(np.sort(np.random.default_rng(s.seed).permutation(len(rest))[: s.n_val]))
        idx = rest[pick]
        return full.x[idx], full.y[idx], {"dataset": DATASET, "split": "train-heldout", "n_train": s.n_train,
                                           "n": s.n_val, "seed": s.seed}
    x, y, ident = test_set(s)
    return x, y, {**ident, "note": "test used as validation"}


def test_set(s: Settings):
    """The MNIST test images and labels of this run, and their cache identity."""
    ds = load(DATASET, "test").subset(s.n_test or None, seed=s.seed)
    return ds.x, ds.y, {"dataset": DATASET, "split": "test", "n": s.n_test, "seed": s.seed}


def uniform(s: Settings, value_range=None, layers=None) -> faults.ConditionallyUniform:
    """Conditionally-uniform deviations on ``value_range`` (default ``s.value_range``) before the activations."""
    return faults.ConditionallyUniform(layers=layers, value_range=tuple(value_range or s.value_range))


def erasure(layers=None) -> faults.Erasure:
    """Erasure deviations (output replaced by 0) before the activations."""
    return faults.Erasure(layers=layers)


# ----------------------------------------------------------------------------- model-size search

def search(s: Settings, kind: str, store: Store | None = None) -> tuple[pd.DataFrame, dict[str, Trained]]:
    """Train (or load) every model of the grid of ``kind`` (``"mlp"`` or ``"cnn"``).

    Returns a table (``model``, ``kind``, ``L``, ``width``, ``params``,
    ``val_error``, ``test_error``, ``train_seconds``, ``cached``) sorted by
    parameter count, and the trained models by name.
    """
    store = store or Store()
    xv, yv, vid = validation_set(s)
    xt, yt, tid = test_set(s)
    grid = ([mlp_config(s, L, n) for L in s.mlp_depths for n in s.mlp_widths] if kind == "mlp"
            else [cnn_config(s, L, f) for L in s.cnn_depths for f in s.cnn_filters])
    rows, models = [], {}
    # the family's trainings are independent: on the workers of ftlib.distributed when a cluster is configured
    for cfg, t in zip(grid, train_many(grid, store, desc=f"train {kind} family")):
        name = model_name(cfg)
        models[name] = t
        errs = {}
        for tag, (x, y, ident) in {"val": (xv, yv, vid), "test": (xt, yt, tid)}.items():
            errs[tag] = 1 - store.cached_result("eval", {"train": cfg.__dict__, "data": ident},
                                                lambda x=x, y=y: accuracy(t.model, x, y), code=TRAINING_CODE)
        a = cfg.arch_kwargs
        rows.append({"model": name, "kind": kind, "L": a["layers"],
                     "width": a.get("neurons", a.get("filters")), "params": n_params(t.model),
                     "val_error": errs["val"], "test_error": errs["test"], "train_seconds": t.wall_time_s,
                     "cached": t.from_cache})
    return pd.DataFrame(rows).sort_values("params", ignore_index=True), models


def best_per_depth(table: pd.DataFrame, k: int) -> pd.DataFrame:
    """The ``k`` models per depth L with the lowest deviation-free validation error (Figures 1–2's selection)."""
    return (table.sort_values(["L", "val_error", "params"]).groupby("L", sort=True).head(k)
            .reset_index(drop=True))


# ----------------------------------------------------------------------------- deviation sweeps

def deviation_sweeps(s: Settings, models: dict[str, Trained], names, fault: faults.FaultModel,
                     store: Store | None = None, rates=None) -> pd.DataFrame:
    """Error rate of each named model under ``fault`` for every p of ``rates`` (default ``s.rates``) × ``s.draws``.

    Tidy table: ``model``, ``rate``, ``draw``, ``error`` (fraction of the test
    set misclassified), ``accuracy``; cached per model.
    """
    store = store or Store()
    x, y, ident = test_set(s)
    names = list(names)
    sweeps = cached_sweeps(store, [(models[name], fault, rates or s.rates) for name in names], x, y, s.draws,
                           s.seed, ident)
    frames = [df.assign(model=name, error=1 - df["accuracy"]) for name, df in zip(names, sweeps)]
    return pd.concat(frames, ignore_index=True)


def error_summary(sweeps: pd.DataFrame, table: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per (model, p): mean error and its 95 % interval over draws (columns ``mean``, ``ci_low``, ``ci_high``, ...),
    joined with the model's ``L`` and ``params`` when ``table`` (from :func:`search`) is given."""
    out = summarize(sweeps, "error", groups="model")
    if table is not None:
        out = out.merge(table[["model", "L", "params"]], on="model", how="left")
    return out



COMMON_PARAMS = (
    Param("epochs", int, "training epochs per model", low=1, high=10_000),
    Param("batch_size", int, "mini-batch size", low=1, high=60_000),
    Param("lr", float, "Adadelta step multiplier (Keras: 1.0)", low=1e-4, high=10.0),
    Param("n_train", int, "training images used (0 = all 60,000; else the rest of the split is for validation)",
          low=0, high=60_000),
    Param("n_val", int, "held-out training images used to rank models by deviation-free error", low=1, high=60_000),
    Param("n_test", int, "test images of the deviation sweeps (0 = all 10,000)", low=0, high=10_000),
    Param("mlp_depths", list, "MLP depths L of the grid search", item=int, low=1, high=10),
    Param("mlp_widths", list, "MLP widths N of the grid search", item=int, low=1, high=8192),
    Param("cnn_depths", list, "CNN depths L of the grid search", item=int, low=1, high=3),
    Param("cnn_filters", list, "CNN feature maps F of the grid search", item=int, low=1, high=512),
    Param("cnn_kernel", int, "CNN kernel size C (pooling 2x2 max)", low=2, high=7),
    Param("rates", list, "deviation probabilities p", item=float, low=0.0, high=1.0),
    Param("draws", int, "independent deviation draws per p (each over the whole test set)", low=2, high=10_000),
    Param("value_range", list, "fixed-point range (low, high) of conditionally-uniform draws", item=float,
          low=-1e3, high=1e3),
)

GRID = {
    "smoke": dict(epochs=1, batch_size=128, lr=1.0, n_train=1000, n_val=300, n_test=300,
                  mlp_depths=[1, 2], mlp_widths=[16], cnn_depths=[1, 2], cnn_filters=[2], cnn_kernel=5,
                  rates=[0.0, 5e-3], draws=2, value_range=[-1.0, 1.0]),
    "quick": dict(epochs=4, batch_size=128, lr=1.0, n_train=20_000, n_val=5_000, n_test=5_000,
                  mlp_depths=[1, 2, 3, 4, 5], mlp_widths=[128, 256], cnn_depths=[1, 2, 3], cnn_filters=[8, 16],
                  cnn_kernel=3, rates=[0.0, 1e-3, 2e-3, 5e-3], draws=3, value_range=[-1.0, 1.0]),
    "paper": dict(epochs=15, batch_size=128, lr=1.0, n_train=50_000, n_val=10_000, n_test=0,
                  mlp_depths=[1, 2, 3, 4, 5], mlp_widths=[64, 128, 256, 512, 1024], cnn_depths=[1, 2, 3],
                  cnn_filters=[8, 16, 32, 64], cnn_kernel=3,
                  rates=[0.0, 5e-4, 1e-3, 1.5e-3, 2e-3, 3e-3, 4e-3, 5e-3], draws=20, value_range=[-1.0, 1.0]),
}
"""The model grid, data sizes and deviation settings of each profile, shared by both sections."""


def with_grid(profile: str, **extra) -> dict:
    """The grid and deviation settings of ``profile`` (:data:`GRID`) with a section's ``extra`` settings."""
    return {**GRID[profile], **extra}


def check_range(s: Settings, name: str = "value_range") -> tuple[float, float]:
    """``s.<name>`` as a valid (low, high) pair, or a ParameterError."""
    v = getattr(s, name)
    if len(v) != 2 or not v[0] < v[1]:
        raise ParameterError(f"{name}: expected [low, high] with low < high, got {v!r}")
    return float(v[0]), float(v[1])

