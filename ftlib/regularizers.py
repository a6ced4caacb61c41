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
* ``C3 = ½ Σ_{m ∈ {20, 10}} Σ_j mean_i |(G_{n_out//m} ∗ W)_{ij} − W_{ij}|``: the residual after smoothing every
  column along the neuron axis with a normalized Gaussian of ``k = n_out // m`` taps spanning ±3σ
  (tap t = Φ(x_{t+1}) − Φ(x_t) on ``x = linspace(−3, 3, k + 1)``, so σ = k/6 neurons: n_out/120 and n_out/60),
  zero ("SAME") padding at the borders, *averaged* over the neurons i and summed over the inputs j, then
  averaged over the two kernels; a kernel of ≤ 1 tap (n_out < 20 resp. 40) or longer than n_out counts 0.

This is the supplement's Sec. 3 "Explicit regularization" term for "smoothing" (the second entry of
ψ = (10⁻⁴, 10⁻²), "(derivatives, smoothing)") exactly as the original code defines it (continuity.py,
``smoothness_scale_free``: ``gkern(size)`` for ``size in [n_out // 20, n_out // 10]``, ``conv_loss(...,
subtract=True, reduce=tf.reduce_mean)`` over axis 0, then the mean of the two). One deviation: the original's
``gkern(2)`` returns the difference kernel ``[-1, 1]`` (a shortcut meant for its derivative kernels), so for
40 ≤ n_out < 60 its first smoothing term is |(D W) − W|; we use the 2-tap Gaussian ``[½, ½]`` there.
All three terms are invariant under refining the neuron grid (n → k·n with interpolated weights, W ~ 1/n_in),
so one ψ works for every width; C3 is O(1) per layer, not O(n_out) (an earlier version of ours summed over
the neurons with σ = n_out/20, ≈ n_out times stronger at the same ψ_S).
Our choice where the original's *derivative* part averages Σ_ij |(D W)_ij| over 2-, 5-, 11- and 15-point
stencils: the training penalty C1 uses first differences (2 points) only; Algorithm 1's criterion R3
(:func:`ftlib.theory.derivative_changes`) uses the original's four stencils.
The paper's ψ = (10⁻⁴, 10⁻²) is "(derivatives, smoothing)"; in :mod:`ftlib.training`,
``continuity=(ψ_D, ψ_S)`` weights C1 (and C2) by ψ_D and C3 by ψ_S, as the paper says C2 was unused
(``continuity=(ψ_D, ψ_S, ψ_2)`` sets C2's weight separately).

Which layers: C1 and C3 act on every Linear layer whose outputs are hidden neurons (not the last layer,
whose rows are the output units); C2 on every Linear layer whose *inputs* are hidden neurons (not the
first, whose columns are pixels). The balance and variance terms act on the crash layers (hidden
activations, default every activation module, as :func:`ftlib.theory.first_order`).
"""

from __future__ import annotations

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


SMOOTHING_DIVISORS = (20, 10)
"""C3's kernels have ``n_out // m`` taps for m in these (the original's ``[n_out // 20, n_out // 10]``)."""


def gaussian_kernel(size: int, dtype=torch.float32) -> torch.Tensor:
    """The original's ``gkern(size)``: a normalized Gaussian of ``size`` taps spanning ±3σ (σ = size/6 taps),
    tap t = Φ(x_{t+1}) − Φ(x_t) for ``x = linspace(−3, 3, size + 1)``; shape ``(size,)``."""
    if size < 1:
        raise ParameterError(f"gaussian_kernel: need at least one tap, got {size}")
    x = torch.linspace(-3.0, 3.0, size + 1, dtype=torch.float64)
    k = torch.special.ndtr(x).diff()
    return (k / k.sum()).to(dtype)


def same_conv(w: torch.Tensor, kernel: torch.Tensor) -> torch.Tensor:
    """Every column of ``w`` ``(n_out, n_in)`` cross-correlated with ``kernel`` along the neuron axis with
    TensorFlow's "SAME" zero padding ((k−1)//2 zeros before, the rest after); shape ``(n_out, n_in)``."""
    k = kernel.numel()
    left = (k - 1) // 2
    cols = F.pad(w.t().unsqueeze(1), (left, k - 1 - left))  # (n_in, 1, n_out + k − 1)
    return F.conv1d(cols, kernel.to(w.dtype).to(w.device).view(1, 1, -1)).squeeze(1).t()


def gaussian_residual(w: torch.Tensor, divisors: tuple[int, ...] = SMOOTHING_DIVISORS) -> torch.Tensor:
    """C3 of ``w`` ``(n_out, n_in)`` (see the module docstring): the mean over ``divisors`` m of
    Σ_j mean_i |(G_{n_out//m} ∗ W)_{ij} − W_{ij}|, Gaussian kernels of ``n_out // m`` taps along the neuron
    axis with zero padding; a kernel of ≤ 1 tap or longer than n_out contributes 0."""
    n_out = w.shape[0]
    total = w.sum() * 0.0
    for m in divisors:
        size = n_out // int(m)
        if size <= 1 or size > n_out:
            continue
        total = total + (same_conv(w, gaussian_kernel(size, w.dtype)) - w).abs().mean(0).sum()
    return total / len(divisors)


def continuity_terms(w: torch.Tensor, divisors: tuple[int, ...] = SMOOTHING_DIVISORS) -> dict[str, torch.Tensor]:
    """``{"C1", "C2", "C3"}`` of one weight ``(n_out, n_in)`` (see the module docstring), differentiable."""
    if w.dim() != 2:
        raise ParameterError(f"continuity: expected a 2-D (n_out, n_in) weight, got shape {tuple(w.shape)}")
    n_out, n_in = w.shape
    return {"C1": first_differences(w, 0), "C2": (n_in / n_out) * first_differences(w, 1),
            "C3": gaussian_residual(w, divisors)}


def linear_layers(model: nn.Module) -> list[nn.Linear]:
    """The Linear layers of ``model`` in forward order."""
    return [m for m in model.modules() if isinstance(m, nn.Linear)]


def smoothness(model: nn.Module, weights: tuple[float, ...] = (1.0, 1.0),
               divisors: tuple[int, ...] = SMOOTHING_DIVISORS) -> torch.Tensor:
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
                total = total + psi_s * gaussian_residual(w, divisors)
        if k > 0 and psi_2:  # columns are hidden neurons
            total = total + psi_2 * (w.shape[1] / w.shape[0]) * first_differences(w, 1)
    return total


# ----------------------------------------------------------------------------- balancedness (R2)


def balance_penalty(model: nn.Module, layers: list[str] | None = None, squared: bool = False) -> torch.Tensor:
    """R2 = Σ_l max_i W_l^i / min_i W_l^i with W_l^i = Σ_j |W_l^{ij}| the incoming weight mass of neuron i
    of every Linear layer feeding a hidden layer (``layers``: names of the Linear modules; default all but
    the last). ≥ 1 per layer, = 1 when all neurons carry the same mass (q = 1). Differentiable (subgradient
    through the max and min neurons).

    ``squared=True`` is the original code's term, max_i (W_l^i)² / min_i (W_l^i)² (the square of ours): a μ
    of one definition is not a μ of the other, so μ values are comparable with the paper's only with
    ``squared=True`` (the training loop uses ``squared=False``; see :func:`lambda_on_original_scale`)."""
    named = [(n, m) for n, m in model.named_modules() if isinstance(m, nn.Linear)]
    chosen = named[:-1] if layers is None else [(n, m) for n, m in named if n in layers]
    if not chosen:
        raise ParameterError("balance_penalty: no Linear layer selected")
    total = chosen[0][1].weight.sum() * 0.0
    for _, m in chosen:
        mass = m.weight.abs().sum(1)
        ratio = mass.max() / mass.min().clamp_min(1e-12)
        total = total + (ratio * ratio if squared else ratio)
    return total


# ----------------------------------------------------------------------------- Var Δ (R1, "b3")


def lambda_on_original_scale(lam: float, n_outputs: int, p: float) -> float:
    """Our λ (weight of :func:`variance_penalty`) expressed on the original code's scale.

    Ours is Var Δ / p *summed* over the ``n_outputs`` output units (mean over the batch); the original
    (LPD-EPFL/nn-fault-tolerance, ``get_regularizer_total``: λ·mean of the first-order Var Δ over the batch
    and the output units) is p·Σ_i(∂y/∂z_i·z_i)² *averaged* over the output units, i.e. ours · p / n_outputs
    (:func:`variance_penalty_original`). The same penalty weight is therefore λ_original = λ_ours · n_L / p
    (×1000 for 10 outputs at p = 0.01)."""
    return float(lam) * int(n_outputs) / float(p)


def variance_penalty_original(model: nn.Module, x: torch.Tensor, p: float, layers: object = None,
                              create_graph: bool = True) -> torch.Tensor:
    """The original code's Var Δ term: first-order Var Δ at crash probability ``p``, averaged over the inputs
    and the output units, = :func:`variance_penalty` · p / n_L (a scalar tensor)."""
    with torch.no_grad():
        n_out = model(x[:1]).reshape(1, -1).shape[1]
    return variance_penalty(model, x, layers, create_graph) * float(p) / n_out


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
