"""snn_patterns: the 784×128×10 spiking network of leaky integrate-and-fire neurons.

The network is an :class:`torch.nn.Sequential` (so the fault engine can hook
its layers by name)::

    "0" RateEncoder   image (B, 1, 28, 28) → Bernoulli spike trains (T, B, 784)
    "0.prob"            its spike probabilities (B, 784)   ← pixel faults (variant "authors")
    "1" Linear        784 → 128, applied to every time step at once
                        its output is the hidden input current (T, B, 128) ← hidden faults ("authors")
    "2" LIF           hidden layer: spikes (T, B, 128)   ← HSF / NASF act here ("paper-text")
    "3" Linear        128 → 10
    "4" LIF           output layer: spikes (T, B, 10)
    "5" SpikeCount    spikes summed over time (B, 10): the class scores

Two variants (``snn_mlp(variant=...)``), see :data:`VARIANTS`:

- ``"authors"``: the neuron of the authors' public script (``fault_tolerant.py``
  of GitHub ``samsam779/Fault-tolerant_Training_with_Adversarial_Attack_Patterns``,
  commit 191a87b; facts in ``shared/data/snn_patterns_authors/PROVENANCE.md``):
  ``mem[t] = 0.2 · mem[t-1] · (1 − spk[t-1]) + W x[t]`` (decay 0.2, reset to
  zero, the reset not detached), ``spk = mem > 0.5``, rectangular surrogate
  gradient of height 1 for ``mem`` in (0, 1), no biases, 10 time steps. Their
  21 trained checkpoints load into it (:func:`authors_state_dict`).
- ``"paper-text"``: our reading of the paper's text, described below.

The LIF dynamics are snntorch's :class:`snntorch.Leaky` (first-order leaky
integrate-and-fire, ``mem[t] = β mem[t-1] + I[t] − reset``, reset by
subtraction, spike when ``mem > threshold``) with the fast-sigmoid surrogate
gradient (slope 25) for training. The paper ("the package in [5]") does not
give the neuron parameters; we use β = 0.95 and threshold 1.0, the values of
snntorch's MNIST tutorials: with β = 0.95 the membrane time constant
(≈ 20 steps) matches the simulation window, so a hidden neuron integrates
evidence over the whole presentation.

Rate encoding: pixel intensity p ∈ [0, 1] is the spike probability of its
input neuron at every time step. The encoder's gradient with respect to the
image is the straight-through estimate ∂spike/∂p = 1 (needed by the pattern
generation of Algorithm 1, which differentiates the outputs with respect to
the input pattern). Its random draws come from ``encoder.generator`` if set,
else torch's global RNG (which :mod:`ftlib.training` seeds per epoch).
"""

from __future__ import annotations

import torch
import torch.nn as nn

HIDDEN_LAYER = "2"
"""The module name of the hidden spiking layer (the target of HSF/NASF faults in the "paper-text" variant)."""
PIXEL_LAYER = "0.prob"
"""The module whose output is the input neurons' spike probabilities (B, 784) (pixel faults, "authors")."""
CURRENT_LAYER = "1"
"""The module whose output is the hidden neurons' input current (T, B, 128) (hidden faults, "authors")."""

VARIANTS = ("authors", "paper-text")
"""``"authors"``: the authors' public code (what produced the paper's tables); ``"paper-text"``: our reading
of the paper's text (snntorch Leaky, β 0.95, threshold 1, biases)."""

#: the authors' neuron (fault_tolerant.py: decay, thresh, lens; 10 time steps)
AUTHORS_DECAY = 0.2
AUTHORS_THRESHOLD = 0.5
AUTHORS_LENS = 0.5
AUTHORS_NUM_STEPS = 10

#: β, threshold and surrogate slope (see the module docstring for why)
DEFAULT_BETA = 0.95
DEFAULT_THRESHOLD = 1.0
DEFAULT_SLOPE = 25.0


class SpikeProbability(nn.Module):
    """Image ``(B, 1, 28, 28)`` → spike probabilities of the input neurons ``(B, 784)`` (pixels clipped to [0, 1]).

    A module of its own so a fault model can act on the probabilities (the authors' pixel faults).
    Faulty probabilities are clipped to [0, 1] again by the encoder."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.flatten(1).clamp(0.0, 1.0)


class RateEncoder(nn.Module):
    """Bernoulli rate coding of images into ``num_steps`` spike frames (straight-through gradient).

    ``(B, 1, 28, 28)`` → ``(T, B, 784)``; the probabilities come from the child module ``prob``."""

    def __init__(self, num_steps: int):
        super().__init__()
        if isinstance(num_steps, bool) or not isinstance(num_steps, int) or num_steps < 1:
            raise ValueError(f"num_steps: expected a positive int, got {num_steps!r}")
        self.num_steps = num_steps
        self.prob = SpikeProbability()
        self.generator: torch.Generator | None = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        p = self.prob(x).clamp(0.0, 1.0)
        probs = p.unsqueeze(0).expand(self.num_steps, *p.shape)
        # drawn on the generator's device (a CPU generator: the same spike trains on any device), then moved
        where = p.device if self.generator is None else self.generator.device
        u = torch.rand(probs.shape, generator=self.generator, dtype=p.dtype, device=where).to(p.device)
        spikes = (u < probs).to(p.dtype)
        if p.requires_grad:
            spikes = spikes + probs - probs.detach()
        return spikes

    def extra_repr(self) -> str:
        return f"num_steps={self.num_steps}"


class LIF(nn.Module):
    """A layer of snntorch leaky integrate-and-fire neurons run over the whole window.

    Input: currents ``(T, B, N)``; output: spikes ``(T, B, N)`` (0/1). The
    membrane starts at 0 for every input. ``last_membrane`` keeps the
    membrane trace ``(T, B, N)`` of the last call when ``record`` is True
    (for plots).
    """

    def __init__(self, beta: float = DEFAULT_BETA, threshold: float = DEFAULT_THRESHOLD,
                 slope: float = DEFAULT_SLOPE):
        super().__init__()
        import snntorch as snn
        from snntorch import surrogate

        self.beta, self.threshold, self.slope = float(beta), float(threshold), float(slope)
        self.neuron = snn.Leaky(beta=self.beta, threshold=self.threshold,
                                spike_grad=surrogate.fast_sigmoid(slope=self.slope))
        self.record = False
        self.last_membrane: torch.Tensor | None = None

    def forward(self, cur: torch.Tensor) -> torch.Tensor:
        mem = torch.zeros_like(cur[0])
        spikes, mems = [], []
        for t in range(cur.shape[0]):
            spk, mem = self.neuron(cur[t], mem)
            spikes.append(spk)
            if self.record:
                mems.append(mem.detach())
        if self.record:
            self.last_membrane = torch.stack(mems)
        return torch.stack(spikes)

    def extra_repr(self) -> str:
        return f"beta={self.beta}, threshold={self.threshold}, surrogate=fast_sigmoid(slope={self.slope})"


class _RectSpike(torch.autograd.Function):
    """Heaviside spike ``mem > threshold`` with the rectangular surrogate ``1[|mem − threshold| < lens]``."""

    @staticmethod
    def forward(ctx, mem, threshold, lens):
        ctx.save_for_backward(mem)
        ctx.threshold, ctx.lens = threshold, lens
        return (mem > threshold).to(mem.dtype)

    @staticmethod
    def backward(ctx, grad):
        (mem,) = ctx.saved_tensors
        return grad * ((mem - ctx.threshold).abs() < ctx.lens).to(grad.dtype), None, None


class AuthorsLIF(nn.Module):
    """The authors' leaky integrate-and-fire layer (fault_tolerant.py ``mem_update``), over the whole window.

    Input: currents ``(T, B, N)``; output: spikes ``(T, B, N)``::

        mem[t] = decay · mem[t-1] · (1 − spk[t-1]) + cur[t]     (mem[-1] = spk[-1] = 0)
        spk[t] = 1[mem[t] > threshold]

    decay 0.2, threshold 0.5, rectangular surrogate of height 1 on (threshold − lens, threshold + lens) =
    (0, 1); the reset term (1 − spk) is not detached. ``record``/``last_membrane`` as :class:`LIF`.
    """

    def __init__(self, decay: float = AUTHORS_DECAY, threshold: float = AUTHORS_THRESHOLD,
                 lens: float = AUTHORS_LENS):
        super().__init__()
        self.decay, self.threshold, self.lens = float(decay), float(threshold), float(lens)
        self.record = False
        self.last_membrane: torch.Tensor | None = None

    def forward(self, cur: torch.Tensor) -> torch.Tensor:
        mem = torch.zeros_like(cur[0])
        spk = torch.zeros_like(cur[0])
        spikes, mems = [], []
        for t in range(cur.shape[0]):
            mem = mem * self.decay * (1.0 - spk) + cur[t]
            spk = _RectSpike.apply(mem, self.threshold, self.lens)
            spikes.append(spk)
            if self.record:
                mems.append(mem.detach())
        if self.record:
            self.last_membrane = torch.stack(mems)
        return torch.stack(spikes)

    def extra_repr(self) -> str:
        return f"decay={self.decay}, threshold={self.threshold}, surrogate=rect(height 1, half-width {self.lens})"


class SpikeCount(nn.Module):
    """Spikes ``(T, B, C)`` → spike counts ``(B, C)`` (the rate-coded class scores)."""

    def forward(self, spikes: torch.Tensor) -> torch.Tensor:
        return spikes.sum(0)


def snn_mlp(hidden: int = 128, num_steps: int | None = None, beta: float = DEFAULT_BETA,
            threshold: float = DEFAULT_THRESHOLD, slope: float = DEFAULT_SLOPE,
            variant: str = "paper-text") -> nn.Sequential:
    """The paper's 784 × ``hidden`` × 10 LIF network (Table 1: 784×128×10) over ``num_steps`` time steps.

    ``variant="authors"``: the authors' neuron (:class:`AuthorsLIF`), no biases, 10 steps by default
    (``beta``/``threshold``/``slope`` are not used). ``"paper-text"``: snntorch Leaky neurons, 20 steps by
    default."""
    if variant not in VARIANTS:
        raise ValueError(f"variant: expected one of {', '.join(VARIANTS)}, got {variant!r}")
    if variant == "authors":
        return nn.Sequential(
            RateEncoder(AUTHORS_NUM_STEPS if num_steps is None else num_steps),
            nn.Linear(784, hidden, bias=False),
            AuthorsLIF(),
            nn.Linear(hidden, 10, bias=False),
            AuthorsLIF(),
            SpikeCount(),
        )
    num_steps = 20 if num_steps is None else num_steps
    return nn.Sequential(
        RateEncoder(num_steps),
        nn.Linear(784, hidden),
        LIF(beta, threshold, slope),
        nn.Linear(hidden, 10),
        LIF(beta, threshold, slope),
        SpikeCount(),
    )


def authors_state_dict(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """An authors' checkpoint (``layers.0.weight`` (128, 784), ``layers.1.weight`` (10, 128)) as the state
    dict of ``snn_mlp(variant="authors")`` (``1.weight``, ``3.weight``)."""
    expected = {"layers.0.weight": (128, 784), "layers.1.weight": (10, 128)}
    got = {k: tuple(v.shape) for k, v in state.items()}
    if got != expected:
        raise ValueError(f"not an authors' 784-128-10 checkpoint: expected tensors {expected}, found {got}")
    return {"1.weight": state["layers.0.weight"].float(), "3.weight": state["layers.1.weight"].float()}


ARCHITECTURES = {"snn_mlp": snn_mlp}
