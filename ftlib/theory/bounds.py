"""The four estimates of the output error Δ = y_L(crashed) − y_L (supplement Sec. 7, "b1"–"b4").

All functions take a network of Definition 1 (a plain ``nn.Sequential``), inputs
``x`` of shape ``(B, ...)``, crash probabilities ``p`` (one float, or a dict
layer name → p_l) and crash points ``layers`` (a fault-engine layer spec;
None = every activation module). They return a :class:`Moments`: the
predicted mean and variance of Δ for every input and output unit, summed over
the crashing layers (error superposition, Additional Proposition 7) and per layer.

* **b3** :func:`first_order` — Theorem 1 / Additional Corollary 2:
  E Δ ≈ −Σ_l p_l Σ_i (∂y_L/∂y_l^i) y_l^i and Var Δ ≈ Σ_l p_l Σ_i ((∂y_L/∂y_l^i) y_l^i)²,
  by autograd, one backward pass per output unit for all layers and inputs at once.
* **b4** :func:`single_crash` — the exact effect Δ_{l,i} of crashing one neuron at a time
  (n_l forward passes per layer, batched): E Δ ≈ Σ p_l Σ_i Δ_{l,i}, Var Δ ≈ Σ p_l Σ_i Δ_{l,i}².
* **b1** :func:`spectral` — Proposition 2 / Additional Proposition 1 with ‖·‖₂:
  ‖Δ‖₂ ≤ Π_{l'>l} K_{l'} ‖W_{l'}‖₂ · ‖ξ⊙y_l − y_l‖₂; mean bound with E‖ξ⊙y−y‖₂ ≤ sqrt(p) ‖y_l‖₂,
  second-moment bound with E‖ξ⊙y−y‖₂² = p ‖y_l‖₂². One value for all output units.
* **b2** :func:`absolute` — Additional Proposition 2: E|Δ| ≤ p |W_L|···|W_{l+1}| |y_l|
  (componentwise, Lipschitz constants multiplied in); for the variance our analogue
  E Δ_k² ≤ p Σ_i (A_{ki} |y_l^i|)² + O(p²) with A = |W_L|···|W_{l+1}|.

b1 and b2 bound magnitudes (|E Δ| ≤ E|Δ|, Var Δ ≤ E Δ²); b3 and b4 estimate signed means.

``var_factor``: the paper writes p_l in the variance (first order); ``"p(1-p)"``
(our default) uses the exact variance of a Bernoulli variable, which makes b3
exact for a linear network (the difference is O(p²), inside Theorem 1's remainder).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import nn

from ..errors import ParameterError
from .network import Layout, as_rates, following_linears, layout


@dataclass
class Moments:
    """Predicted (or measured) mean and variance of Δ: ``mean``/``var`` of shape ``(B, n_L)``;
    ``per_layer``: ``{layer: (mean, var)}``; ``method``: which estimate."""

    mean: torch.Tensor
    var: torch.Tensor
    per_layer: dict[str, tuple[torch.Tensor, torch.Tensor]] = field(default_factory=dict)
    method: str = ""

    @property
    def std(self) -> torch.Tensor:
        return self.var.clamp_min(0).sqrt()


def _vf(p: float, var_factor: str) -> float:
    if var_factor == "p":
        return p
    if var_factor == "p(1-p)":
        return p * (1.0 - p)
    raise ParameterError(f"var_factor: expected 'p' or 'p(1-p)', got {var_factor!r}")


def _sum(per_layer: dict, B: int, nL: int, method: str) -> Moments:
    mean = torch.zeros(B, nL, dtype=torch.float64)
    var = torch.zeros(B, nL, dtype=torch.float64)
    for m, v in per_layer.values():
        mean += m
        var += v
    return Moments(mean, var, per_layer, method)


def _flat_out(out: torch.Tensor) -> torch.Tensor:
    return out.reshape(out.shape[0], -1)


def first_order(model: nn.Module, x: torch.Tensor, p: float | dict, layers: object = None,
                var_factor: str = "p(1-p)", output=None) -> Moments:
    """b3: Theorem 1's first-order mean and variance of Δ, by autograd (see the module docstring).

    Per layer l (Theorem 1 / Additional Corollary 2), for output unit k:
    E Δ_k ≈ −p_l Σ_i t_i and Var Δ_k ≈ p_l(1−p_l) Σ_i t_i² with t_i = (∂y_L^k/∂y_l^i) y_l^i; the layers'
    terms are added (Additional Proposition 7). Any plain ``nn.Sequential`` works, convolutional ones
    included (a neuron is then one element (channel, row, column) of an activation map); the sums are
    reduced per output unit as its gradient is computed, so memory stays O(Σ_l n_l) for many outputs.

    ``output``: optional function of the network output (e.g. a loss per input,
    returning ``(B,)`` or ``(B, k)``) whose error is wanted instead of y_L's.
    """
    lay = layout(model, layers)
    rates = as_rates(p, lay.names)
    with torch.enable_grad():
        want = {i: n for n, i in lay.points}
        acts, out = {}, x
        for i, st in enumerate(lay.stages):
            out = st(out)
            if i in want:
                if not out.requires_grad:  # e.g. the input neurons: nothing before them has parameters
                    out = out.detach().requires_grad_(True)
                acts[want[i]] = out
        if output is not None:
            out = output(out)
        out = out.reshape(out.shape[0], -1)
        B, nL = out.shape
        ys = [acts[n] for n in lay.names]
        y_det = [y.detach() for y in ys]
        # Σ_i t_i and Σ_i t_i² with t_i = (∂y_L^k/∂y_l^i) y_l^i, reduced as soon as each output unit's gradient
        # is known: memory O(Σ n_l), not O(n_L Σ n_l) (a conv net with 1000 outputs would need tens of GB)
        s1 = [torch.zeros(B, nL, dtype=torch.float64) for _ in ys]
        s2 = [torch.zeros(B, nL, dtype=torch.float64) for _ in ys]
        for k in range(nL):
            g = torch.autograd.grad(out[:, k].sum(), ys, retain_graph=k < nL - 1, allow_unused=True)
            for j, gj in enumerate(g):
                if gj is None:
                    continue
                t = (gj * y_det[j]).reshape(B, -1).double()
                s1[j][:, k] = t.sum(-1)
                s2[j][:, k] = t.pow(2).sum(-1)
    per_layer = {}
    for j, name in enumerate(lay.names):
        pl = rates[name]
        per_layer[name] = (-pl * s1[j], _vf(pl, var_factor) * s2[j])
    return _sum(per_layer, B, nL, "b3")


@torch.no_grad()
def single_crash_effects(model: nn.Module, x: torch.Tensor, layer: str, max_rows: int = 65536,
                         output=None) -> torch.Tensor:
    """Δ_{l,i}: the exact output change when only neuron ``i`` of ``layer`` crashes, shape ``(n_l, B, n_L)``."""
    lay = layout(model, [layer])
    s = lay.index(layer)
    h = lay.run(x, 0, s + 1)
    out = lay.run(h, s + 1)
    if output is not None:
        out = output(out)
    base = _flat_out(out)
    B = h.shape[0]
    flat = h.reshape(B, -1)
    n = flat.shape[1]
    m = max(1, max_rows // max(B, 1))
    parts = []
    for c0 in range(0, n, m):
        idx = torch.arange(c0, min(n, c0 + m))
        k = idx.numel()
        hh = flat.unsqueeze(0).repeat(k, 1, 1)
        hh[torch.arange(k), :, idx] = 0.0
        o = lay.run(hh.reshape(k * B, *h.shape[1:]), s + 1)
        if output is not None:
            o = output(o)
        parts.append((o.reshape(k, B, -1) - base.unsqueeze(0)).double())
    return torch.cat(parts)


def single_crash(model: nn.Module, x: torch.Tensor, p: float | dict, layers: object = None,
                 var_factor: str = "p(1-p)", max_rows: int = 65536, output=None) -> Moments:
    """b4: mean and variance of Δ from the exact single-neuron crash effects (first order in p)."""
    lay = layout(model, layers)
    rates = as_rates(p, lay.names)
    per_layer = {}
    for name in lay.names:
        d = single_crash_effects(model, x, name, max_rows, output)  # (n_l, B, nL)
        pl = rates[name]
        per_layer[name] = (pl * d.sum(0), _vf(pl, var_factor) * d.pow(2).sum(0))
    B, nL = next(iter(per_layer.values()))[0].shape
    return _sum(per_layer, B, nL, "b4")


def _chain(lay: Layout, name: str) -> list[tuple[torch.Tensor | None, float]]:
    return [(None if lin is None else lin.weight.detach().double(), k) for lin, k in following_linears(lay, name)]


@torch.no_grad()
def spectral(model: nn.Module, x: torch.Tensor, p: float | dict, layers: object = None) -> Moments:
    """b1 (Proposition 2): bounds on E‖Δ‖₂ (``mean``) and E‖Δ‖₂² (``var``), the same for every output unit."""
    lay = layout(model, layers)
    rates = as_rates(p, lay.names)
    acts, out = lay.activations(x)
    B, nL = _flat_out(out).shape
    per_layer = {}
    for name in lay.names:
        factor = 1.0
        for w, k in _chain(lay, name):
            factor *= k if w is None else float(torch.linalg.matrix_norm(w, ord=2))
        ynorm2 = acts[name].reshape(B, -1).double().pow(2).sum(1)
        pl = rates[name]
        mean = (factor * (pl * ynorm2).sqrt()).unsqueeze(1).expand(B, nL).clone()
        var = (factor ** 2 * pl * ynorm2).unsqueeze(1).expand(B, nL).clone()
        per_layer[name] = (mean, var)
    return _sum(per_layer, B, nL, "b1")


@torch.no_grad()
def absolute(model: nn.Module, x: torch.Tensor, p: float | dict, layers: object = None) -> Moments:
    """b2 (Additional Proposition 2): bounds on E|Δ_k| (``mean``) and, to first order, E Δ_k² (``var``)."""
    lay = layout(model, layers)
    rates = as_rates(p, lay.names)
    acts, out = lay.activations(x)
    B, nL = _flat_out(out).shape
    per_layer = {}
    for name in lay.names:
        a = None  # |W_L| ... |W_{l+1}| with Lipschitz constants
        scale = 1.0
        for w, k in _chain(lay, name):
            if w is None:
                scale *= k
            else:
                a = w.abs() if a is None else w.abs() @ a
        if a is None:
            raise ParameterError(f"layer {name!r}: no Linear layer follows it")
        a = a * scale  # (nL, n_l)
        y = acts[name].reshape(B, -1).double().abs()  # (B, n_l)
        pl = rates[name]
        per_layer[name] = (pl * y @ a.T, pl * (y.pow(2) @ a.pow(2).T))
    return _sum(per_layer, B, nL, "b2")


def loss_gradient_mean(model: nn.Module, x: torch.Tensor, target: torch.Tensor, p: float | dict, loss,
                       layers: object = None) -> torch.Tensor:
    """Additional Proposition 9: E_ξ Δ_{L+1} ≈ −Σ_l p_l ⟨∇_{W_{l+1}} L, W_{l+1}⟩ per input, shape ``(B,)``.

    ``W_{l+1}`` is the weight of the Linear layer that reads crash point l
    (by Additional Proposition 8, ⟨∂L/∂W, W⟩ = ⟨∂L/∂y_l, y_l⟩ for it).
    ``loss(output, target)`` must return one loss per input, shape ``(B,)``.
    """
    lay = layout(model, layers)
    rates = as_rates(p, lay.names)
    weights = []
    for name in lay.names:
        nxt = next((st for st in lay.stages[lay.index(name) + 1:] if isinstance(st, nn.Linear)), None)
        if nxt is None:
            raise ParameterError(f"layer {name!r}: no Linear layer reads it")
        weights.append(nxt.weight)
    B = x.shape[0]
    res = torch.zeros(B, dtype=torch.float64)
    with torch.enable_grad():
        for b in range(B):  # per input: ∇_W of one loss (a per-sample gradient)
            l_b = loss(model(x[b:b + 1]), target[b:b + 1]).sum()
            gs = torch.autograd.grad(l_b, weights)
            res[b] = -sum(rates[n] * float((g * w.detach()).sum()) for n, g, w in zip(lay.names, gs, weights))
    return res
