"""continuous_limit, supplement Table 2 (notebook ``continuous_limit/architectures``).

CL-ARCH: Var Δ of pretrained ImageNet networks with crashes at every layer.

The paper: "Comparing different architectures on a single image with p = 0.01
(VGG16, VGG19, MobileNet) shows (and ConvNetTest-ft.ipynb) that the bigger the
mean width of the layer (approximated by the number of parameters), the better
is the fault tolerance"; supplement Table 2 lists log Var Δ "when there are
faults at every layer with p = 10⁻²" for "standard pre-trained networks from
Keras". Our reading, stated in the book:

- crashes: Bernoulli neuron crashes (Definition 3, no rescaling), p = 0.01 at
  every layer l = 0 … L−1 (Additional Proposition 7's setting): the input
  pixels y_0 and every hidden neuron, i.e. the output of every activation
  (ReLU / ReLU6) module; transient (a fresh crash set per draw);
- output: y_L, the network's softmax class probabilities (Keras applications
  end in a softmax); Δ = y_L(crashed) − y_L per class;
- "Var Δ": the variance of Δ per class averaged over the 1000 classes;
- "log": the natural logarithm (the table's log[Parameters] column is ln:
  ln 138,357,544 = 18.7 for VGG16, ln 4,253,864 = 15.3 for MobileNet α = 1).

Both Theorem 1's first-order estimate b3 (:func:`ftlib.theory.first_order`,
summed over the crashing layers by Additional Proposition 7) and Monte Carlo
(:func:`ftlib.theory.monte_carlo`) are computed. VGG16/VGG19 need torchvision's
ImageNet weights (never replaced by random ones); MobileNet is the Keras
MobileNet v1 with α = 0.75 from the shared data folder (:mod:`ftlib.models.mobilenet_v1`),
a stand-in for the α = 1.0 network the paper most likely used.

The notebook calls :func:`run`, :func:`summary_table`, :func:`top5_table`, :func:`crashed_table`,
:func:`layer_figures` and :func:`compare`.
"""

from __future__ import annotations

import hashlib
import math
import time
import urllib.error
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torch import nn

from ... import config, theory
from ...errors import DatasetCorruptError, DatasetNotFoundError, ParameterError
from ...faults import t_quantile
from ...models import mobilenet_v1 as mbv1
from ...params import Param, Section, Settings

MODELS = ("vgg16", "vgg19", "mobilenet")
"""The networks of supplement Table 2, in its order."""
LABEL = {"vgg16": "VGG16", "vgg19": "VGG19", "mobilenet": "MobileNet v1 (α = 0.75)"}
MOBILENET_ALPHA = 0.75

# ----------------------------------------------------------------------------- the image


def chelsea_image() -> np.ndarray:
    """scikit-image's CC0 photo of the cat Chelsea (RGB uint8, 300 × 451)."""
    try:
        import skimage.data
    except ImportError as e:  # pragma: no cover - a dependency of the book
        raise DatasetNotFoundError("scikit-image is needed for the test image: pip install scikit-image") from e
    return skimage.data.chelsea()


def keras_input(resize: str = "nearest") -> torch.Tensor:
    """Chelsea as Keras' MobileNet sees it: resized to 224 × 224 (aspect not kept) with PIL filter ``resize``,
    then ``x / 127.5 − 1``; shape (1, 3, 224, 224)."""
    return mbv1.preprocess_keras(chelsea_image(), 224, resize)


# ----------------------------------------------------------------------------- the networks


def as_chain(model: nn.Module) -> nn.Sequential:
    """A torchvision VGG as the plain chain ftlib.theory needs: an ``input`` identity (y_0), the features,
    the pooling, a flatten, the classifier and a softmax (the probabilities, as Keras' VGG outputs).
    In-place ReLUs are made out of place (the crash hooks replace their outputs)."""
    for m in model.modules():
        if isinstance(m, nn.ReLU):
            m.inplace = False
    return nn.Sequential(OrderedDict([("input", nn.Identity()), ("features", model.features),
                                      ("avgpool", model.avgpool), ("flatten", nn.Flatten()),
                                      ("classifier", model.classifier), ("softmax", nn.Softmax(dim=1))])).eval()


def _vgg_weights(name: str):
    from torchvision.models import VGG16_Weights, VGG19_Weights

    return {"vgg16": VGG16_Weights.IMAGENET1K_V1, "vgg19": VGG19_Weights.IMAGENET1K_V1}[name]


def vgg_weight_files(name: str) -> dict[str, Path]:
    """Where the torchvision ImageNet weights of ``name`` are looked for: torch hub's cache (where
    ``torchvision.models.vgg16(weights=...)`` keeps its download) and the data directory."""
    fname = _vgg_weights(name).url.rsplit("/", 1)[1]
    return {"hub": Path(torch.hub.get_dir()) / "checkpoints" / fname,
            "data_dir": config.data_dir() / "torchvision" / fname}


def load_vgg(name: str) -> nn.Sequential:
    """torchvision's ImageNet-pretrained VGG16/VGG19 as a chain (:func:`as_chain`), in eval mode.

    The weights come from torch hub's cache, ``$FTLIB_DATA_DIR/torchvision/<file>`` (sha256 prefix of the file
    name checked), or a download when ``FTLIB_ALLOW_DOWNLOAD=1``. Otherwise :class:`ftlib.errors.DatasetNotFoundError`
    says where to put the file. Random weights are never substituted.
    """
    import torchvision

    if name not in ("vgg16", "vgg19"):
        raise ParameterError(f"name: expected 'vgg16' or 'vgg19', got {name!r}")
    weights = _vgg_weights(name)
    build = getattr(torchvision.models, name)
    files = vgg_weight_files(name)
    if files["hub"].is_file() or config.download_allowed():
        try:
            return as_chain(build(weights=weights, progress=not config.quiet()))
        except (urllib.error.URLError, OSError, RuntimeError) as e:
            raise DatasetNotFoundError(
                f"{name}: torchvision's ImageNet weights could not be loaded or downloaded "
                f"({type(e).__name__}: {e}). Download {weights.url} (about "
                f"{weights.meta.get('_file_size', 0):.0f} MB) into {files['hub'].parent} on a machine with "
                "internet, or put it into $FTLIB_DATA_DIR/torchvision/.") from None
    if files["data_dir"].is_file():
        prefix = files["data_dir"].stem.rsplit("-", 1)[-1]
        h = hashlib.sha256()
        with open(files["data_dir"], "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
        if not h.hexdigest().startswith(prefix):
            raise DatasetCorruptError(f"{files['data_dir']}: its sha256 does not start with {prefix} (the prefix in "
                                      "torchvision's file name); delete it and copy the file again.")
        model = build(weights=None)
        model.load_state_dict(torch.load(files["data_dir"], map_location="cpu", weights_only=True))
        return as_chain(model)
    raise DatasetNotFoundError(
        f"{name}: torchvision's ImageNet weights ({files['hub'].name}) are neither in torch hub's cache "
        f"({files['hub'].parent}) nor in {files['data_dir'].parent}, and downloads are off. Set "
        f"FTLIB_ALLOW_DOWNLOAD=1 (needs internet, about {weights.meta.get('_file_size', 0):.0f} MB) or copy the "
        "file into one of those folders.")


def vgg_input(name: str) -> torch.Tensor:
    """Chelsea through the preprocessing torchvision ships with the weights (resize 256, centre crop 224,
    ImageNet mean/std); shape (1, 3, 224, 224)."""
    from PIL import Image

    return _vgg_weights(name).transforms()(Image.fromarray(chelsea_image())).unsqueeze(0)


def load(name: str, resize: str = "nearest") -> tuple[nn.Sequential, torch.Tensor, list[str]]:
    """Network ``name`` (one of :data:`MODELS`), its preprocessed Chelsea input and the class names.

    Raises :class:`ftlib.errors.DatasetNotFoundError` when the pretrained weights are not available here."""
    if name == "mobilenet":
        return mbv1.load_keras_mobilenet_v1(MOBILENET_ALPHA), keras_input(resize), mbv1.imagenet_labels()
    model = load_vgg(name)
    return model, vgg_input(name), list(_vgg_weights(name).meta["categories"])


def availability(models: list[str]) -> dict[str, str | None]:
    """For each network: None if its weights can be loaded here, else the reason (for a not-runnable row)."""
    out: dict[str, str | None] = {}
    for name in models:
        try:
            if name == "mobilenet":
                mbv1.weights_folder(MOBILENET_ALPHA)
                spec = mbv1.WEIGHTS[MOBILENET_ALPHA]
                path = mbv1.weights_folder(MOBILENET_ALPHA) / spec["weights"]
                if not path.is_file():
                    raise DatasetNotFoundError(f"{path} is missing (set FTLIB_DATA_DIR to the shared data folder)")
            else:
                files = vgg_weight_files(name)
                if not (files["hub"].is_file() or files["data_dir"].is_file() or config.download_allowed()):
                    raise DatasetNotFoundError(
                        f"torchvision's ImageNet weights {files['hub'].name} are not in torch hub's cache or "
                        "$FTLIB_DATA_DIR/torchvision, and downloads are off (FTLIB_ALLOW_DOWNLOAD=1 to allow); "
                        "random weights are never used instead")
            out[name] = None
        except DatasetNotFoundError as e:
            out[name] = str(e)
    return out


def top_classes(model: nn.Module, x: torch.Tensor, labels: list[str], k: int = 5) -> pd.DataFrame:
    """The ``k`` most probable classes of the fault-free network on ``x``."""
    with torch.no_grad():
        prob = model(x)[0].double()
    v, i = prob.topk(k)
    return pd.DataFrame({"rank": range(1, k + 1), "class": [labels[j] for j in i.tolist()],
                         "index": i.tolist(), "probability": v.tolist()})


def architecture_facts(model: nn.Module, layers: list[str]) -> dict[str, float]:
    """Parameters (Keras' count: BatchNorm moving statistics included), crashing layers and neurons."""
    params = mbv1.keras_param_count(model)
    return {"parameters": params, "ln_parameters": math.log(params), "crash_layers": len(layers)}


# ----------------------------------------------------------------------------- Var Δ with crashes at every layer


@dataclass
class CrashVariance:
    """Var Δ of one network on one input with crashes at every layer.

    ``classes``: the output units averaged over; ``b3``: Theorem 1 (first order), ``b3_per_layer``: each
    layer's share (Additional Proposition 7: the shares add up); ``mc``: the Monte Carlo estimate with its 95 %
    interval ``mc_low``/``mc_high`` (Student t over the per-draw mean squared deviation across classes)."""

    classes: list[int]
    neurons: int
    b3: float
    b3_per_layer: dict[str, float]
    mc: float
    mc_low: float
    mc_high: float
    draws: int
    b3_seconds: float
    mc_seconds: float
    mc_mean_abs: float = 0.0
    per_class: pd.DataFrame = field(default_factory=pd.DataFrame)
    top1_kept: float = math.nan
    crashed_top1: pd.Series = field(default_factory=lambda: pd.Series(dtype=float))

    @property
    def ln_b3(self) -> float:
        return math.log(self.b3)

    @property
    def ln_mc(self) -> float:
        return math.log(self.mc)

    @property
    def ln_mc_ci(self) -> tuple[float, float]:
        return (math.log(self.mc_low) if self.mc_low > 0 else -math.inf, math.log(self.mc_high))


def mean_variance_ci(samples: torch.Tensor, level: float = 0.95) -> tuple[float, float, float]:
    """Mean over output units of the sample variance of Δ, with a t interval.

    ``samples``: Monte Carlo draws of Δ, shape ``(n, K)``. The estimate equals ``mean_k Var_k`` (unbiased,
    ``n − 1``); its interval treats the per-draw values ``s_j = n/(n−1) · mean_k (Δ_jk − Δ̄_k)²`` as i.i.d.
    (exact up to the O(1/n) dependence through Δ̄)."""
    d = samples.double()
    n = d.shape[0]
    if n < 2:
        raise ParameterError("draws: at least 2 Monte Carlo draws are needed for a variance")
    s = (d - d.mean(0)).pow(2).mean(1) * n / (n - 1)
    est = float(s.mean())
    half = float(t_quantile(0.5 + level / 2, n - 1) * s.std() / math.sqrt(n))
    return est, est - half, est + half


def crash_variance(model: nn.Module, x: torch.Tensor, p: float, draws: int, seed: int, classes: int = 0,
                   max_rows: int = 16, layers: list[str] | None = None) -> CrashVariance:
    """b3 and Monte Carlo Var Δ of ``model`` on one input ``x`` (shape (1, ...)) with Bernoulli crashes of
    probability ``p`` at ``layers`` (default: the input and every activation, :func:`ftlib.theory.crash_layers`),
    averaged over the ``classes`` most probable output units (0 = all)."""
    if x.shape[0] != 1:
        raise ParameterError(f"x: one input expected (shape (1, ...)), got {tuple(x.shape)}")
    layers = layers or theory.crash_layers(model, include_input=True)
    with torch.no_grad():
        base = model(x).reshape(1, -1)
    n_out = base.shape[1]
    if classes and classes < n_out:
        idx = base[0].topk(classes).indices.sort().values
        output = (lambda o, idx=idx: o.reshape(o.shape[0], -1)[:, idx])  # noqa: E731
    else:
        idx = torch.arange(n_out)
        output = None
    t0 = time.perf_counter()
    b3 = theory.first_order(model, x, p, layers=layers, output=output)
    b3_s = time.perf_counter() - t0
    mc = theory.monte_carlo(model, x, p, layers=layers, draws=draws, seed=seed, max_rows=max_rows,
                            keep_samples=True, output=output)
    est, lo, hi = mean_variance_ci(mc.samples[:, 0, :])
    lay = theory.layout(model, layers)
    acts, _ = lay.activations(x)
    neurons = int(sum(a[0].numel() for a in acts.values()))
    per_class = pd.DataFrame({"index": idx.tolist(), "p_clean": base[0, idx].double().tolist(),
                              "var_b3": b3.var[0].tolist(), "var_mc": mc.var[0].tolist(),
                              "var_mc_ci": mc.var_ci[0].tolist(), "mean_mc": mc.mean[0].tolist()})
    # the crashed networks' top-1 class (among the averaged classes): how often the fault-free one survives
    crashed = base[0, idx].double() + mc.samples[:, 0, :].double()
    top = idx[crashed.argmax(1)]
    top1_kept = float((top == idx[base[0, idx].argmax()]).double().mean())
    crashed_top1 = pd.Series(top.tolist()).value_counts(normalize=True)
    return CrashVariance(classes=idx.tolist(), neurons=neurons, b3=float(b3.var.mean()),
                         b3_per_layer={k: float(v[1].mean()) for k, v in b3.per_layer.items()},
                         mc=est, mc_low=lo, mc_high=hi, draws=draws, b3_seconds=b3_s, mc_seconds=mc.seconds,
                         mc_mean_abs=float(mc.mean.abs().mean()), per_class=per_class, top1_kept=top1_kept,
                         crashed_top1=crashed_top1)


def single_layer_check(model: nn.Module, x: torch.Tensor, p: float, layers: list[str], draws: int, seed: int,
                       classes: int = 5, max_rows: int = 16) -> pd.DataFrame:
    """Where first order holds: b3 against Monte Carlo with crashes at **one** layer at a time, Var Δ averaged
    over the ``classes`` most probable classes, for each of ``layers``."""
    rows = []
    for k, layer in enumerate(layers):
        r = crash_variance(model, x, p, draws, seed + 1000 + k, classes, max_rows, [layer])
        rows.append({"layer": layer, "var_b3": r.b3, "var_mc": r.mc, "mc_low": r.mc_low, "mc_high": r.mc_high,
                     "b3_over_mc": r.b3 / r.mc if r.mc > 0 else math.nan, "draws": draws})
    return pd.DataFrame(rows)


# ----------------------------------------------------------------------------- the section's work


def check_models(models: list[str]) -> list[str]:
    """``models`` without repeats, each checked to be one of :data:`MODELS` (a ParameterError otherwise)."""
    bad = [m for m in models if m not in MODELS]
    if bad or not models:
        raise ParameterError(f"parameter 'models': expected a non-empty list drawn from {list(MODELS)}, got {models!r}")
    return list(dict.fromkeys(models))


def run(s: Settings) -> dict[str, dict]:
    """For every network of ``s.models``: either ``{"reason": ...}`` (weights not available here) or
    ``{"facts": ..., "top5": DataFrame, "result": CrashVariance}``. Networks run one after the other
    (channels_last, one process)."""
    out: dict[str, dict] = {}
    for name, reason in availability(check_models(s.models)).items():
        if reason is not None:
            out[name] = {"reason": reason}
            continue
        try:
            model, x, labels = load(name, s.resize)
        except DatasetNotFoundError as e:
            out[name] = {"reason": str(e)}
            continue
        model, x = mbv1.channels_last(model, x)
        layers = theory.crash_layers(model, include_input=True)
        res = crash_variance(model, x, s.p, s.draws, s.seed, s.classes, s.max_rows, layers)
        check_layers = [layers[1], layers[len(layers) // 2], layers[-1]]  # first hidden, middle, last hidden
        check = single_layer_check(model, x, s.p, check_layers, s.check_draws, s.seed, 5, s.max_rows)
        out[name] = {"facts": {**architecture_facts(model, layers), "neurons": res.neurons},
                     "top5": top_classes(model, x, labels), "result": res, "labels": labels,
                     "single_layer": check}
    return out


def summary_table(results: dict[str, dict]) -> pd.DataFrame:
    """One row per network: parameters, crashing layers and neurons, ln Var Δ by b3 and Monte Carlo (95 %)."""
    rows = []
    for name, r in results.items():
        if "reason" in r:
            rows.append({"network": LABEL[name], "status": "not runnable here"})
            continue
        res: CrashVariance = r["result"]
        lo, hi = res.ln_mc_ci
        rows.append({"network": LABEL[name], "status": "computed", **r["facts"],
                     "classes_averaged": len(res.classes), "ln_var_b3": res.ln_b3, "ln_var_mc": res.ln_mc,
                     "ln_var_mc_low": lo, "ln_var_mc_high": hi, "draws": res.draws,
                     "b3_seconds": res.b3_seconds, "mc_seconds": res.mc_seconds})
    return pd.DataFrame(rows)


def per_layer_table(res: CrashVariance) -> pd.DataFrame:
    """b3's Var Δ (mean over the classes) contributed by each crashing layer, and its share of the total."""
    df = pd.DataFrame({"layer": list(res.b3_per_layer), "var_b3": list(res.b3_per_layer.values())})
    df["share"] = df.var_b3 / df.var_b3.sum()
    return df


def plot_per_layer(res: CrashVariance, title: str = ""):
    """Bar chart (log scale) of each crashing layer's contribution to Var Δ (b3), input first."""
    import matplotlib.pyplot as plt

    df = per_layer_table(res)
    fig, ax = plt.subplots(figsize=(7.5, 3.4))
    ax.bar(range(len(df)), df.var_b3.clip(lower=1e-300), color="C0")
    ax.set_yscale("log")
    ax.set_xticks(range(len(df)), [n.replace("_relu", "").replace("conv_", "") for n in df.layer],
                  rotation=90, fontsize=6)
    ax.set_xlabel("crashing layer (input first)")
    ax.set_ylabel("Var Δ share (b3)")
    if title:
        ax.set_title(title, fontsize=8)
    fig.tight_layout()
    return fig


def crashed_predictions(res: CrashVariance, labels: list[str], top: int = 8) -> pd.DataFrame:
    """The classes the crashed network predicts most often (share of Monte Carlo draws), with the fault-free
    probability and the mean probability change E Δ of each."""
    pc = res.per_class.set_index("index")
    rows = [{"class": labels[i], "share_of_draws": float(f), "p_clean": float(pc.p_clean[i]),
             "mean_delta_mc": float(pc.mean_mc[i])} for i, f in res.crashed_top1.head(top).items()]
    return pd.DataFrame(rows)


def plot_per_class(res: CrashVariance, labels: list[str] | None = None, top: int = 16):
    """b3 against Monte Carlo Var Δ for the classes with the largest Monte Carlo variance and those with the
    largest b3 variance (``top // 2`` of each)."""
    import matplotlib.pyplot as plt

    pc = res.per_class
    pick = pd.concat([pc.sort_values("var_mc", ascending=False).head(top // 2),
                      pc.sort_values("var_b3", ascending=False).head(top // 2)])
    df = pick.drop_duplicates("index").sort_values("var_mc", ascending=False)
    fig, ax = plt.subplots(figsize=(5.0, 3.6))
    lo = min(df.var_b3.min(), df.var_mc.min()) * 0.5
    hi = max(df.var_b3.max(), df.var_mc.max()) * 2
    ax.errorbar(df.var_mc, df.var_b3, xerr=df.var_mc_ci, fmt="o", ms=4)
    ax.plot([lo, hi], [lo, hi], "--", color="grey", lw=0.8, label="b3 = Monte Carlo")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("Var Δ, Monte Carlo (95 % interval)")
    ax.set_ylabel("Var Δ, b3 (first order)")
    if labels is not None:
        named = pd.concat([df.head(3), df.sort_values("var_b3", ascending=False).head(3)]).drop_duplicates("index")
        for _, r in named.iterrows():
            ax.annotate(labels[int(r["index"])].split(",")[0], (r.var_mc, r.var_b3), fontsize=6)
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


# ----------------------------------------------------------------------------- the notebook's tables, figures and verdicts


def top5_table(results: dict[str, dict]) -> pd.DataFrame:
    """The fault-free top-5 classes of every network of :func:`run` (``network`` column; one row saying why
    for a network that is not runnable here)."""
    parts = []
    for name, r in results.items():
        if "top5" in r:
            parts.append(r["top5"].assign(network=LABEL[name]))
        else:
            parts.append(pd.DataFrame([{"class": f"not runnable here — {r['reason']}", "network": LABEL[name]}]))
    return pd.concat(parts, ignore_index=True).set_index(["network", "rank"]) if parts else pd.DataFrame()


def computed(results: dict[str, dict]) -> dict[str, dict]:
    """The networks of :func:`run` that ran here."""
    return {n: r for n, r in results.items() if "result" in r}


def crashed_table(results: dict[str, dict]) -> pd.DataFrame:
    """:func:`crashed_predictions` of every network that ran, with ``top1_kept_%``: how often (% of the
    Monte Carlo draws) the fault-free top-1 class stays on top of the crashed network's output."""
    parts = [crashed_predictions(r["result"], r["labels"]).assign(network=LABEL[name],
                                                                   **{"top1_kept_%": 100 * r["result"].top1_kept},
                                                                   draws=r["result"].draws)
             for name, r in computed(results).items()]
    return pd.concat(parts, ignore_index=True).set_index(["network", "class"]) if parts else pd.DataFrame()


def layer_figures(report, results: dict[str, dict]) -> pd.DataFrame:
    """For every network that ran: its per-layer (:func:`plot_per_layer`) and per-class (:func:`plot_per_class`)
    figures on ``report``; returns the single-layer checks of all of them (``network`` column)."""
    parts = []
    for name, r in computed(results).items():
        report.figure(plot_per_layer(r["result"], LABEL[name]), f"per_layer_{name}",
                      f"{LABEL[name]}: the first-order (b3) share of Var Δ (mean over the averaged classes) "
                      "contributed by crashes in each layer, the input first. Early layers dominate b3.")
        report.figure(plot_per_class(r["result"], r["labels"]), f"per_class_{name}",
                      f"{LABEL[name]}: Var Δ per class, b3 against Monte Carlo, for the classes with the largest "
                      "variance by either estimate; the dashed line is agreement. Points above it: b3 overestimates, "
                      "points below: the crashed network moves probability to classes that first order misses.")
        parts.append(r["single_layer"].assign(network=LABEL[name]))
    return pd.concat(parts, ignore_index=True).set_index(["network", "layer"]) if parts else pd.DataFrame()


TOLERANCE_LN = 1.0
"""Tolerance of the b3 detail row in ln Var Δ (a factor e; the Monte Carlo row's is declared in
:mod:`ftlib.claims`, ``CL-ARCH:ln_var``)."""


def compare(report, s: Settings, results: dict[str, dict]) -> None:
    """CL-ARCH: per network of :data:`MODELS` that was asked for, ln Var Δ against the paper's
    (:mod:`ftlib.reference`): the Monte Carlo value by the declared rule ``CL-ARCH:ln_var`` (an equivalence
    test with the Monte Carlo standard error from its 95 % interval), b3 as a detail row within
    :data:`TOLERANCE_LN`; a not-runnable row for a network whose weights are missing. The headline claim
    (VGG16, VGG19 ≪ MobileNet) needs all three networks, else it is not runnable."""
    from ... import reference

    paper = reference.get("CL-ARCH").values
    for name in MODELS:
        r = results.get(name)
        claim = f"ln Var Δ, {LABEL[name]}, crashes at every layer, p = {s.p:g}"
        if r is None:
            continue
        if "reason" in r:
            report.not_runnable("CL-ARCH", claim, paper[name], r["reason"])
            continue
        res = r["result"]
        lo, hi = res.ln_mc_ci
        stand_in = (" Stand-in: Keras MobileNet v1 with α = 0.75 (the paper's is most likely α = 1.0), on "
                    "scikit-image's Chelsea." if name == "mobilenet" else "")
        report.check("CL-ARCH:ln_var", paper[name], res.ln_mc, claim=claim + " (Monte Carlo)",
                     note=f"95 % interval [{lo:.2f}, {hi:.2f}] from {res.draws} draws; mean over "
                          f"{len(res.classes)} classes.{stand_in}", estimate=res.ln_mc, se=(hi - lo) / (2 * 1.96))
        report.numeric("CL-ARCH", claim + " (b3, first order)", paper[name], res.ln_b3, TOLERANCE_LN, headline=False,
                       note="Theorem 1 summed over layers; its remainder is large for the first layers (see the "
                            f"single-layer checks).{stand_in}")
    ran = computed(results)
    if all(n in ran for n in MODELS):
        ln = {n: ran[n]["result"].ln_mc for n in MODELS}
        report.qualitative("CL-ARCH", "wider layers (VGG) have a smaller Var Δ than MobileNet",
                           "VGG16, VGG19 ≪ MobileNet", ", ".join(f"{LABEL[n]} {v:.1f}" for n, v in ln.items()),
                           max(ln["vgg16"], ln["vgg19"]) < ln["mobilenet"], headline=True)
    else:
        report.not_runnable("CL-ARCH", "wider layers (VGG) have a smaller Var Δ than MobileNet",
                            "VGG16, VGG19 ≪ MobileNet", "needs the pretrained VGG16/VGG19 weights (see the rows above)")


# ----------------------------------------------------------------------------- section

SECTION = Section(
    key="continuous_limit/architectures",
    title="continuous_limit, supplement Table 2: Var Δ of VGG16, VGG19 and MobileNet with crashes at every layer",
    ids=("CL-ARCH",),
    params=(
        Param("p", float, "crash probability of every layer (input and every activation)", low=1e-6, high=0.5),
        Param("draws", int, "Monte Carlo crash sets", low=2, high=10_000_000),
        Param("check_draws", int, "Monte Carlo crash sets per single-layer check", low=2, high=10_000_000),
        Param("classes", int, "output classes averaged over, the most probable first (0 = all 1000)",
              low=0, high=1000),
        Param("max_rows", int, "crash sets pushed through the network at once", low=1, high=4096),
        Param("resize", str, "PIL filter resizing the photo to 224 x 224 for MobileNet",
              choices=("nearest", "bilinear", "bicubic")),
        Param("models", list, "networks: any of vgg16, vgg19, mobilenet", item=str,
              choices=("vgg16", "vgg19", "mobilenet")),
    ),
    profiles={
        "smoke": dict(p=0.01, draws=16, check_draws=8, classes=5, max_rows=8, resize="nearest",
                      models=["vgg16", "vgg19", "mobilenet"]),
        "quick": dict(p=0.01, draws=800, check_draws=100, classes=0, max_rows=16, resize="nearest",
                      models=["vgg16", "vgg19", "mobilenet"]),
        "paper": dict(p=0.01, draws=20_000, check_draws=5000, classes=0, max_rows=32, resize="nearest",
                      models=["vgg16", "vgg19", "mobilenet"]),
    },
)
