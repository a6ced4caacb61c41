"""Device selection (:mod:`ftlib.device`) and the trainers' device path, checked on the CPU.

The ``meta`` device holds shapes and no values: a loop that reads a number back to the host (``.item()``,
``float(t)``) fails there at that line. Each trainer below runs every batch of its first epoch on ``meta``
and fails only at the epoch's one read (its history row): the hot loop keeps data, model, masks and sums on
the device.
"""

from __future__ import annotations

import pytest
import torch

from ftlib import adversarial, device, loop, training
from ftlib.errors import ParameterError
from ftlib.store import Store
from ftlib.training import TrainConfig, cache_key, train
from ftlib.training_snn import GenConfig, SNNTrainConfig, train_snn

from .conftest import require_data


def test_resolve_follows_the_argument_then_the_environment(monkeypatch):
    monkeypatch.delenv(device.ENV, raising=False)
    auto = torch.device("cuda:0") if torch.cuda.is_available() else torch.device("cpu")
    assert device.resolve() == auto == device.resolve("auto")
    assert device.resolve("cpu") == torch.device("cpu") == device.resolve(torch.device("cpu"))
    assert device.resolve(" CPU ") == torch.device("cpu")
    monkeypatch.setenv(device.ENV, "meta")
    assert device.resolve() == torch.device("meta")
    assert device.resolve("cpu") == torch.device("cpu")  # an argument wins over the environment


def test_a_device_this_machine_lacks_is_one_actionable_error(monkeypatch):
    monkeypatch.setenv(device.ENV, "gpu")
    with pytest.raises(ParameterError, match="FTLIB_DEVICE='gpu': expected one of auto, cpu, cuda"):
        device.resolve()
    count = torch.cuda.device_count() if torch.cuda.is_available() else 0
    with pytest.raises(ParameterError, match="set FTLIB_DEVICE=cpu"):
        device.resolve(f"cuda:{count}")
    if not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
        with pytest.raises(ParameterError, match="no MPS device"):
            device.resolve("mps")


def test_a_cpu_model_keeps_its_cache_key_and_an_accelerators_model_is_its_own_entry(tmp_path):
    assert device.cache_key(torch.device("cpu")) == {}
    assert device.cache_key(torch.device("cuda", 1)) == {"device": "cuda"} == device.cache_key(torch.device("cuda"))
    cfg = TrainConfig(arch="aft_arch1", dataset="fashion_mnist", epochs=1)
    store = Store(tmp_path)
    plain = store.entry("train", cache_key(cfg), training.TRAINING_CODE).key
    gpu = store.entry("train", {**cache_key(cfg), **device.cache_key(torch.device("cuda"))},
                      training.TRAINING_CODE).key
    assert gpu != plain


def _count_batches(monkeypatch) -> list[int]:
    seen = [0]
    real = loop.batches

    def counting(order, batch_size, desc):
        for idx in real(order, batch_size, desc):
            seen[0] += 1
            yield idx

    monkeypatch.setattr(loop, "batches", counting)
    return seen


def _fails_at_the_epochs_read(run, seen, batches: int):
    with pytest.raises((RuntimeError, NotImplementedError), match="meta"):
        run()
    assert seen[0] == batches, f"the loop stopped after {seen[0]} of {batches} batches: a host read inside it"


CLW = {"widths": [784, 24, 10], "activation": "sigmoid", "flatten": True}
SUPERVISED = {
    "penalties": TrainConfig(arch="aft_arch1", dataset="fashion_mnist", epochs=1, n_train=256, l1=1e-4, l2=1e-3),
    "fault-aware": TrainConfig(arch="aft_arch1", dataset="fashion_mnist", epochs=1, n_train=256,
                               fault_train="stuck_nodes", fault_train_rate=0.3),
    "dropout": TrainConfig(arch="cl_mlp", dataset="mnist", epochs=1, n_train=256, dropout=0.2, loss="mse",
                           output="linear", arch_kwargs=CLW),
    "regularizers": TrainConfig(arch="cl_mlp", dataset="mnist", epochs=1, n_train=256, var_reg=0.1, balance=0.01,
                                continuity=(1e-3, 1e-2), loss="mse", output="linear", arch_kwargs=CLW),
    "adadelta cnn": TrainConfig(arch="cf_cnn", dataset="mnist", epochs=1, batch_size=64, lr=1.0, n_train=256,
                                optimizer="adadelta", arch_kwargs={"layers": 1, "kernel": 3, "pool": 2, "filters": 4,
                                                                   "pooling": "max", "activation": "crelu"}),
}


@pytest.mark.parametrize("name", SUPERVISED)
def test_the_supervised_loop_reads_the_device_once_per_epoch(name, tmp_path, monkeypatch):
    cfg = SUPERVISED[name]
    require_data(cfg.dataset)
    seen = _count_batches(monkeypatch)
    _fails_at_the_epochs_read(lambda: train(cfg, Store(tmp_path), device="meta"), seen, 256 // cfg.batch_size)


@pytest.mark.parametrize("cfg", [
    SNNTrainConfig(method="baseline", epochs=1, n_train=128, arch_kwargs={"num_steps": 4}),
    SNNTrainConfig(method="previous", epochs=1, n_train=128, fir=0.1, arch_kwargs={"num_steps": 4}),
    SNNTrainConfig(method="previous", epochs=1, n_train=128, fir=0.1, variant="authors", gen=GenConfig()),
], ids=["baseline", "previous", "previous-authors"])
def test_the_spiking_loop_reads_the_device_once_per_epoch(cfg, tmp_path, monkeypatch):
    require_data("mnist")
    seen = _count_batches(monkeypatch)
    _fails_at_the_epochs_read(lambda: train_snn(cfg, Store(tmp_path), device="meta"), seen, 128 // cfg.batch_size)


def test_phase_one_reads_the_device_once_per_logged_row(tmp_path, monkeypatch):
    require_data("fashion_mnist")
    cfg = adversarial.AdversarialConfig(arch="aft_arch1", dataset="fashion_mnist", epochs=1, batch_size=64,
                                        n_train=256, log_every=100)
    seen = _count_batches(monkeypatch)
    _fails_at_the_epochs_read(lambda: adversarial.pretrain(cfg, Store(tmp_path), device="meta"), seen, 4)


def test_the_prior_and_the_spike_trains_are_drawn_by_cpu_generators_on_any_device():
    """Same seed, same draws, whatever the device the result goes to (here: the values before the move)."""
    a = adversarial.sample_prior(5, (3,), 1.0, torch.Generator().manual_seed(1))
    b = adversarial.sample_prior(5, (3,), 1.0, torch.Generator().manual_seed(1), device="meta")
    assert b.device.type == "meta" and b.shape == a.shape
    from ftlib.models.snn_patterns import RateEncoder

    enc = RateEncoder(3)
    enc.generator = torch.Generator().manual_seed(2)
    x = torch.rand(2, 1, 28, 28)
    first = enc(x)
    enc.generator = torch.Generator().manual_seed(2)
    assert torch.equal(first, enc(x))
    enc.generator = torch.Generator().manual_seed(2)
    assert enc(x.to("meta")).device.type == "meta"


def test_a_worker_trains_on_the_clients_device_type_and_sends_the_model_back_on_the_cpu(tmp_path):
    from ftlib import distributed

    require_data("fashion_mnist")
    cfg = TrainConfig(arch="aft_arch1", dataset="fashion_mnist", epochs=1, n_train=128, arch_kwargs={"hidden": (8,)})
    sent = distributed._train_task(cfg, str(tmp_path), "cpu")
    assert next(sent.model.parameters()).device.type == "cpu"
    (here,) = distributed.train_many([cfg], Store(tmp_path), device="cpu")  # no cluster: this process, cached
    assert here.from_cache and torch.equal(next(here.model.parameters()), next(sent.model.parameters()))
