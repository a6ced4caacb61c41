"""continuous_limit's theory: the error Δ of a network under Bernoulli neuron crashes.

For a network of Definition 1 (a plain ``nn.Sequential``: Linear layers, 1-Lipschitz
activations, a linear last layer) and crashes of the fault engine
(:class:`ftlib.faults.BernoulliCrash`: crashed neurons output 0, no rescaling):

=========================================  ======================================================================
:func:`first_order` ("b3")                 Theorem 1 / Add. Corollary 2: E Δ, Var Δ by autograd
:func:`single_crash` ("b4")                exact single-neuron crash effects, O(n_l) passes
:func:`spectral` ("b1")                    Proposition 2 (product of ‖W_l‖₂)
:func:`absolute` ("b2")                    Additional Proposition 2 (``|W_L|···|W_1| |x|``)
:func:`loss_gradient_mean`                 Additional Proposition 9: E Δ_{L+1} ≈ −p ⟨∇_W L, W⟩
:func:`monte_carlo`                        ground truth E Δ, Var Δ with 95 % intervals (prefix reused)
:func:`kl_tail_bound`                      Proposition 3
:func:`chebyshev_delta`                    Proposition 5
:func:`median_bound`, :func:`median_of`    the median trick vs mean aggregation
:func:`rank_loss`, :func:`relative_error`  the supplement's comparison metrics
:func:`certify`                            Algorithm 1 (train, check q, δ₀, continuity, Chebyshev δ; median R)
:func:`check_certificate`                  empirical failure frequency of the median of R copies
=========================================  ======================================================================

Example::

    from ftlib.models import build
    from ftlib import theory
    net = build("cl_mlp", widths=(784, 200, 10)).eval()
    b3 = theory.first_order(net, x, p=0.01)          # Moments: .mean, .var (B, 10)
    mc = theory.monte_carlo(net, x, p=0.01, draws=2000, seed=0)
    theory.relative_error(b3.var, mc.var)
"""

from .certify import (Certificate, Certified, certify, check_certificate, clopper_pearson_upper, derivative_changes,
                      number_of_changes, repetitions)
from .bounds import Moments, absolute, first_order, loss_gradient_mean, single_crash, single_crash_effects, spectral
from .montecarlo import MonteCarlo, ci_halfwidth, crash_probability_draws, median_of, monte_carlo
from .network import Layout, as_rates, crash_layers, layout
from .tails import (
    balance,
    chebyshev_delta,
    incoming_weight_mass,
    kl_bernoulli,
    kl_tail_bound,
    loglog_slope,
    median_bound,
    rank_loss,
    relative_error,
)

__all__ = [
    "Moments", "MonteCarlo", "Layout",
    "first_order", "single_crash", "single_crash_effects", "spectral", "absolute", "loss_gradient_mean",
    "monte_carlo", "crash_probability_draws", "median_of", "ci_halfwidth",
    "layout", "crash_layers", "as_rates",
    "kl_bernoulli", "kl_tail_bound", "balance", "incoming_weight_mass", "chebyshev_delta", "median_bound",
    "rank_loss", "relative_error", "loglog_slope",
    "certify", "check_certificate", "Certificate", "Certified", "repetitions", "number_of_changes",
    "derivative_changes",
    "clopper_pearson_upper",
]
