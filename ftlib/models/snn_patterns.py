"""snn_patterns: the 784×128×10 spiking network of leaky integrate-and-fire neurons.

The network is an :class:`torch.nn.Sequential` (so the fault engine can hook
its layers by name)::

    "0" RateEncoder   image (B, 1, 28, 28) → Bernoulli spike trains (T, B, 784)
    "1" Linear        784 → 128, applied to every time step at once
    "2" LIF           hidden layer: spikes (T, B, 128)   ← HSF / NASF act here
    "3" Linear        128 → 10
    "4" LIF           output layer: spikes (T, B, 10)
    "5" SpikeCount    spikes summed over time (B, 10): the class scores

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
"""The module name of the hidden spiking layer (the target of HSF/NASF faults)."""

#: β, threshold and surrogate slope (see the module docstring for why)
DEFAULT_BETA = 0.95
DEFAULT_THRESHOLD = 1.0
DEFAULT_SLOPE = 25.0


class RateEncoder(nn.Module):
    """Bernoulli rate coding of images into ``num_steps`` spike frames (straight-through gradient)."""

    def __init__(self, num_steps: int):
        super().__init__()
        if isinstance(num_steps, bool) or not isinstance(num_steps, int) or num_steps < 1:
            raise ValueError(f"num_steps: expected a positive int, got {num_steps!r}")
        self.num_steps = num_steps
        self.generator: torch.Generator | None = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        p = x.flatten(1).clamp(0.0, 1.0)
        probs = p.unsqueeze(0).expand(self.num_steps, *p.shape)
        u = torch.rand(probs.shape, generator=self.generator, dtype=p.dtype, device=p.device)
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


class SpikeCount(nn.Module):
    """Spikes ``(T, B, C)`` → spike counts ``(B, C)`` (the rate-coded class scores)."""

    def forward(self, spikes: torch.Tensor) -> torch.Tensor:
        return spikes.sum(0)


def snn_mlp(hidden: int = 128, num_steps: int = 20, beta: float = DEFAULT_BETA,
            threshold: float = DEFAULT_THRESHOLD, slope: float = DEFAULT_SLOPE) -> nn.Sequential:
    """The paper's 784 × ``hidden`` × 10 LIF network (Table 1: 784×128×10) over ``num_steps`` time steps."""
    return nn.Sequential(
        RateEncoder(num_steps),
        nn.Linear(784, hidden),
        LIF(beta, threshold, slope),
        nn.Linear(hidden, 10),
        LIF(beta, threshold, slope),
        SpikeCount(),
    )


ARCHITECTURES = {"snn_mlp": snn_mlp}
