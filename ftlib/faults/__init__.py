"""The fault engine: every fault model of the four papers behind one small API.

Fault models (see each class for the paper, section/equation and defaults):

=============================================  =============================  ==========================
model                                          paper                          default permanence
=============================================  =============================  ==========================
``StuckAtZero("weights"|"filters"|"nodes")``   adversarial_ft, Sec. 3         permanent (exact fraction)
``BernoulliCrash()``                           continuous_limit, Def. 3       transient (per input)
``ConditionallyUniform(value_range=...)``      computation_failures, Sec. IV  transient (per scalar)
``Erasure()``                                  computation_failures, Sec. IV  transient (per scalar)
``SpikeFault("HSF"|"NASF", layers)``           snn_patterns, Sec. 4           permanent only
``PopulationSpikeFault("HSF"|"NASF", sites)``  snn_patterns (authors' code)   permanent only
``BitFlip(format=..., target=...)``            memory soft errors (BER)       weights: permanent,
                                                                              activations: transient
=============================================  =============================  ==========================

Bit-flip formats: float32, float16, bfloat16, int8 (per tensor or per channel),
torch's quantized and fake-quantized (QAT) layers; bursts of adjacent bits.

Use one faulty instance::

    from ftlib.faults import StuckAtZero, inject, sweep
    with inject(model, StuckAtZero("weights"), 0.3, seed=0) as inj:
        acc = (model(x).argmax(1) == y).float().mean()
    # clean weights restored, hooks removed (also after an exception)

or sweep rates × draws with confidence intervals::

    res = sweep(model, StuckAtZero("nodes"), [0, 0.2, 0.4, 0.6], (x, y), draws=20, seed=0)
    res.summary   # rate, n, mean, std, ci_low, ci_high, ci_halfwidth

statistical fault injection (draws added per rate until a margin is met) and
reusable campaigns (the sites of every draw in a file, replayed exactly)::

    res = sweep(model, fault, rates, (x, y), draws=10, margin=0.01, confidence=0.95, record=True)
    res.campaign.save("campaign.npz")
    again = sweep(other_model, None, None, (x, y), campaign=Campaign.load("campaign.npz"))
    sample_size(0.01, 0.95, population=n_bits)   # Leveugle et al. 2009: faults to inject
"""

from .apply import FaultSession, Injection, inject
from .bitflip import (
    FORMATS,
    BitFlip,
    dequantize_int8,
    draw_bit_sites,
    flip_bits,
    flip_bits_,
    quantize_int8,
    quantize_int8_channel,
    xor_bits_,
)
from .campaign import Campaign
from .models import (
    HSF,
    NASF,
    ActivationFault,
    BernoulliCrash,
    ConditionallyUniform,
    Erasure,
    FaultModel,
    Hit,
    ParameterFault,
    SpikeFault,
    StuckAtZero,
)
from .catalog import CATALOG, FAULT_NAMES, by_name
from .selection import ACTIVATION_LAYERS, CONV_LAYERS, WEIGHT_LAYERS, select_layers
from .spiking import PopulationSpikeFault, force_spikes, spike_fault_mask
from ..stats import (
    draws_for_margin,
    margin_of_error,
    mean_ci,
    one_sided,
    paired_draws,
    paired_t,
    sample_size,
    summarize,
    t_quantile,
)
from .sweep import SweepResult, auto_batch_draws, sequential_stages, sweep

FAULT_NAMES = FAULT_NAMES
"""The short names of the engine's fault models (``ftlib.faults.catalog``): ``stuck_weights``,
``stuck_filters``, ``stuck_nodes``, ``crash``, ``uniform``, ``erasure``, ``bitflip``; :func:`by_name` makes one."""

__all__ = [
    "FaultModel", "ParameterFault", "ActivationFault", "Hit",
    "StuckAtZero", "BernoulliCrash", "ConditionallyUniform", "Erasure", "SpikeFault", "PopulationSpikeFault", "HSF", "NASF", "BitFlip",
    "inject", "Injection", "FaultSession",
    "sweep", "SweepResult", "sequential_stages", "auto_batch_draws",
    "flip_bits", "flip_bits_", "quantize_int8", "quantize_int8_channel", "dequantize_int8", "draw_bit_sites",
    "xor_bits_", "FORMATS", "Campaign", "sample_size", "margin_of_error", "draws_for_margin",
    "spike_fault_mask", "force_spikes",
    "select_layers", "WEIGHT_LAYERS", "CONV_LAYERS", "ACTIVATION_LAYERS",
    "mean_ci", "one_sided", "paired_draws", "paired_t", "summarize", "t_quantile",
    "CATALOG", "FAULT_NAMES", "by_name",
]
