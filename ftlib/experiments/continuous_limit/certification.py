"""continuous_limit, Algorithm 1 and supplement Figs 7-8 (notebook ``continuous_limit/certification``).

CL-ALG: Algorithm 1 (:func:`ftlib.theory.certify`) on MNIST, 784-n₁-100-10 with
crashes p at ``act1``: it raises the width and the regularizers (Var Δ, balance,
continuity) until Chebyshev's δ with Theorem 1's moments certifies (ε, δ)-fault
tolerance of the median of R copies; then the certificate is checked empirically
(:func:`ftlib.theory.check_certificate`).

The notebook calls :func:`algorithm1`, :func:`trace_table`, :func:`plot_trace`,
:func:`certificate_check`, :func:`certificate_table`, :func:`error_samples`, :func:`plot_errors`
and :func:`compare`.
"""

from __future__ import annotations

import math

import pandas as pd
import torch

from ... import theory
from ...data import load
from ...params import Param, Section, Settings
from ...store import Store
from ...training import train
from ._config import TRAIN_PARAMS, mlp_config, single_thread


def algorithm1(s: Settings, store: Store | None = None):
    """Algorithm 1 on MNIST (784-n₁-100-10, crashes p at act1) from ``s``'s starting point, with the
    certificate computed on ``s.n_cert`` test images. Returns (Certified, test inputs, labels)."""
    test = load("mnist", "test").subset(s.n_cert, seed=s.seed + 5)

    def train_network(n1, lam, mu, psi):
        cfg = mlp_config("mnist", [784, n1, 100, 10], s, s.seed, s.batch_size, var_reg=float(lam),
                         var_layers=("act1",), balance=float(mu), continuity=tuple(float(v) for v in psi))
        with single_thread():
            return train(cfg, store).model

    with single_thread():
        out = theory.certify(train_network, test.x, test.y, p=s.p, eps=s.eps, delta=s.delta, layer="act1",
                             n1=s.n1, n_step=s.n_step, lam=s.lam, mu=s.mu, psi=tuple(s.psi), q_min=1e-2,
                             delta0_max=1 / 6, max_changes=s.max_changes, max_iter=s.max_iter, mc_draws=s.mc_draws,
                             seed=s.seed)
    return out, test.x, test.y


def trace_table(trace: pd.DataFrame) -> pd.DataFrame:
    """Algorithm 1's trace (one row per iteration) with ψ written as "(psi_D, psi_S)"."""
    return trace.assign(psi=trace.psi.map(lambda v: "(" + ", ".join(f"{x:g}" for x in v) + ")"))


def certificate_check(s: Settings, result, x: torch.Tensor, y: torch.Tensor) -> tuple[dict | None, dict]:
    """The certificate of :func:`algorithm1`'s ``result`` and its empirical check on the certificate images
    ``x`` (shape ``(n_cert, 784)``), labels ``y``: ``s.trials`` sets of R median copies per image
    (:func:`ftlib.theory.check_certificate`; None when no certificate was found), and the certificate as a
    row with the certified network's test accuracy (%) and the check's counts (``check_*``)."""
    cert = result.certificate
    cert_row = cert.as_dict()
    with torch.no_grad():
        cert_row["test_accuracy_%"] = 100.0 * float((result.model(x).argmax(1) == y).double().mean())
    check = None
    if cert.feasible:
        with single_thread():
            check = theory.check_certificate(result.model, x, y, s.p, s.eps, cert.R, layer="act1",
                                             trials=s.trials, seed=s.seed + 1)
        cert_row.update({f"check_{k}": v for k, v in check.items()})
    return check, cert_row


def certificate_table(cert_row: dict) -> pd.Series:
    """:func:`certificate_check`'s row as a series (mixed types)."""
    return pd.Series(cert_row, dtype=object)


def error_samples(net, x, y, s: Settings) -> torch.Tensor:
    """Samples of the per-input loss change Δ (one copy) for Fig 7: ``(draws, B)``."""
    from ...theory.certify import squared_error_rows

    with single_thread():
        mc = theory.monte_carlo(net, x, s.p, layers=["act1"], draws=s.mc_draws, seed=s.seed + 99,
                                output=squared_error_rows(y), keep_samples=True)
    return mc.samples[..., 0]


def plot_trace(trace: pd.DataFrame):
    """Supplement Fig 8: empirical failure probability (one copy) and theoretical vs experimental Var Δ."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.5, 3.2))
    colors = {s: f"C{i}" for i, s in enumerate(dict.fromkeys(trace.stage))}
    ax.scatter(trace.iteration, trace.mc_fail, c=[colors[s] for s in trace.stage], zorder=3)
    for s_, c in colors.items():
        ax.scatter([], [], c=c, label=s_)
    ax.set_xlabel("iteration (colour: stage that decided)")
    ax.set_ylabel("P{Δ ≥ ε}, experiment (one copy)")
    ax2 = ax.twinx()
    ax2.plot(trace.iteration, trace.mc_var, "k-", label="Var Δ experiment")
    ax2.plot(trace.iteration, trace.theory_var, "k--", label="Var Δ theory (b3)")
    ax2.set_ylabel("Var Δ")
    h1, l1 = ax.get_legend_handles_labels()
    h2, l2 = ax2.get_legend_handles_labels()
    ax.legend(h1 + h2, l1 + l2, fontsize=6)
    fig.tight_layout()
    return fig


def plot_errors(samples: torch.Tensor, eps: float):
    """Supplement Fig 7: histogram of the loss change Δ for the final network, with ε."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 3.2))
    d = samples.flatten().numpy()
    ax.hist(d, bins=100, color="C0")
    ax.axvline(eps, color="C3", ls="--", label=f"target ε = {eps:g}")
    ax.set_yscale("log")
    ax.set_xlabel("Δ (loss change under crashes, one copy)")
    ax.set_ylabel("frequency")
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def p_certificate(check: dict, delta: float, single_delta: float) -> tuple[float, float, float]:
    """CL-ALG's certificate test: exact one-sided binomial p-values (:func:`scipy.stats.binom`, H0: the failure
    probability is ≥ the target) of the median-of-R check (``failures`` of ``n`` against ``delta``) and of the
    single copies (``single_failures`` of ``single_n`` against Chebyshev's ``single_delta``); returns
    (intersection-union p = the larger, p median, p single)."""
    from scipy import stats

    pm = float(stats.binom.cdf(check["failures"], check["n"], delta))
    ps = float(stats.binom.cdf(check["single_failures"], check["single_n"], single_delta))
    return max(pm, ps), pm, ps


def compare(report, s: Settings, result, check: dict | None, cert_row: dict) -> None:
    """CL-ALG by its declared claim ``CL-ALG:certificate`` (a certificate is returned, and its failure
    frequencies are below δ by an exact binomial test, :func:`p_certificate`) and detail rows: n₁, λ on the
    original's scale, μ, ψ against the paper's (:mod:`ftlib.reference`). ``result``: :func:`algorithm1`'s;
    ``check``, ``cert_row``: :func:`certificate_check`'s."""
    from ...reference import get
    from ...regularizers import lambda_on_original_scale

    cert, trace = result.certificate, result.trace

    ref = get("CL-ALG").values
    if not cert.feasible:
        last = trace.iloc[-1]
        steps = s.epochs * math.ceil((s.n_train or 60_000) / s.batch_size)
        continuity = trace.stage.eq("continuity").all()
        why = (f"no certificate after {cert.iterations} iterations: {last.decision}; "
               f"R3 went {trace.R3.iloc[0]:.4g} → {trace.R3.min():.4g} (C = {s.max_changes:g}) with "
               f"{steps} Adam steps per network (the paper: 1,800)") if continuity else \
            f"no certificate after {cert.iterations} iterations: {last.decision}"
        report.check("CL-ALG:certificate", f"R = {ref['R']}, n₁ = {ref['n1']}", why, p_value=float("nan"), summary=why,
                     note="the continuity criterion was never met within the iteration limit" if continuity else "")
        return
    report.numeric("CL-ALG", "n₁", ref["n1"], cert.n1, 200.0, headline=False)
    lam_orig = lambda_on_original_scale(cert.lam, 10, s.p)
    ok = lam_orig > 0 and abs(math.log10(lam_orig) - math.log10(ref["lambda"])) <= 1.0
    report.qualitative("CL-ALG", "λ on the original's scale (within a factor 10)", f"{ref['lambda']:g}",
                       f"{lam_orig:g} (ours {cert.lam:g} × n_L/p = × {10 / s.p:g})", ok, headline=False,
                       rule="detail: |log10 λ_original − log10 λ_paper| ≤ 1 (one raise)")
    report.qualitative("CL-ALG", "μ (shown; our balance term is not the original's squared one)", f"{ref['mu']:g}",
                       f"{cert.mu:g}", False, headline=False, rule="detail: not comparable (different term)")
    ok = all(o > 0 and abs(math.log10(o) - math.log10(r)) <= 1.0 for o, r in zip(cert.psi, ref["psi"]))
    report.qualitative("CL-ALG", "ψ (each within a factor 10)", str(ref["psi"]), str(tuple(f"{v:g}" for v in cert.psi)),
                       ok, headline=False, rule="detail: each |log10 ψ − log10 ψ_paper| ≤ 1")
    p, pm, ps = p_certificate(check, s.delta, cert.delta)
    reach = math.log(1 / report_alpha()) / s.delta
    report.check("CL-ALG:certificate", f"≤ {s.delta:g}",
                 f"{check['failures']} of {check['n']} = {check['frequency']:.3g} (95 % upper bound "
                 f"{check['upper95']:.2g}); one copy: {check['single_frequency']:.3g} vs Chebyshev δ = {cert.delta:.3g}",
                 p_value=p, summary=f"median of R copies: {check['failures']} failures in {check['n']} checks "
                 f"(binomial p = {pm:.2g}); single copies: {check['single_failures']} in {check['single_n']} "
                 f"(p = {ps:.2g})",
                 note=("" if check["n"] >= reach else f"{check['n']} checks cannot show a probability below δ = "
                       f"{s.delta:g} (that needs ≥ {reach:.2g} checks without a failure); ") +
                 f"the certified network's accuracy on the certificate images: {cert_row['test_accuracy_%']:.1f} %")


def report_alpha() -> float:
    """The α of ``CL-ALG:certificate``."""
    from ...claims import get

    return get("CL-ALG:certificate").alpha


SECTION = Section(
    key="continuous_limit/certification",
    title="continuous_limit, Algorithm 1: certifying (ε, δ)-fault tolerance with median copies",
    ids=("CL-ALG",),
    params=TRAIN_PARAMS + (
        Param("p", float, "crash probability of the first hidden layer", low=1e-6, high=0.5),
        Param("eps", float, "target ε on the loss increase", low=1e-9, high=1e3),
        Param("delta", float, "target failure probability δ", low=1e-12, high=0.5),
        Param("batch_size", int, "batch size", low=1, high=60_000),
        Param("n1", int, "starting width n1", low=2, high=100_000),
        Param("n_step", int, "width increment", low=1, high=100_000),
        Param("lam", float, "starting λ (Var Δ term)", low=0.0, high=1e6),
        Param("mu", float, "starting μ (balance term)", low=0.0, high=1e6),
        Param("psi", list, "starting ψ = (psi_D, psi_S)", item=float, low=0.0, high=1e6),
        Param("max_changes", float, "continuity criterion C: largest allowed number of changes R3", low=0.0,
              high=1e9),
        Param("max_iter", int, "iteration limit", low=1, high=1000),
        Param("n_cert", int, "test images the certificate is about", low=2, high=10_000),
        Param("mc_draws", int, "Monte Carlo crash sets per image per iteration (Fig 8)", low=2, high=1_000_000),
        Param("trials", int, "sets of R median copies per image for the certificate check", low=1,
              high=10_000_000),
    ),
    profiles={
        "smoke": dict(epochs=1, n_train=500, lr=1e-3, p=1e-2, eps=9e-3, delta=1e-5, batch_size=250, n1=50,
                      n_step=50, lam=1e-9, mu=1e-10, psi=[1e-8, 1e-6], max_changes=100.0, max_iter=3, n_cert=20,
                      mc_draws=50, trials=20),
        "quick": dict(epochs=4, n_train=30_000, lr=1e-3, p=1e-2, eps=9e-3, delta=1e-5, batch_size=1000, n1=200,
                      n_step=100, lam=1e-9, mu=1e-10, psi=[1e-8, 1e-6], max_changes=100.0, max_iter=10,
                      n_cert=100, mc_draws=500, trials=1000),
        "paper": dict(epochs=30, n_train=0, lr=1e-3, p=1e-2, eps=9e-3, delta=1e-5, batch_size=1000, n1=200,
                      n_step=100, lam=1e-9, mu=1e-10, psi=[1e-8, 1e-6], max_changes=100.0, max_iter=20,
                      n_cert=1000, mc_draws=10_000, trials=3000),
    },
)
