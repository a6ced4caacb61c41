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

from ..errors import FtlibError, ParameterError
from . import _random as R
from .models import ActivationFault, check_rate


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


# --- the authors' fault population: input pixels and hidden neurons, one joint draw -------------------

SITE_ROLES = ("probability", "current")
"""What a site's output is: spike probabilities of input neurons ``(B, N)``, or input currents of spiking
neurons ``(T, B, N)`` (any leading dims; the neurons are the last dim)."""


class PopulationSpikeFault(ActivationFault):
    """HSF / NASF over a *population* of neurons spread over several sites, drawn jointly.

    Paper: snn_patterns, Section 4 (HSF, NASF, "fault ratio", ten fault sets), as the authors' public
    script ran it (``fault_tolerant.py``, commit 191a87b; ``shared/data/snn_patterns_authors/PROVENANCE.md``):

    - **population**: the ``sites``, each ``(module name, role, N)``; for the 784-128-10 network the 784
      input pixels (role ``"probability"``: the encoder's spike probabilities) and the 128 hidden neurons
      (role ``"current"``: their input current), 912 candidates; the output layer is never faulted;
    - **fault set**: ``int(N_total · ratio)`` distinct positions (Python ``int``, i.e. floor, as the
      authors), uniformly without replacement over the whole population (one permanent draw per instance);
    - **HSF** ("hard to spike"): the probability or current of a faulty unit is multiplied by
      ``hsf_factor`` = 0.1 (attenuated, not silenced);
    - **NASF** ("always spikes"): a faulty pixel's probability is 1; a faulty hidden neuron's current is
      replaced by ``nasf_current`` = 5 (the authors' input factor 0 plus membrane offset +5 = 10 × the
      threshold 0.5), so it spikes at every step.

    ``apply_to``: the site names whose faults are applied (default: all). The draw is always over the whole
    population, so ``apply_to=("1",)`` is the *same* fault set restricted to the hidden neurons: fault sets
    are paired across populations (inputs only / hidden only / both).
    """

    default_permanent = True
    allowed_permanence = (True,)
    forced_value = None

    def __init__(self, kind: str, sites, *, apply_to=None, hsf_factor: float = 0.1, nasf_current: float = 5.0):
        if kind not in ("HSF", "NASF"):
            raise ParameterError(f"kind: expected 'HSF' or 'NASF', got {kind!r}")
        sites = tuple((str(n), str(r), int(k)) for n, r, k in sites)
        if not sites or any(r not in SITE_ROLES or k < 1 for _, r, k in sites):
            raise ParameterError(f"sites: expected (name, role in {SITE_ROLES}, N >= 1) triples, got {sites!r}")
        names = tuple(n for n, _, _ in sites)
        apply_to = names if apply_to is None else tuple(apply_to)
        if not apply_to or any(a not in names for a in apply_to):
            raise ParameterError(f"apply_to: expected a non-empty subset of {names}, got {apply_to!r}")
        super().__init__(list(names), True, None)
        self.kind, self.sites, self.apply_to = kind, sites, apply_to
        self.hsf_factor, self.nasf_current = float(hsf_factor), float(nasf_current)

    def _why_not(self):
        return "HSF/NASF are defective neurons: the fault set is fixed for a faulty instance"

    def default_layers(self):
        return ()

    @property
    def population(self) -> int:
        """The number of candidate units (912 for the authors' 784-128-10 network)."""
        return sum(k for _, _, k in self.sites)

    def count(self, ratio: float) -> int:
        """How many units a fault set at ``ratio`` holds: ``int(population · ratio)``."""
        return int(self.population * check_rate(ratio, "ratio"))

    def draw_population(self, rate: float, gen: torch.Generator | None) -> dict[str, torch.Tensor]:
        """One fault set: a boolean mask ``(N,)`` per site (all sites, applied or not), on the CPU."""
        n = self.population
        flat = torch.zeros(n, dtype=torch.bool)
        idx = R.choose(n, self.count(rate), gen, "cpu")
        if idx.numel():
            flat[idx] = True
        out, start = {}, 0
        for name, _, k in self.sites:
            out[name] = flat[start:start + k]
            start += k
        return out

    def apply_site(self, name: str, out: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """``out`` of site ``name`` (neurons on its last dim) with the faults of ``mask`` (a new tensor)."""
        if name not in self.apply_to:
            return out
        if out.shape[-1] != mask.shape[0]:
            raise FtlibError(f"PopulationSpikeFault: site {name!r} has {out.shape[-1]} units, the population "
                             f"declares {mask.shape[0]}")
        role = next(r for n, r, _ in self.sites if n == name)
        mask = mask.to(out.device)
        if self.kind == "HSF":
            return out * torch.where(mask, self.hsf_factor, 1.0).to(out.dtype)
        return out.masked_fill(mask, 1.0 if role == "probability" else self.nasf_current)

    def _args(self):
        args = {"kind": self.kind, "sites": self.sites}
        if self.apply_to != tuple(n for n, _, _ in self.sites):
            args["apply_to"] = self.apply_to
        if self.hsf_factor != 0.1 or self.nasf_current != 5.0:
            args.update(hsf_factor=self.hsf_factor, nasf_current=self.nasf_current)
        return args
