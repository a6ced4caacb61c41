"""adversarial_ft, Section 6.3 "Adversarial framework" (notebook ``adversarial_ft/adversarial_framework``).

Table 2 (AFT-T2): per architecture, no regularization, Lasso and Tikhonov at the
λ of a grid search, and the proposed two-phase method (Phase I: the adversarial
reconstruction game of Algorithm 1, AFT-A1; Phase II: supervised fine-tuning from
its feature extractor); Figure 5 (AFT-F5): the Phase-I loss curves. Figures 3, 4
and 6 (AFT-F3/F4/F6) are diagrams, drawn on the chapter's method page.

"λ from a grid search": per architecture and regularizer we train every nonzero
λ of the grid and keep the one with the best test accuracy (the paper reports
"the best model performance" after a grid search and names no validation set).
Selecting on the test set flatters the baselines.

The notebook calls :func:`table2_models`, :func:`select`, :func:`table2_side_by_side`,
:func:`plot_phase1` and :func:`compare`; ``adversarial_ft/faults`` reuses
:func:`table2_models` (the same cache entries).
"""

from __future__ import annotations

import math

import pandas as pd
import torch

from ... import adversarial as adv
from ...data import locate
from ...params import Section, Settings
from ...stats import binomial_se, p_positive
from ...store import Store
from ...training import train
from ..common import images
from ._config import (ARCH_DATA, DATASET, METHODS, T2_PARAMS, T2_PROFILES, arch_settings, baseline_config,
                      phase1_config, table2_archs, test_accuracy)

def plan(s: Settings) -> list[dict]:
    """The training plan of Table 2 without training anything (the ``paper`` profile's dry run).

    Builds every model and Phase-I network once (checks that the architectures
    and their FE/decoder/discriminator fit together) and checks that each
    dataset has a place to be loaded from; returns one row per training run.
    """
    rows = []
    for arch in table2_archs(s):
        a = arch_settings(s, arch)
        shape = (1, 28, 28) if ARCH_DATA[arch] == DATASET else (3, 32, 32)
        p1 = phase1_config(s, arch)
        _, extractor, decoder, disc = adv.networks(p1, shape)
        with torch.no_grad():
            z = extractor(torch.zeros(2, *shape))
            assert decoder(z).shape == (2, *shape) and disc(z.flatten(1)).shape == (2, 1)
        if not locate(ARCH_DATA[arch]):
            raise FileNotFoundError(f"no data location for {ARCH_DATA[arch]}")
        rows.append({"arch": arch, "run": "baseline none", "config": baseline_config(s, arch, "tikhonov", 0.0)})
        for reg in ("lasso", "tikhonov"):
            for lam in a[reg]:
                if lam > 0:
                    rows.append({"arch": arch, "run": f"baseline {reg} {lam:g}",
                                 "config": baseline_config(s, arch, reg, lam)})
        rows.append({"arch": arch, "run": "proposed Phase I", "config": p1})
        rows.append({"arch": arch, "run": "proposed Phase II",
                     "config": adv.phase2_config(adv.reference_of(p1), arch, ARCH_DATA[arch], a["epochs"],
                                                 s.batch_size, s.lr, a["n_train"], s.seed, a["arch_kwargs"])})
    return rows


def table2_models(s: Settings, store: Store | None = None) -> tuple[pd.DataFrame, dict, dict]:
    """Train (or load) every model of Table 2.

    Returns (``grid``: one row per trained model — arch, method, λ, train/test
    accuracy, generalization error, seconds, cached; ``models``: (arch, method,
    λ) → Trained; ``phase1``: arch → :class:`ftlib.adversarial.Pretrained`).
    """
    store = store or Store()
    rows, trained_models, phase1 = [], {}, {}
    for arch in table2_archs(s):
        a = arch_settings(s, arch)
        runs = [("none", 0.0)] + [(reg, lam) for reg in ("lasso", "tikhonov") for lam in a[reg] if lam > 0]
        for method, lam in runs:
            t = train(baseline_config(s, arch, "tikhonov" if method == "none" else method, lam), store)
            trained_models[(arch, method, lam)] = t
            rows.append((arch, method, lam, t, t.wall_time_s))
        pre = adv.pretrain(phase1_config(s, arch), store)
        phase1[arch] = pre
        t = adv.finetune(pre, a["epochs"], s.batch_size, s.lr, a["n_train"], s.seed, store)
        trained_models[(arch, "proposed", 0.0)] = t
        rows.append((arch, "proposed", 0.0, t, t.wall_time_s + pre.wall_time_s))
    out = []
    for arch, method, lam, t, secs in rows:
        test_acc = test_accuracy(s, t, arch, store)
        out.append({"arch": arch, "method": method, "lambda": lam, "train_acc": 100 * t.train_acc,
                    "test_acc": test_acc, "gen_error": 100 * t.train_acc - test_acc, "train_seconds": secs,
                    "cached": t.from_cache})
    return pd.DataFrame(out), trained_models, phase1


def select(grid: pd.DataFrame) -> pd.DataFrame:
    """Table 2: per architecture, none, the best-test-accuracy λ of Lasso and of Tikhonov, and proposed."""
    rows = []
    for arch, g in grid.groupby("arch", sort=False):
        for method in METHODS:
            m = g[g.method == method]
            if len(m):
                rows.append(m.loc[m.test_acc.idxmax()])
    return pd.DataFrame(rows).reset_index(drop=True)


def table2_side_by_side(table: pd.DataFrame) -> pd.DataFrame:
    """Our Table 2 beside the paper's: (arch, method, chosen λ) × (train, test, G) × (paper, ours, gap)."""
    from ...reference import get

    paper = get("AFT-T2").values
    rows = []
    for r in table.itertuples():
        p = paper[r.arch.replace("aft_", "")][r.method]
        row = {"arch": r.arch.replace("aft_", ""), "method": r.method,
               "λ": f"{r._3:g}" if r.method in ("lasso", "tikhonov") else "—"}
        for (name, col), pv in zip((("train", "train_acc"), ("test", "test_acc"), ("G", "gen_error")), p):
            ours = getattr(r, col)
            row[f"{name} paper"], row[f"{name} ours"], row[f"{name} gap"] = pv, ours, ours - pv
        rows.append(row)
    return pd.DataFrame(rows).set_index(["arch", "method", "λ"])


NONINFERIORITY_PP = 1.0
"""Table 2's "keeps the test accuracy": the proposed model's accuracy is not more than this many points below
any baseline's (the margin of the former point rule, tolerance_pp / 2, declared before this change)."""


def compare_table2(report, table: pd.DataFrame, s: Settings, tolerance_pp: float = 2.0) -> None:
    """Table 2's claims on our numbers, per architecture: the proposed model has the lowest generalization
    error, and no lower test accuracy than the best baseline (within ``tolerance_pp``); plus every number."""
    from ...reference import get

    paper = get("AFT-T2").values
    for arch, g in table.groupby("arch", sort=False):
        g = g.set_index("method")
        prop, base = g.loc["proposed"], g.drop(index="proposed")
        name = arch.replace("aft_", "")
        pg = paper[name]
        n_tr, n_te = s.n_train or 60_000, s.n_test or 10_000
        se_g = lambda r: math.hypot(binomial_se(r.train_acc, n_tr), binomial_se(r.test_acc, n_te))  # noqa: E731
        se_a = lambda r: binomial_se(r.test_acc, n_te)  # noqa: E731
        # intersection-union over the baselines: the proposed model must beat every one of them
        p_g = max(p_positive(b.gen_error - prop.gen_error, math.hypot(se_g(b), se_g(prop))) for _, b in base.iterrows())
        report.check("AFT-T2:lowest_gen_error",
                     f"{pg['proposed'][2]:.2f} vs best baseline {min(v[2] for k, v in pg.items() if k != 'proposed'):.2f}",
                     f"{prop.gen_error:.2f} vs best baseline {base.gen_error.min():.2f} ({base.gen_error.idxmin()})",
                     claim=f"{name}: proposed has the lowest generalization error", p_value=p_g,
                     summary=f"G(each baseline) − G(proposed), the smallest {(base.gen_error - prop.gen_error).min():+.2f} pp")
        margin = NONINFERIORITY_PP
        p_a = max(p_positive(prop.test_acc - b.test_acc + margin, math.hypot(se_a(b), se_a(prop)))
                  for _, b in base.iterrows())
        report.check("AFT-T2:keeps_accuracy",
                     f"{pg['proposed'][1]:.2f} vs {max(v[1] for k, v in pg.items() if k != 'proposed'):.2f}",
                     f"{prop.test_acc:.2f} vs {base.test_acc.max():.2f} ({base.test_acc.idxmax()})",
                     claim=f"{name}: proposed keeps the test accuracy of the best baseline", p_value=p_a,
                     summary=f"test accuracy(proposed) − best baseline = {prop.test_acc - base.test_acc.max():+.2f} pp, "
                             f"margin {margin:g} pp")
        for method, r in g.iterrows():
            report.numeric("AFT-T2", f"{name} {method}: test accuracy (%)", pg[method][1], r.test_acc, tolerance_pp,
                           headline=False)
            report.numeric("AFT-T2", f"{name} {method}: generalization error (pp)", pg[method][2], r.gen_error,
                           tolerance_pp, headline=False)
    if not s.cifar:
        for name in ("arch3", "arch4"):
            report.not_runnable("AFT-T2", f"{name} (CIFAR-10): Table 2 rows", "8 numbers", headline=True, reason=
                                "CIFAR-10 Phase I (10k iterations) and full-width Architecture 3 (≈ 8-10 min per "
                                "epoch here) do not fit the quick profile's 5 minutes on 2 CPU cores; run with "
                                "-p profile paper (or -p cifar True) on a GPU")


def plot_phase1(phase1: dict) -> "object":
    """Figure 5: Phase-I loss curves per architecture: (a) reconstruction, (b) FE (generator) loss,
    (c) discriminator loss (its "gain" is the negative), against the iteration."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(9.0, 2.8))
    for arch, pre in phase1.items():
        h = pd.DataFrame(pre.history)
        if h.empty:
            continue
        for ax, col in zip(axes, ("reconstruction", "generator", "discriminator")):
            ax.plot(h["iteration"], h[col], marker=".", ms=3, label=arch.replace("aft_", ""))
    for ax, title, ylabel in zip(axes, ("(a) reconstruction", "(b) feature extractor (generator)",
                                        "(c) discriminator"),
                                 ("‖x − x′‖² per pixel", "−log D(z)", "−log D(z′) − log(1 − D(z))")):
        ax.set_title(title, fontsize=8)
        ax.set_xlabel("Phase-I iteration")
        ax.set_ylabel(ylabel, fontsize=7)
    axes[0].legend(fontsize=7)
    fig.tight_layout()
    return fig


def compare_phase1(report, phase1: dict) -> None:
    """Figure 5's shapes: reconstruction falls; the discriminator's loss and the FE's loss move towards the
    equilibrium value log 4 ≈ 1.386 / log 2 ≈ 0.693 (D = 1/2) — we check the reconstruction trend and report
    the last values."""
    for arch, pre in phase1.items():
        h = pd.DataFrame(pre.history)
        name = arch.replace("aft_", "")
        report.check("AFT-F5:curves", "Fig. 5", f"{len(h)} logged blocks", claim=f"{name}: Phase I loss curves")
        if len(h) < 2:
            continue
        first, last = h.iloc[0], h.iloc[-1]
        # detail rows: training minimises the reconstruction loss, so its fall is near-certain (issue 17)
        report.qualitative("AFT-F5", f"{name}: reconstruction loss falls during Phase I", "falls (Fig. 5a)",
                           f"{first.reconstruction:.4f} → {last.reconstruction:.4f}",
                           bool(last.reconstruction < first.reconstruction), headline=False,
                           rule="detail: last logged value below the first (near-certain: training minimises it)")
        report.qualitative("AFT-F5", f"{name}: the discriminator does not win outright (D(z′) − D(z) < 0.9 at the end)",
                           "min-max game (Fig. 5b, c)",
                           f"D(prior) {last.d_real:.2f}, D(features) {last.d_fake:.2f}, L_D {last.discriminator:.3f}",
                           bool(last.d_real - last.d_fake < 0.9), headline=False,
                           rule="detail: D(z′) − D(z) < 0.9 at the last logged block (point estimate)")


def compare_algorithm(report, phase1: dict, models: dict) -> None:
    """AFT-A1 (Algorithm 1) as ``implemented``: per architecture, Phase I ran (its logged blocks) and Phase II
    started from Phase I's cache entry (named by the Phase-II configuration's ``init_from``)."""
    for arch, pre in phase1.items():
        t = models[(arch, "proposed", 0.0)]
        report.check("AFT-A1:algorithm", "Algorithm 1",
                     f"{len(pre.history)} logged blocks; Phase II starts from the Phase I cache entry "
                     f"{t.config.init_from.split('/')[0]}, key {t.config.init_from.split('/')[-1][:12]}",
                     claim=f"{arch.replace('aft_', '')}: Phase I (games 1 and 2) then Phase II from its extractor")


def compare(report, table: pd.DataFrame, phase1: dict, models: dict, s: Settings) -> None:
    """Every verdict of the section on ``report``: Table 2 (:func:`compare_table2`), Figure 5
    (:func:`compare_phase1`), Algorithm 1 (:func:`compare_algorithm`) and the diagrams of Figures 3, 4, 6
    (``implemented``: drawn on the chapter's method page, not computed)."""
    compare_table2(report, table, s)
    compare_phase1(report, phase1)
    compare_algorithm(report, phase1, models)
    report.check("AFT-F3/F4/F6:diagrams", "drawn", "drawn on the method page of this chapter (not computed)")


def profile_note(s: Settings) -> str:
    """The run's settings that set it apart from the paper's, in words (Markdown), generated from ``s`` and
    the ``paper`` profile (the paper's own settings), so the page never quotes a stale value."""
    paper = SECTION.profiles["paper"]
    cifar = "is run" if s.cifar else "is not run (`cifar=False`, see the verdict rows)"
    return (f"**Profile {s.profile}**: Phase I runs for {s.phase1_epochs} epochs (Architecture 1) and "
            f"{s.cnn_phase1_epochs} (Architecture 2) instead of the paper's {paper['phase1_epochs']:,}, on "
            f"{images(s.phase1_n_train, 60_000)} of the 60,000 training images; supervised training runs "
            f"{s.epochs} and {s.cnn_epochs} epochs on {images(s.n_train, 60_000)}; "
            f"{images(s.n_test, 10_000)} test images; the Architecture 2 grid has {len(s.cnn_tikhonov_lambdas)} "
            f"Tikhonov and {len(s.cnn_lasso_lambdas)} Lasso λ; CIFAR-10 (Architectures 3-4) {cifar}.")


SECTION = Section(
    key="adversarial_ft/adversarial_framework",
    title="adversarial_ft, Section 6.3: the adversarial framework against Lasso and Tikhonov",
    ids=("AFT-T2", "AFT-F5", "AFT-A1", "AFT-F3/F4/F6"),
    params=T2_PARAMS,
    profiles=T2_PROFILES,
)
