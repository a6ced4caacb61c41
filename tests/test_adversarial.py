"""adversarial_ft's Algorithm 1 (ftlib.adversarial): the two Phase-I games, Phase II's start from the
Phase-I extractor, the architectures' FE/classifier split, and the paper profile's dry run."""

import pytest
import torch

from ftlib import adversarial as adv
from ftlib import models, sections
from ftlib.errors import ParameterError
from ftlib.models.adversarial_ft import phase1_networks, split
from ftlib.training import TrainConfig, cache_key, train

from .conftest import require_data

SMALL = {"hidden": (32, 48, 32)}


def _cfg(**kw):
    return adv.AdversarialConfig(**{**dict(arch="aft_arch1", dataset="fashion_mnist", epochs=1, batch_size=64,
                                           n_train=256, arch_kwargs=SMALL, log_every=2, seed=1), **kw})


@pytest.mark.parametrize("arch,shape", [("aft_arch1", (1, 28, 28)), ("aft_arch2", (1, 28, 28)),
                                        ("aft_arch3", (3, 32, 32)), ("aft_arch4", (3, 32, 32))])
def test_split_and_phase1_networks_fit(arch, shape):
    model = models.build(arch, **({"width": 0.25} if arch == "aft_arch3" else {}))
    fe, clf = split(model)
    x = torch.rand(2, *shape)
    assert torch.equal(clf(fe(x)), model(x))  # the two slices are the whole network
    fe2, dec, disc = phase1_networks(model, shape)
    z = fe2(x)
    assert dec(z).shape == x.shape and disc(z.flatten(1)).shape == (2, 1)
    # the FE's parameter names are the full model's (so Phase II can load them)
    assert set(fe.state_dict()) <= set(model.state_dict())


def test_one_phase1_iteration_lowers_reconstruction_on_a_tiny_batch():
    torch.manual_seed(0)
    cfg = _cfg()
    _, fe, dec, disc = adv.networks(cfg, (1, 28, 28))
    step = adv.Phase1Step(fe, dec, disc, cfg)
    x = torch.rand(16, 1, 28, 28)
    with torch.no_grad():
        before = torch.nn.functional.mse_loss(dec(fe(x)), x).item()
    for _ in range(5):
        out = step(x)
    with torch.no_grad():
        after = torch.nn.functional.mse_loss(dec(fe(x)), x).item()
    assert after < before
    assert set(out) == {"reconstruction", "generator", "discriminator", "d_real", "d_fake"}


def test_discriminator_step_uses_the_prior(monkeypatch):
    calls = []
    real_sample = adv.sample_prior

    def spy(n, shape, std, generator=None, device="cpu"):
        calls.append((n, tuple(shape), std))
        return real_sample(n, shape, std, generator, device)

    monkeypatch.setattr(adv, "sample_prior", spy)
    cfg = _cfg(disc_steps=3, prior_std=2.0)
    _, fe, dec, disc = adv.networks(cfg, (1, 28, 28))
    step = adv.Phase1Step(fe, dec, disc, cfg)
    fe_before = [p.detach().clone() for p in fe.parameters()]
    d_before = [p.detach().clone() for p in disc.parameters()]
    step(torch.rand(8, 1, 28, 28))
    assert calls == [(8, (48,), 2.0)] * 3  # features: 48 units; k = 3 discriminator steps, each on fresh prior samples
    assert any(not torch.equal(a, b) for a, b in zip(d_before, disc.parameters()))
    assert any(not torch.equal(a, b) for a, b in zip(fe_before, fe.parameters()))
    # the prior's moments
    z = real_sample(20000, (4,), 2.0, torch.Generator().manual_seed(0))
    assert abs(z.mean().item()) < 0.05 and abs(z.std().item() - 2.0) < 0.05


def test_phase2_starts_from_the_phase1_extractor(tmp_cache, monkeypatch):
    require_data("fashion_mnist")
    pre = adv.pretrain(_cfg())
    assert not pre.from_cache and pre.history and pre.history[-1]["iteration"] == 4
    assert adv.pretrain(_cfg()).from_cache
    seen = {}
    import ftlib.training as tr

    orig = tr.load_initial

    def spy(model, state, ref=""):
        orig(model, state, ref)
        seen.update({k: model.state_dict()[k].clone() for k in state})

    monkeypatch.setattr(tr, "load_initial", spy)
    trained = adv.finetune(pre, epochs=1, n_train=256, batch_size=64, seed=1)
    assert trained.config.init_from == pre.ref and trained.config.loss == "mse"
    fe_state = pre.extractor.state_dict()
    assert seen and set(seen) == set(fe_state)
    assert all(torch.equal(seen[k], fe_state[k]) for k in fe_state)
    # a random start (no init_from) differs from the Phase-I weights
    scratch = models.build("aft_arch1", **SMALL)
    assert not torch.equal(scratch.state_dict()["1.weight"], fe_state["1.weight"])


def test_init_from_is_backward_compatible_and_checked(tmp_cache):
    cfg = TrainConfig(arch="aft_arch1", dataset="fashion_mnist", epochs=1)
    assert "init_from" not in cache_key(cfg)
    assert "init_from" in cache_key(TrainConfig(arch="aft_arch1", dataset="fashion_mnist", epochs=1,
                                                init_from="adversarial/abc"))
    with pytest.raises(ParameterError):
        TrainConfig(arch="aft_arch1", dataset="fashion_mnist", epochs=1, init_from="no-slash")
    with pytest.raises(ParameterError, match="no cached model"):
        train(TrainConfig(arch="aft_arch1", dataset="fashion_mnist", epochs=1, n_train=64,
                          init_from="adversarial/0123456789abcdef"))


@pytest.mark.parametrize("key", ["adversarial_ft/adversarial_framework", "adversarial_ft/faults"])
def test_paper_profile_validates_and_plans_without_training(tmp_cache, key):
    from ftlib.experiments.adversarial_ft import _config as aftc, adversarial_framework as aft_t2, faults as aft_f7  # noqa: F401

    s = sections.resolve(key, {"profile": "paper", "seed": 0})
    assert s.phase1_epochs == 2000 and s.cifar_phase1_iters == 10_000 and s.cifar and s.cifar_width == 1.0
    rows = aft_t2.plan(s)
    archs = {r["arch"] for r in rows}
    assert archs == {"aft_arch1", "aft_arch2", "aft_arch3", "aft_arch4"}
    p2 = [r["config"] for r in rows if r["run"] == "proposed Phase II"]
    p1 = [r["config"] for r in rows if r["run"] == "proposed Phase I"]
    assert [c.init_from for c in p2] == [adv.reference_of(c) for c in p1]
    assert not any(tmp_cache.rglob("model.pt"))  # nothing was trained


def test_quick_arch1_baselines_are_table1_models():
    from ftlib.experiments.adversarial_ft import _config as aftc, adversarial_framework as aft_t2, faults as aft_f7  # noqa: F401

    t2 = sections.resolve("adversarial_ft/adversarial_framework", {"profile": "quick", "seed": 0})
    t1 = sections.resolve("adversarial_ft/experiment_setup", {"profile": "quick", "seed": 0})
    for reg, lams in (("tikhonov", t1.tikhonov_lambdas), ("lasso", t1.lasso_lambdas)):
        for lam in lams:
            assert aftc.baseline_config(t2, "aft_arch1", reg, lam) == aftc.regularized_config(t1, reg, lam)
    assert aftc.baseline_config(t2, "aft_arch2", "tikhonov", t1.fig_lambda) == \
        aftc.regularized_config(t1, "tikhonov", t1.fig_lambda, "aft_arch2", t1.cnn_epochs)


def test_hypothesis_test_can_exclude_collapsed_models():
    """Collapsed models (G ≈ 0, chance accuracy) reverse ρ on all models; the learned-only test removes them."""
    import pandas as pd

    from ftlib.experiments.adversarial_ft import _config as aftc, adversarial_framework as aft_t2, faults as aft_f7  # noqa: F401

    learned = [(g, 80 - 2 * g, 85.0) for g in (1.0, 2.0, 3.0, 4.0, 5.0)]   # lower G → more accurate under faults
    collapsed = [(0.01 * i, 10.0, 10.0) for i in range(6)]                # G ≈ 0, chance under faults and clean
    rows = [{"id": "AFT-F7a", "fault": "f", "quantity": "accuracy", "gen_error": g, "value": v, "test_acc": a}
            for g, v, a in learned + collapsed]
    both = aft_f7.hypothesis_tests(pd.DataFrame(rows)).set_index("models")
    assert both.loc["all", "spearman_rho"] > 0
    assert both.loc["all", "n_models"] == 11
    only = both.drop(index="all").iloc[0]
    assert only["n_models"] == 5 and only["spearman_rho"] == pytest.approx(-1.0)


def _figure7_sweeps(gap: float, noise: float) -> "pd.DataFrame":
    """Synthetic Figure 7 sweeps: proposed better than Tikhonov and Lasso by ``gap`` at every rate > 0, plus
    draw noise shared by the three models (the same faulty sites) and a model-specific part of size ``noise``."""
    import numpy as np
    import pandas as pd

    from ftlib.experiments.adversarial_ft import _config as aftc, adversarial_framework as aft_t2, faults as aft_f7  # noqa: F401

    rng = np.random.default_rng(1)
    rows = []
    for id_, (_, label, _, quoted, _) in aft_f7.FIGURE7_PANELS.items():
        shared = rng.normal(0, 0.1, 5)
        for method in aft_f7.FIGURE7_METHODS:
            own = rng.normal(0, noise, 5)
            for d in range(5):
                rows.append((id_, label, method, 0.0, d, 0.9))
                acc = 0.5 + shared[d] + own[d] + (gap if method == "proposed" else 0.0)
                rows.append((id_, label, method, quoted, d, acc))
    return pd.DataFrame(rows, columns=["id", "fault", "method", "rate", "draw", "accuracy"])


def test_figure7_claims_need_a_paired_difference_beyond_the_draw_noise():
    """A consistent gap under the shared draws is reproduced although the bands overlap; a gap smaller than
    the model-specific noise is not, whatever its point estimate."""
    from ftlib import report
    from ftlib.experiments.adversarial_ft import _config as aftc, adversarial_framework as aft_t2, faults as aft_f7  # noqa: F401

    for gap, noise, expected in ((0.03, 0.002, report.REPRODUCED), (0.005, 0.05, report.NOT_REPRODUCED)):
        quoted = aft_f7.figure7_quoted(_figure7_sweeps(gap, noise))
        rep = report.Report("adversarial_ft/faults", sections.resolve("adversarial_ft/faults", {"profile": "quick", "seed": 0}))
        aft_f7.compare_figure7(rep, quoted)
        claims = [r for r in rep.rows if r.claim.startswith("proposed has")]
        assert len(claims) == 3 and {r.verdict for r in claims} == {expected}, (gap, [r.ours for r in claims])
