"""The authors' configuration of snn_patterns: their neuron, their fault population, their checkpoints."""

from __future__ import annotations

import os
import shutil

import numpy as np
import pytest
import torch

from ftlib import faults, models, sections  # noqa: F401  (sections first: it registers every section)
from ftlib.errors import DatasetCorruptError, DatasetNotFoundError
from ftlib.experiments.snn_patterns import authors_models as sa
from ftlib.models import snn_authors
from ftlib.models.snn_patterns import CURRENT_LAYER, PIXEL_LAYER, AuthorsLIF
from ftlib.training_snn import accuracy, spike_fault

CKPT = "model_faultfree_NASF.ckpt"


def require_checkpoints() -> None:
    """Skip when the authors' files are absent *and* no data dir is configured; fail when FTLIB_DATA_DIR is set."""
    if snn_authors.available(CKPT):
        return
    if os.environ.get("FTLIB_DATA_DIR"):
        pytest.fail(f"FTLIB_DATA_DIR is set but {snn_authors.FOLDER}/{CKPT} is not in it")
    pytest.skip("the authors' checkpoints are not available and FTLIB_DATA_DIR is not set")


def _images(n=64, seed=0):
    return torch.rand(n, 1, 28, 28, generator=torch.Generator().manual_seed(seed))


@pytest.mark.parametrize("ratio", [0.0, 0.03, 0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 1.0])
def test_fault_set_is_int_912_ratio_distinct_units_over_inputs_and_hidden(ratio):
    fm = spike_fault("NASF", "authors")
    assert fm.population == 912
    masks = fm.draw_population(ratio, torch.Generator().manual_seed(3))
    assert masks[PIXEL_LAYER].shape == (784,) and masks[CURRENT_LAYER].shape == (128,)
    assert int(masks[PIXEL_LAYER].sum() + masks[CURRENT_LAYER].sum()) == int(912 * ratio)
    # the restrictions are the two parts of the same fault set
    m = models.build("snn_mlp", variant="authors")
    for pop, names in (("inputs", [PIXEL_LAYER]), ("hidden", [CURRENT_LAYER]), ("both", [PIXEL_LAYER, CURRENT_LAYER])):
        with faults.inject(m, spike_fault("NASF", "authors", pop), ratio, seed=3) as inj:
            assert sorted(inj.masks) == sorted(names)
            for n in names:
                assert torch.equal(inj.masks[n], masks[n])


def test_hsf_attenuates_by_exactly_a_tenth_and_nasf_always_spikes():
    m = models.build("snn_mlp", variant="authors").eval()
    x = _images()
    seen = {}
    hooks = [m.get_submodule(n).register_forward_hook(lambda mod, i, o, n=n: seen.__setitem__(n, o.detach().clone()))
             for n in (PIXEL_LAYER, CURRENT_LAYER, "2")]
    try:
        m[0].generator = torch.Generator().manual_seed(0)
        m(x)
        clean = dict(seen)
        with faults.inject(m, spike_fault("HSF", "authors"), 0.3, seed=1) as inj:
            m[0].generator = torch.Generator().manual_seed(0)
            m(x)
            mp, mc = inj.masks[PIXEL_LAYER], inj.masks[CURRENT_LAYER]
        # hooks registered before the fault's see the clean output; recompute the faulty one through the fault model
        fm = spike_fault("HSF", "authors")
        p = fm.apply_site(PIXEL_LAYER, clean[PIXEL_LAYER], mp)
        c = fm.apply_site(CURRENT_LAYER, clean[CURRENT_LAYER], mc)
        assert torch.equal(p[:, mp], clean[PIXEL_LAYER][:, mp] * torch.tensor(0.1))
        assert torch.equal(p[:, ~mp], clean[PIXEL_LAYER][:, ~mp])
        assert torch.equal(c[..., mc], clean[CURRENT_LAYER][..., mc] * torch.tensor(0.1))
        assert torch.equal(c[..., ~mc], clean[CURRENT_LAYER][..., ~mc])
        with faults.inject(m, spike_fault("NASF", "authors", "hidden"), 0.15, seed=1) as inj:
            m(x)
            mc = inj.masks[CURRENT_LAYER]
        assert bool(seen["2"][..., mc].eq(1).all())  # faulty hidden neurons spike at every step, every image
    finally:
        for h in hooks:
            h.remove()
        m[0].generator = None


def test_faulty_model_output_matches_a_hand_written_attenuation():
    """The engine's HSF equals running the network with its weights' rows scaled by 0.1 (hidden) and the
    masked pixels' intensities scaled by 0.1 (inputs), with the same spike trains."""
    m = models.build("snn_mlp", variant="authors").eval()
    x = _images(16)
    fm = spike_fault("HSF", "authors")
    masks = fm.draw_population(0.2, torch.Generator().manual_seed(5))
    with torch.no_grad(), faults.inject(m, fm, 0.2, seed=5):
        m[0].generator = torch.Generator().manual_seed(9)
        ours = m(x)
    ref = models.build("snn_mlp", variant="authors").eval()
    ref.load_state_dict(m.state_dict())
    with torch.no_grad():
        ref[1].weight[masks[CURRENT_LAYER]] *= 0.1
        xf = x.flatten(1).clone()
        xf[:, masks[PIXEL_LAYER]] *= 0.1
        ref[0].generator = torch.Generator().manual_seed(9)
        theirs = ref(xf.view_as(x))
    assert torch.allclose(ours, theirs)


def test_authors_lif_dynamics_and_surrogate():
    lif = AuthorsLIF()
    cur = torch.tensor([0.3, 0.3, 0.6, 0.0, 0.45]).view(5, 1, 1).requires_grad_(True)
    spk = lif(cur)
    # mem: 0.3, 0.06+0.3=0.36, 0.072+0.6=0.672 (spike), 0 (reset), 0.45
    assert spk.flatten().tolist() == [0.0, 0.0, 1.0, 0.0, 0.0]
    # rectangular surrogate of height 1 on mem in (0, 1): d spk[t] / d cur[t] = 1 where 0 < mem[t] < 1
    (g,) = torch.autograd.grad(spk[4].sum(), cur, retain_graph=True)
    assert g.flatten()[4].item() == 1.0


def test_forward_pass_on_a_checkpoint_is_deterministic_per_seed():
    require_checkpoints()
    m = snn_authors.load(CKPT)
    x = _images(200, seed=1)
    y = m(x[:1]).argmax(1).repeat(200)
    a = accuracy(m, x, y, 2, seed=4)
    b = accuracy(snn_authors.load(CKPT), x, y, 2, seed=4)
    assert a == b
    with faults.inject(m, spike_fault("NASF", "authors"), 0.15, seed=7):
        m[0].generator = torch.Generator().manual_seed(11)
        o1 = m(x)
    with faults.inject(m, spike_fault("NASF", "authors"), 0.15, seed=7):
        m[0].generator = torch.Generator().manual_seed(11)
        o2 = m(x)
    m[0].generator = None
    assert torch.equal(o1, o2)
    with faults.inject(m, spike_fault("NASF", "authors"), 0.15, seed=8):
        m[0].generator = torch.Generator().manual_seed(11)
        o3 = m(x)
    assert not torch.equal(o1, o3)


def test_loading_refuses_a_file_with_a_wrong_checksum(tmp_path, monkeypatch):
    require_checkpoints()
    good = next(p for p in snn_authors._places(CKPT) if p.is_file())
    folder = tmp_path / snn_authors.FOLDER
    folder.mkdir()
    raw = bytearray(good.read_bytes())
    raw[-10] ^= 0xFF
    (folder / CKPT).write_bytes(bytes(raw))
    monkeypatch.setenv("FTLIB_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("FTLIB_CACHE_DIR", str(tmp_path / "cache"))
    with pytest.raises(DatasetCorruptError, match="sha256"):
        snn_authors.load(CKPT)
    shutil.copy(good, folder / CKPT)
    assert isinstance(snn_authors.load(CKPT), torch.nn.Sequential)


def test_a_missing_checkpoint_says_what_to_do(tmp_path, monkeypatch):
    monkeypatch.setenv("FTLIB_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("FTLIB_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("FTLIB_ALLOW_DOWNLOAD", raising=False)
    with pytest.raises(DatasetNotFoundError, match="FTLIB_ALLOW_DOWNLOAD=1"):
        snn_authors.load(CKPT)


def test_interval_rule_fails_under_its_null_and_passes_under_the_alternative():
    """Ten fault-set accuracies around a true mean μ: a paper value equal to μ is inside the 95 % interval
    about 95 % of the time; a paper value shifted by more than the interval is (almost) never counted."""
    rng = np.random.default_rng(0)
    mu, sd, trials = 0.80, 0.02, 400
    hits_alt = hits_null = 0
    for _ in range(trials):
        acc = rng.normal(mu, sd, 10)
        ci = faults.mean_ci(acc)
        hits_alt += sa.covers("SNN-T4", mu, ci["mean"], ci["ci_halfwidth"])
        hits_null += sa.covers("SNN-T4", mu + 4 * sd, ci["mean"], ci["ci_halfwidth"])
    assert hits_alt / trials > 0.9
    assert hits_null / trials < 0.02
    assert sa.covers("SNN-T4", 0.34035, 0.3404, 0.0)  # within the printed precision
    assert not sa.covers("SNN-T4", 0.3403, 0.3500, 0.005)


def test_table_models_name_known_files():
    assert len(snn_authors.TABLE_MODELS) == 10
    assert all(f in snn_authors.FILES for f in snn_authors.TABLE_MODELS.values())


def test_authors_keep_rule_keeps_only_perturbed_images_that_pass_4_of_5_checks():
    from ftlib.training_snn import GenConfig, gen_pattern_authors

    torch.manual_seed(0)
    m = models.build("snn_mlp", variant="authors", num_steps=4).eval()
    x = _images(16, seed=2)
    y = m(x).argmax(1)  # labels the fault-free net gets right (mostly)
    g = GenConfig(n_steps=4, check_time=5, k_diff=4, m_patterns=50, eps=0.1, batch_size=16, reps=2)
    px, py, st = gen_pattern_authors(m, x, y, spike_fault("NASF", "authors"), 0.3, g, torch.Generator().manual_seed(0))
    assert st["batches"] == 1 and st["patterns"] == len(px) == len(py)
    assert all(1 <= s <= 3 for s in st["steps_needed"])  # never an unperturbed image (step 0)
    assert float(px.min()) >= 0.0 and float(px.max()) <= 1.0


def test_variant_is_part_of_the_training_cache_key():
    from ftlib.training_snn import SNNTrainConfig

    a = SNNTrainConfig(method="previous", epochs=2, fir=0.05, variant="authors")
    b = SNNTrainConfig(method="previous", epochs=2, fir=0.05, variant="paper-text")
    assert a.key() != b.key()
    assert isinstance(a.build()[2], AuthorsLIF) and not isinstance(b.build()[2], AuthorsLIF)
    assert a.build()[1].bias is None and b.build()[1].bias is not None
