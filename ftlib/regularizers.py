"""continuous_limit's regularizers (main text Eq. 1, supplement Sec. 3 "Explicit regularization").

Eq. 1 adds to the loss L of a network of Definition 1::

    L̃(W) = L(W) + λ · R1 + μ · R2 + ψ · smooth(W)

* :func:`variance_penalty` — R1 ≈ Var Δ / p_l: Theorem 1's first-order variance term ("b3"),
  Σ_i (∂y_L/∂y_l^i · y_l^i)², averaged over the inputs of the batch and summed over the output
  units (and over the crash layers). Differentiable (double backpropagation).
* :func:`balance_penalty` — R2: ``max_i W_l^i / min_i W_l^i`` for the per-neuron incoming weight mass
  ``W_l^i = Σ_j |W_l^{ij}|`` (Definition 3); small when the vector is q-balanced with q close to 1
  (Proposition 3 needs q-balancedness; the paper writes the term as μ·(max/min)).
* :func:`smoothness` — smooth(W) = C1 + C2 + C3 (supplement Sec. 3): finite differences between
  neighbouring neurons' weights and the residual after Gaussian smoothing along the neuron axis.

Continuity terms, for one weight matrix ``W`` of shape ``(n_out, n_in)`` (row i = incoming weights of
neuron i of the layer), in the continuous limit ``W_ij ≈ w(t_i, s_j) / n_in``:

* ``C1 = Σ_ij |W_{i+1,j} − W_{ij}|`` ≈ ∫∫ |∂_t w| dt ds (neighbouring *output* neurons use each input alike);
* ``C2 = (n_in / n_out) Σ_ij |W_{i,j+1} − W_{ij}|`` ≈ ∫∫ |∂_s w| (neighbouring *input* neurons are used alike;
  the paper's C2 = n0/n1 Σ |W_ij − W_{i,j+1}|);
* ``C3 = Σ_ij |(G_σ ∗ W)_{ij} − W_{ij}|``: the residual after convolving every column with a Gaussian of
  width σ = n_out / 20 neurons along the neuron axis (reflecting borders, truncated at 3σ).

All three are invariant under refining the neuron grid (n → k·n with interpolated weights), so one ψ
works for every width. Our choice where the original code (continuity.py, not available to us)
used finite differences over 2, 4/5, 7, 10, 14 points and Gaussian widths n_out/20 and n_out/10:
first differences (2 points) and the single width n_out/20; :func:`smoothness` takes ``sigma_frac``
to change it. The paper's ψ = (10⁻⁴, 10⁻²) is "(derivatives, smoothing)"; in :mod:`ftlib.training`,
``continuity=(ψ_D, ψ_S)`` weights C1 (and C2) by ψ_D and C3 by ψ_S, as the paper says C2 was unused
(``continuity=(ψ_D, ψ_S, ψ_2)`` sets C2's weight separately).

Which layers: C1 and C3 act on every Linear layer whose outputs are hidden neurons (not the last layer,
whose rows are the output units); C2 on every Linear layer whose *inputs* are hidden neurons (not the
first, whose columns are pixels). The balance and variance terms act on the crash layers (hidden
activations, default every activation module, as :func:`ftlib.theory.first_order`).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from .errors import ParameterError


# ----------------------------------------------------------------------------- continuity (C1, C2, C3)


def first_differences(w: torch.Tensor, dim: int = 0) -> torch.Tensor:
    """Σ |w_{i+1} − w_i| along ``dim`` of a 2-D weight ``(n_out, n_in)`` (0 if that axis has one entry)."""
    if w.shape[dim] < 2:
        return w.sum() * 0.0
    return w.diff(dim=dim).abs().sum()


def gaussian_kernel(sigma: float, dtype=torch.float32) -> torch.Tensor:
    """A normalized 1-D Gaussian of width ``sigma`` (in neurons), truncated at ±3σ (at least ±1), shape ``(2r+1,)``."""
    r = max(1, int(math.ceil(3 * sigma)))
    t = torch.arange(-r, r + 1, dtype=torch.float64)
    k = torch.exp(-0.5 * (t / max(sigma, 1e-12)) ** 2)
    return (k / k.sum()).to(dtype)


def gaussian_residual(w: torch.Tensor, sigma_frac: float = 1 / 20) -> torch.Tensor:
    """C3: Σ_ij |(G_σ ∗ W)_ij − W_ij| with σ = ``sigma_frac`` · n_out, smoothing along the neuron axis
    (dim 0) of ``w`` ``(n_out, n_in)``; reflecting borders. 0 for a single neuron."""
    n_out = w.shape[0]
    if n_out < 2:
        return w.sum() * 0.0
    sigma = max(sigma_frac * n_out, 0.5)
    k = gaussian_kernel(sigma, w.dtype).to(w.device)
    r = (k.numel() - 1) // 2
    cols = w.t().unsqueeze(1)  # (n_in, 1, n_out): every column is a 1-D signal over neurons
    if r >= n_out:  # reflect padding needs r < n_out: replicate instead
        padded = F.pad(cols, (r, r), mode="replicate")
    else:
        padded = F.pad(cols, (r, r), mode="reflect")
    smooth = F.conv1d(padded, k.view(1, 1, -1)).squeeze(1).t()  # (n_out, n_in)
    return (smooth - w).abs().sum()


def continuity_terms(w: torch.Tensor, sigma_frac: float = 1 / 20) -> dict[str, torch.Tensor]:
    """``{"C1", "C2", "C3"}`` of one weight ``(n_out, n_in)`` (see the module docstring), differentiable."""
    if w.dim() != 2:
        raise ParameterError(f"continuity: expected a 2-D (n_out, n_in) weight, got shape {tuple(w.shape)}")
    n_out, n_in = w.shape
    return {"C1": first_differences(w, 0), "C2": (n_in / n_out) * first_differences(w, 1),
            "C3": gaussian_residual(w, sigma_frac)}


def linear_layers(model: nn.Module) -> list[nn.Linear]:
    """The Linear layers of ``model`` in forward order."""
    return [m for m in model.modules() if isinstance(m, nn.Linear)]


def smoothness(model: nn.Module, weights: tuple[float, ...] = (1.0, 1.0), sigma_frac: float = 1 / 20) -> torch.Tensor:
    """smooth(W) summed over the layers of a Definition 1 network (see the module docstring for which
    layer gets which term): ``weights = (ψ_D, ψ_S)`` → ψ_D·(C1 + C2) + ψ_S·C3, or ``(ψ_D, ψ_S, ψ_2)`` →
    ψ_D·C1 + ψ_2·C2 + ψ_S·C3. A scalar tensor (differentiable)."""
    if len(weights) not in (2, 3):
        raise ParameterError(f"continuity: expected (psi_D, psi_S) or (psi_D, psi_S, psi_C2), got {weights!r}")
    psi_d, psi_s = float(weights[0]), float(weights[1])
    psi_2 = float(weights[2]) if len(weights) == 3 else psi_d
    lins = linear_layers(model)
    total = lins[0].weight.sum() * 0.0
    for k, lin in enumerate(lins):
        w = lin.weight
        if k < len(lins) - 1:  # rows are hidden neurons
            if psi_d:
                total = total + psi_d * first_differences(w, 0)
            if psi_s:
                total = total + psi_s * gaussian_residual(w, sigma_frac)
        if k > 0 and psi_2:  # columns are hidden neurons
            total = total + psi_2 * (w.shape[1] / w.shape[0]) * first_differences(w, 1)
    return total


# ----------------------------------------------------------------------------- balancedness (R2)


def balance_penalty(model: nn.Module, layers: list[str] | None = None) -> torch.Tensor:
    """R2 = Σ_l max_i W_l^i / min_i W_l^i with W_l^i = Σ_j |W_l^{ij}| the incoming weight mass of neuron i
    of every Linear layer feeding a hidden layer (``layers``: names of the Linear modules; default all but
    the last). ≥ 1 per layer, = 1 when all neurons carry the same mass (q = 1). Differentiable (subgradient
    through the max and min neurons)."""
    named = [(n, m) for n, m in model.named_modules() if isinstance(m, nn.Linear)]
    chosen = named[:-1] if layers is None else [(n, m) for n, m in named if n in layers]
    if not chosen:
        raise ParameterError("balance_penalty: no Linear layer selected")
    total = chosen[0][1].weight.sum() * 0.0
    for _, m in chosen:
        mass = m.weight.abs().sum(1)
        total = total + mass.max() / mass.min().clamp_min(1e-12)
    return total


# ----------------------------------------------------------------------------- Var Δ (R1, "b3")


def variance_penalty(model: nn.Module, x: torch.Tensor, layers: object = None, create_graph: bool = True) -> torch.Tensor:
    """R1 = Var Δ / p by Theorem 1 (b3): ``mean_b Σ_k Σ_l Σ_i (∂y_L^k/∂y_l^i · y_l^i)²`` for inputs ``x``
    ``(B, ...)``, output units k, crash layers l (``layers``: a fault-engine layer spec, default every
    activation module) and their neurons i. A scalar tensor; with ``create_graph`` it is differentiable
    in the parameters (one backward pass per output unit, then double backpropagation).

    Equals ``first_order(model, x, p, layers, var_factor="p").var.sum(1).mean() / p`` (tests check this).
    """
    from .theory.network import layout

    lay = layout(model, layers)
    want = {i: n for n, i in lay.points}
    acts, out = [], x
    with torch.enable_grad():
        for i, st in enumerate(lay.stages):
            out = st(out)
            if i in want:
                if not out.requires_grad:
                    out = out.detach().requires_grad_(True)
                acts.append(out)
        out = out.reshape(out.shape[0], -1)
        B, nL = out.shape
        total = out.sum() * 0.0
        # one batched backward pass for all output units (grad_outputs = the rows of the identity)
        eye = torch.eye(nL, dtype=out.dtype, device=out.device).unsqueeze(1).expand(nL, B, nL)
        gs = torch.autograd.grad(out, acts, grad_outputs=eye, create_graph=create_graph, retain_graph=True,
                                 allow_unused=True, is_grads_batched=True)
        for g, y in zip(gs, acts):
            if g is not None:  # g: (nL, B, ...) = ∂y_L^k/∂y_l for every k
                total = total + (g * y.unsqueeze(0)).reshape(nL, B, -1).pow(2).sum()
    return total / B
