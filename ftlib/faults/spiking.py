"""Stand-alone HSF / NASF helpers for spiking simulations (snn_patterns).

Use them directly in a hand-written time loop, or let :class:`SpikeFault`
(through :func:`ftlib.faults.inject`) hook the spiking layer for you::

    mask = spike_fault_mask(128, 0.2, generator=torch.Generator().manual_seed(0))
    for t in range(T):
        spk = lif(x[t])                  # (B, 128)
        spk = force_spikes(spk, mask, "NASF")

Paper: snn_patterns, Section 4 (HSF "hard to spike": the neuron never emits a
spike; NASF "neuron always spikes": it emits one at every time step; the fault
ratio is the fraction of faulty neurons).
"""

from __future__ import annotations

import torch

from ..errors import ParameterError
from . import _random as R
from .models import check_rate


def spike_fault_mask(n_neurons: int | tuple[int, ...], ratio: float, generator: torch.Generator | None = None,
                     device: torch.device | str = "cpu") -> torch.Tensor:
    """Boolean mask over neurons with exactly ``round(ratio * N)`` True (half up),
    uniformly without replacement. ``n_neurons``: ``N`` or a neuron shape
    (e.g. ``(C, H, W)`` for a convolutional spiking layer)."""
    shape = (n_neurons,) if isinstance(n_neurons, int) else tuple(n_neurons)
    if not shape or any((not isinstance(s, int)) or isinstance(s, bool) or s < 1 for s in shape):
        raise ParameterError(f"n_neurons: expected a positive int or a shape, got {n_neurons!r}")
    ratio = check_rate(ratio, "ratio")
    n = 1
    for s in shape:
        n *= s
    mask = torch.zeros(n, dtype=torch.bool, device=device)
    idx = R.choose(n, R.exact_count(ratio, n), generator, device)
    if idx.numel():
        mask[idx] = True
    return mask.view(shape)


def force_spikes(spikes: torch.Tensor, mask: torch.Tensor, kind: str) -> torch.Tensor:
    """``spikes`` with the neurons in ``mask`` forced to 0 (``"HSF"``) or 1 (``"NASF"``).

    ``spikes``: ``(..., *neuron_shape)``, e.g. ``(T, B, N)`` or ``(B, N)``;
    ``mask``: boolean ``neuron_shape``, right-aligned (broadcast over time and
    batch). Returns a new tensor of the same shape and dtype (differentiable
    through the unforced entries).
    """
    if kind not in ("HSF", "NASF"):
        raise ParameterError(f"kind: expected 'HSF' or 'NASF', got {kind!r}")
    if mask.dtype != torch.bool:
        raise ParameterError(f"mask: expected a boolean tensor, got {mask.dtype}")
    if mask.dim() > spikes.dim() or tuple(spikes.shape[spikes.dim() - mask.dim():]) != tuple(mask.shape):
        raise ParameterError(
            f"mask of shape {tuple(mask.shape)} does not match the last dims of spikes {tuple(spikes.shape)}"
        )
    return spikes.masked_fill(mask, 0.0 if kind == "HSF" else 1.0)
