"""Training: determinism, cache hits only for the same configuration, resume after interruption."""

import pytest
import torch

from ftlib import training
from ftlib.errors import ParameterError
from ftlib.store import Entry
from ftlib.training import TrainConfig, train

from .conftest import require_data

CFG = TrainConfig(arch="aft_arch1", dataset="fashion_mnist", epochs=2, batch_size=128, n_train=512,
                  arch_kwargs={"hidden": (32,)}, seed=3)


@pytest.fixture(autouse=True)
def _data():
    require_data("fashion_mnist")


def weights(model):
    return torch.cat([p.detach().flatten() for p in model.parameters()])


def test_same_seed_same_numbers_and_cache_hit(tmp_cache):
    a = train(CFG)
    assert not a.from_cache
    b = train(CFG)
    assert b.from_cache and torch.equal(weights(a.model), weights(b.model))
    # recomputed from scratch in another cache: bit-identical on CPU
    c = train(CFG, store=training.Store(tmp_cache / "other"))
    assert not c.from_cache and torch.equal(weights(a.model), weights(c.model))
    assert a.train_acc == c.train_acc


@pytest.mark.parametrize("change", [dict(lr=2e-3), dict(l2=1e-4), dict(l1=1e-4), dict(seed=4), dict(epochs=1),
                                    dict(n_train=256), dict(batch_size=64), dict(loss="mse")])
def test_changing_one_hyperparameter_misses_the_cache(tmp_cache, change):
    train(CFG)
    other = train(TrainConfig(**{**CFG.__dict__, **change}))
    assert not other.from_cache


def test_interrupted_training_resumes_from_last_epoch(tmp_cache, monkeypatch):
    full = train(CFG, store=training.Store(tmp_cache / "full"))
    monkeypatch.setenv("FTLIB_CHECKPOINT_SECONDS", "0")  # a checkpoint after every epoch

    original = Entry.save_checkpoint

    def save_then_die(self, ckpt):
        original(self, ckpt)
        raise KeyboardInterrupt  # the user stops the run after epoch 1

    monkeypatch.setattr(Entry, "save_checkpoint", save_then_die)
    with pytest.raises(KeyboardInterrupt):
        train(CFG)
    monkeypatch.setattr(Entry, "save_checkpoint", original)

    epochs_run = []
    real_progress = training.loop.progress
    monkeypatch.setattr(training.loop, "progress",
                        lambda it, total, desc: epochs_run.append(desc) or real_progress(it, total, desc))
    resumed = train(CFG)
    assert epochs_run == ["epoch 2/2"], "only the missing epoch is trained"
    assert torch.equal(weights(full.model), weights(resumed.model))
    assert [h["loss"] for h in resumed.history] == pytest.approx([h["loss"] for h in full.history])


def test_penalty_gradient_equals_autograd_of_the_penalized_loss():
    torch.manual_seed(0)
    model = training.models.build("aft_arch1", hidden=(16,))
    x, y = torch.rand(8, 1, 28, 28), torch.randint(0, 10, (8,))
    l1, l2 = 3e-3, 7e-2
    weights = training.penalized_weights(model)
    assert len(weights) == 2 and all(w.dim() == 2 for w in weights), "weights only, no biases"
    loss = training._loss(model(x), y, "ce") + sum(l1 * w.abs().sum() + l2 * w.pow(2).sum() for w in weights)
    expected = torch.autograd.grad(loss, list(model.parameters()))
    model.zero_grad()
    training._loss(model(x), y, "ce").backward()
    training.add_penalty_grad(weights, l1, l2)
    for g, p in zip(expected, model.parameters()):
        torch.testing.assert_close(p.grad, g)
    assert training.penalty(model, l1, l2) == pytest.approx(
        sum(l1 * w.abs().sum().item() + l2 * w.pow(2).sum().item() for w in weights), rel=1e-5)


def test_strong_l2_shrinks_weights(tmp_cache):
    plain = train(CFG)
    l2 = train(TrainConfig(**{**CFG.__dict__, "l2": 0.5, "lr": 1e-2}))
    plain2 = train(TrainConfig(**{**CFG.__dict__, "lr": 1e-2}))
    norm = lambda m: sum(w.pow(2).sum() for w in training.penalized_weights(m)).item()
    assert norm(l2.model) < 0.8 * norm(plain2.model)
    assert plain.train_acc > 0.3


def test_bad_config_is_refused():
    with pytest.raises(training.ParameterError):
        TrainConfig(arch="aft_arch1", dataset="fashion_mnist", epochs=0)
    with pytest.raises(training.ParameterError):
        TrainConfig(arch="aft_arch1", dataset="fashion_mnist", epochs=1, loss="hinge")


def test_linear_output_mse_option():
    """output='linear': MSE on the raw output (one-hot for labels, the float target for regression)."""
    with pytest.raises(training.ParameterError):
        TrainConfig(arch="aft_arch1", dataset="fashion_mnist", epochs=1, output="sigmoid")
    with pytest.raises(training.ParameterError):
        TrainConfig(arch="aft_arch1", dataset="fashion_mnist", epochs=1, loss="ce", output="linear")
    assert TrainConfig(arch="aft_arch1", dataset="fashion_mnist", epochs=1).output == "softmax"
    out = torch.tensor([[0.5, -1.0, 2.0]])
    lab = torch.tensor([2])
    # the linear-output MSE is the MEAN over the output units (Keras' 'mse', continuous_limit's original
    # loss): a sum would make the data loss n_L times larger, i.e. every Eq. 1 regularizer (λ, μ, ψ)
    # n_L times weaker than in the paper
    assert training._loss(out, lab, "mse", "linear").item() == pytest.approx((0.25 + 1.0 + 1.0) / 3)
    batch = torch.tensor([[0.5, -1.0, 2.0], [1.0, 0.0, 0.0]])
    assert training._loss(batch, torch.tensor([2, 0]), "mse", "linear").item() == pytest.approx(
        torch.nn.functional.mse_loss(batch, torch.tensor([[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]])).item())
    assert training._loss(out, lab, "mse").item() == pytest.approx(
        (out.softmax(1) - torch.tensor([[0.0, 0.0, 1.0]])).pow(2).sum().item())
    assert training._loss(torch.tensor([[3.0], [1.0]]), torch.tensor([1.0, 1.0]), "mse", "linear").item() == \
        pytest.approx(2.0)


def test_linear_output_misses_the_cache_and_trains_regression(tmp_cache):
    train(CFG_MSE := TrainConfig(**{**CFG.__dict__, "loss": "mse"}))
    other = train(TrainConfig(**{**CFG_MSE.__dict__, "output": "linear"}))
    assert not other.from_cache
    reg = train(TrainConfig(arch="cl_mlp", dataset="boston", epochs=30, batch_size=32, lr=1e-2, loss="mse",
                            output="linear", arch_kwargs={"widths": (13, 8, 1)}, seed=0))
    assert reg.history[-1]["loss"] < reg.history[0]["loss"]
    assert reg.train_acc != reg.train_acc  # NaN: accuracy is undefined for regression


def test_adadelta_option_trains_misses_the_cache_and_keeps_adam_keys(tmp_cache):
    """optimizer='adadelta' (computation_failures): a separate cache entry; Adam configs keep their old key."""
    with pytest.raises(training.ParameterError):
        TrainConfig(arch="aft_arch1", dataset="fashion_mnist", epochs=1, optimizer="sgd")
    assert "optimizer" not in training.cache_key(CFG)
    ada_cfg = TrainConfig(**{**CFG.__dict__, "optimizer": "adadelta", "lr": 1.0})
    assert training.cache_key(ada_cfg)["optimizer"] == "adadelta"
    assert isinstance(training.make_optimizer(ada_cfg, [torch.nn.Parameter(torch.zeros(1))]), torch.optim.Adadelta)
    adam = train(TrainConfig(**{**CFG.__dict__, "lr": 1.0}))
    ada = train(ada_cfg)
    assert not ada.from_cache and not torch.equal(weights(adam.model), weights(ada.model))
    assert ada.history[-1]["loss"] < 2.3  # it learns (chance level is ln 10 ≈ 2.30)
    assert train(ada_cfg).from_cache


def test_checkpoints_are_written_at_most_once_per_interval(tmp_cache, monkeypatch):
    """FTLIB_CHECKPOINT_SECONDS: epochs shorter than the interval are not checkpointed one by one (an SNN
    checkpoint holds every epoch's weights); 0 checkpoints after every epoch but the last; the numbers
    are the same either way."""
    saved = []
    original = Entry.save_checkpoint
    monkeypatch.setattr(Entry, "save_checkpoint", lambda self, ckpt: saved.append(ckpt["epoch"]) or original(self, ckpt))
    cfg = TrainConfig(**{**CFG.__dict__, "epochs": 4})
    monkeypatch.setenv("FTLIB_CHECKPOINT_SECONDS", "0")
    every = train(cfg, store=training.Store(tmp_cache / "every"))
    assert saved == [1, 2, 3], "after every epoch but the last (the result is stored next)"
    saved.clear()
    monkeypatch.setenv("FTLIB_CHECKPOINT_SECONDS", "3600")
    rare = train(cfg, store=training.Store(tmp_cache / "rare"))
    assert saved == []
    assert torch.equal(weights(every.model), weights(rare.model))
    monkeypatch.setenv("FTLIB_CHECKPOINT_SECONDS", "soon")
    with pytest.raises(ParameterError, match="FTLIB_CHECKPOINT_SECONDS"):
        train(cfg, store=training.Store(tmp_cache / "bad"))
