"""The parts of the book whose ``paper`` settings were not run here, declared once.

Each :class:`NotRun` names a section (and the checklist ids it decides), why its
paper settings were not run on these machines, the training runs whose cost
decides it (probes of :data:`ftlib.costs.PROBES`) and the exact command that
runs it on a machine with a GPU. The scoreboard lists them as "paper settings
not run" with the costs that ``python -m ftlib.costs`` *measured* here and wrote,
with the machine, commit and date, to ``book/_archive/costs.json``. A cost is
never typed in: a probe not measured yet says :data:`NOT_MEASURED`
(:func:`check` enforces the structure; ``tests/test_archive.py`` runs it).
"""

from __future__ import annotations

from dataclasses import dataclass

from .errors import FtlibError

NOT_MEASURED = "cost not yet measured"
"""What an entry without a measured cost shows."""


@dataclass(frozen=True)
class NotRun:
    """One section (or some of its ids) whose paper settings did not run here.

    ``probes``: names of :data:`ftlib.costs.PROBES`, the training runs whose cost on this machine
    ``python -m ftlib.costs`` measures (from a short probe) and writes, with the machine, the commit and the
    date, to the archive's ``costs.json``; the page shows those measurements, or :data:`NOT_MEASURED`.
    ``planned``: its cost is the whole section's measured plan (``python -m ftlib.build --profile paper --plan``,
    :mod:`ftlib.plan`, committed as :data:`PLAN_FILE` in the archive), shown besides any probes.
    ``command``: what runs the part, archived, on a GPU machine."""

    section: str
    ids: tuple[str, ...]
    why: str
    command: str
    probes: tuple[str, ...] = ()
    planned: bool = False

    def measurements(self, costs: dict | None = None) -> dict[str, dict]:
        """The measured costs of this part's probes (``costs``: :func:`ftlib.costs.load`'s content)."""
        from . import costs as _costs

        table = (_costs.load() if costs is None else costs).get("probes", {})
        return {p: table[p] for p in self.probes if p in table}

    @property
    def measured(self) -> bool:
        return bool(self.probes) and len(self.measurements()) == len(self.probes)

    def cost(self, costs: dict | None = None, plan_: dict | None = None) -> str:
        """Each probe's measured cost per epoch and per run, with the machine, date and file it was measured
        in (``book/_archive/costs.json``), or :data:`NOT_MEASURED` for a probe not measured yet; for a
        ``planned`` part, first the section's measured plan (:func:`planned_cost`)."""
        found = self.measurements(costs)
        parts = [planned_cost(self.section, plan_)] if self.planned else []
        for name in self.probes:
            m = found.get(name)
            if m is None:
                parts.append(f"{name}: {NOT_MEASURED}")
                continue
            machine = m.get("machine", {})
            parts.append(f"{m['what']}: {m['epoch_seconds']:.0f} s per epoch, {m['run_seconds'] / 3600:.1f} h for "
                         f"{m['epochs']} epochs (measured {m.get('date', '?')[:10]} on {machine.get('cpus', '?')} "
                         f"cores, {machine.get('device', 'cpu')}, from {m['probe_images']} images: "
                         f"book/_archive/costs.json)")
        return "; ".join(parts) if parts else NOT_MEASURED


PLAN_FILE = "plan/paper.json"
"""The measured plan of the paper profile (``python -m ftlib.build --profile paper --plan --plan-out
book/_archive/plan/paper.json``), relative to the archive folder (:func:`ftlib.archive.archive_dir`)."""


def plan() -> dict:
    """The committed plan of the paper profile (:data:`PLAN_FILE`), or ``{}`` when none was measured."""
    from .archive import optional_json

    return optional_json(PLAN_FILE, f"rerun python -m ftlib.build --profile paper --plan --plan-out "
                                    f"book/_archive/{PLAN_FILE}")


def planned_cost(section: str, plan_: dict | None = None) -> str:
    """The plan's measured estimate of ``section`` at the paper's settings, its largest run, and when, where
    and under what load it was measured; :data:`NOT_MEASURED` when the plan does not hold the section."""
    from .plan import _hours

    p = plan() if plan_ is None else plan_
    sec = (p.get("sections") or {}).get(section)
    if not sec:
        return f"whole section: {NOT_MEASURED} (python -m ftlib.build --profile paper --plan)"
    todo = [r for r in sec["runs"] if not r["cached"]]
    big = max(todo, key=lambda r: r["estimate_s"], default=None)
    m, load = p.get("machine") or {}, p.get("load_average")
    text = (f"whole section planned at {_hours(sec['estimate_seconds'])} ({len(todo)} runs, sweeps and estimates to "
            f"compute" + (f"; the largest {big['kind']} {big['what']}: {_hours(big['estimate_s'])}" if big else "")
            + f"; measured {str(p.get('date', '?'))[:10]} on {m.get('cpus', '?')} cores"
            + (f", load {load[0]:.1f}" if load else "") + f", book/_archive/{PLAN_FILE})")
    return text + (f" — a PARTIAL plan: {sec['failed']}" if sec.get("failed") else "")


def current(entries: list[NotRun] | None = None, archived=None) -> list[NotRun]:
    """The declared parts (default :data:`NOT_RUN`) still without a current paper-profile archive: a section
    archived with the paper's settings and not stale (:class:`ftlib.archive.Archived`) leaves the list."""
    from . import archive

    done = {a.section for a in (archive.load() if archived is None else archived)
            if a.profile == "paper" and not a.stale}
    return [e for e in (NOT_RUN if entries is None else entries) if e.section not in done]


_AFT = "python -m ftlib.build --profile paper --chapter adversarial_ft --archive"
_AFT_PROBES = ("aft_arch1", "aft_arch2", "aft_arch1_phase1", "aft_arch3", "aft_arch4", "aft_arch3_phase1")
_AFT_WHY = ("the paper profile trains Architectures 1-2 for 50 epochs on all 60,000 FashionMNIST images after "
            "2,000 Phase-I epochs, and Architectures 3-4 on all of CIFAR-10: far over these 2 cores")
_SNN = "python -m ftlib.build --profile paper --chapter snn_patterns --archive"
_SNN_WHY = ("Algorithm 1 at the paper's settings (20 perturbation steps, 5 checks of 20 repetitions, until 100 "
            "patterns per epoch) costs hours per epoch on these 2 cores")
_CF = "python -m ftlib.build --profile paper --chapter computation_failures --archive"
_CF_WHY = ("25 MLPs and 12 CNNs for 15 epochs on 50,000 images, swept at 8 rates × 20 draws: hours on these 2 "
           "cores; it fits a long CPU run or a GPU, and was not run in this session")

_CL = "python -m ftlib.build --profile paper --section continuous_limit/{name} --archive"
_CL_WHY = ("the paper profile trains on all 60,000 images (networks up to 3,200 wide for 30 epochs; Boston networks "
           "for 500-1,000 epochs) and estimates with up to 200,000 crash sets per input: the measured plan beside "
           "is longer than these 2 cores can run in a session beside the other chapters; section by section, it "
           "is archived as it runs")
_CL_SECTIONS = {"architectures": ("CL-ARCH",), "bounds": ("CL-B", "CL-P2"), "certification": ("CL-ALG",),
                "continuity": ("CL-CONT",), "dropout_ranking": ("CL-T2",), "regularizers": ("CL-REG",),
                "tails": ("CL-P3", "CL-P5", "CL-MT"), "theorem1": ("CL-T1", "CL-SUP"),
                "training_decay": ("CL-AP9",), "width": ("CL-F2",)}

NOT_RUN: list[NotRun] = [
    NotRun("adversarial_ft/experiment_setup", ("AFT-T1", "AFT-F1", "AFT-F2a", "AFT-F2b", "AFT-F2c"), _AFT_WHY, _AFT,
           ("aft_arch1", "aft_arch2")),
    NotRun("adversarial_ft/adversarial_framework", ("AFT-T2",), _AFT_WHY, _AFT, _AFT_PROBES),
    NotRun("adversarial_ft/faults", ("AFT-F7a", "AFT-F7b", "AFT-F7c"),
           "its paper profile sweeps faults over Table 2's models (" + _AFT_WHY + ")", _AFT, _AFT_PROBES),
    NotRun("snn_patterns/accuracy", ("SNN-T3", "SNN-T4", "SNN-F3"), _SNN_WHY, _SNN, ("snn_previous", "snn_proposed")),
    NotRun("snn_patterns/convergence", ("SNN-T5-T8",), _SNN_WHY, _SNN,
           ("snn_previous", "snn_proposed")),
    NotRun("computation_failures/fault_tolerance", ("CF-F3", "CF-F4", "CF-F5", "CF-F6"), _CF_WHY, _CF,
           ("cf_mlp_5x1024", "cf_cnn_3x64")),
    NotRun("computation_failures/hyperparameters", ("CF-F1", "CF-F2", "CF-H"), _CF_WHY, _CF,
           ("cf_mlp_5x1024", "cf_cnn_3x64")),
    *(NotRun(f"continuous_limit/{name}", ids, _CL_WHY, _CL.format(name=name), planned=True)
      for name, ids in _CL_SECTIONS.items()),
]
"""The declared parts not run with the paper's settings; their costs are measured by ``python -m ftlib.costs``
and by the build's plan. A part whose section is archived with the paper profile, and current, leaves the
scoreboard's list (:func:`current`)."""


def check(entries: list[NotRun] | None = None) -> None:
    """Raise :class:`~ftlib.errors.FtlibError` for an entry with an unknown section, an id that is not one of
    its section's, a probe that :data:`ftlib.costs.PROBES` does not define, no probe, or no build command."""
    from . import costs, reference, sections

    for e in NOT_RUN if entries is None else entries:
        where = f"ftlib.not_run entry {e.section}"
        sec = sections.get(e.section)  # ParameterError naming the known sections
        bad = [i for i in e.ids if i not in sec.ids or i not in reference.REFERENCES]
        if bad:
            raise FtlibError(f"{where}: ids {bad} are not ids of that section ({', '.join(sec.ids)})")
        unknown = [p for p in e.probes if p not in costs.PROBES]
        if unknown or not (e.probes or e.planned):
            raise FtlibError(f"{where}: its cost must come from probes of ftlib.costs.PROBES "
                             f"({', '.join(costs.PROBES)}) or the build's plan (planned=True); got "
                             f"{list(e.probes)}")
        if "ftlib.build" not in e.command and "papermill" not in e.command:
            raise FtlibError(f"{where}: the command must be a build or papermill command, not {e.command!r}")
