"""The parts of the book whose ``paper`` settings were not run here, declared once.

Each :class:`NotRun` names a section (and the checklist ids it decides), why its
paper settings were not run on these machines, the *measured* cost per epoch
and where that measurement is written down (a file or log name), and the exact
command that runs it on a machine with a GPU. The scoreboard lists them as
"paper settings not run". A cost is never a guess: an entry either carries a
measured cost with the file it was measured in, or says
:data:`NOT_MEASURED` and is shown as such (:func:`check` enforces it, and
``tests/test_archive.py`` runs it on :data:`NOT_RUN`).
"""

from __future__ import annotations

from dataclasses import dataclass

from .errors import FtlibError

NOT_MEASURED = "cost not yet measured"
"""What an entry without a measured cost shows."""


@dataclass(frozen=True)
class NotRun:
    """One section (or some of its ids) whose paper settings did not run here.

    ``seconds_per_epoch``: measured on ``measured_on`` (cores, device), written down in ``measured_in`` (a
    file or log name); both None/empty until measured. ``command``: what runs it, archived, on a GPU machine.
    """

    section: str
    ids: tuple[str, ...]
    why: str
    command: str
    seconds_per_epoch: float | None = None
    measured_in: str = ""
    measured_on: str = ""

    @property
    def measured(self) -> bool:
        return self.seconds_per_epoch is not None

    def cost(self) -> str:
        """The measured cost per epoch and where it was measured, or :data:`NOT_MEASURED`."""
        if not self.measured:
            return NOT_MEASURED
        return (f"{self.seconds_per_epoch:.0f} s per epoch on {self.measured_on} (measured: {self.measured_in})")


_GPU = "python -m ftlib.build --profile paper --chapter adversarial_ft --archive"

NOT_RUN: list[NotRun] = [
    NotRun("adversarial_ft/adversarial_framework", ("AFT-T2",),
           "the paper profile trains Architectures 3-4 on all of CIFAR-10 (Phase I 10,000 iterations, 50 epochs "
           "of full-width Architecture 3): far over the CPU budget of these 2 cores", _GPU),
    NotRun("adversarial_ft/faults", ("AFT-F7a", "AFT-F7b", "AFT-F7c"),
           "its paper profile sweeps faults over the same CIFAR-10 Architectures 3-4 (trained as for Table 2)",
           _GPU),
]
"""The declared parts not run with the paper's settings (placeholders say :data:`NOT_MEASURED`)."""


def check(entries: list[NotRun] | None = None) -> None:
    """Raise :class:`~ftlib.errors.FtlibError` for an entry with a cost but no file it was measured in (or
    no machine), a positive-cost rule broken, a file without a cost, an unknown section or id, or no command."""
    from . import reference, sections

    for e in NOT_RUN if entries is None else entries:
        where = f"ftlib.not_run entry {e.section}"
        sec = sections.get(e.section)  # ParameterError naming the known sections
        bad = [i for i in e.ids if i not in sec.ids or i not in reference.REFERENCES]
        if bad:
            raise FtlibError(f"{where}: ids {bad} are not ids of that section ({', '.join(sec.ids)})")
        if e.measured and (not e.measured_in.strip() or not e.measured_on.strip()):
            raise FtlibError(f"{where}: a cost of {e.seconds_per_epoch} s per epoch without where it was measured; "
                             f"give measured_in (the file or log that holds the measurement) and measured_on")
        if e.measured and not e.seconds_per_epoch > 0:
            raise FtlibError(f"{where}: a measured cost must be positive, not {e.seconds_per_epoch}")
        if not e.measured and (e.measured_in or e.measured_on):
            raise FtlibError(f"{where}: measured_in/measured_on given without seconds_per_epoch")
        if "ftlib.build" not in e.command and "papermill" not in e.command:
            raise FtlibError(f"{where}: the command must be a build or papermill command, not {e.command!r}")
