"""Content-addressed cache of trained models and results.

An entry's key is ``sha256(kind, canonical JSON of the full configuration,
code salt)``. The code salt hashes the source of every ftlib module that can
change a computed number (everything except presentation modules), so a code
change never serves a stale entry. Each entry is a directory
``<cache>/<kind>/<key[:2]>/<key>/`` holding ``config.json`` (checked on every
read: an entry is never served for another configuration), and ``result.json``
and/or ``model.pt``. Writes go to a temporary file in the same directory,
then :func:`os.replace` (atomic on POSIX). Models are loaded with
``torch.load(weights_only=True)``. Training checkpoints (``checkpoint.pt``)
let an interrupted training resume from its last completed epoch.

One locking rule fills the cache (:meth:`Entry.fill`, used by every computation
that writes an entry: supervised, spiking and adversarial training, sweeps,
Monte Carlo and evaluations through :meth:`Store.cached_result`): look the entry
up; on a miss take the entry's lock (an ``fcntl.flock`` on
``<key>.lock`` beside the entry directory; NFS maps it to a POSIX lock through
lockd), look again, and only then compute and store it. Of N processes asking
for one entry at once one computes, the others wait and then load it — one
entry, one computation, checkpoints written by one process only. The operating
system releases the lock when its holder dies, so a killed worker blocks nobody.
A read-only cache (a team's shared copy) serves every entry it holds without
creating a lock; a missing entry then stops with one ``CacheReadOnlyError``
saying what cannot be computed and how to point ``FTLIB_CACHE_DIR`` elsewhere.

Integrity: a complete entry ends with ``manifest.json`` (written last,
atomically) holding the sha256 of each of its files; every read checks the
file it reads against it. A damaged or altered entry (truncated, edited, not
loadable) is moved aside to ``<key>.corrupt-<UTC time>`` (kept for inspection),
named in one warning line on stderr, and computed again; a damaged training
checkpoint is moved aside the same way and the training restarts. Entries
written before manifests existed are served as before (whole-file reads).
Files are created ``0644`` and directories ``g+rx`` whatever the umask, so a
cache shared by a group stays readable by it.

Clear the cache with ``python -m ftlib.store clear [kind]`` or delete the
directory printed by ``python -m ftlib.store where``.
"""

from __future__ import annotations

import errno
import hashlib
import json
import math
import os
import shutil
import sys
import tempfile
import threading
import time
import warnings
from contextlib import ExitStack, contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable

from . import config
from .errors import CacheCorruptError, CacheReadOnlyError

# Modules that only present results; editing them must not invalidate trained models.
_PRESENTATION = {"report.py", "claims.py", "reference.py", "scoreboard.py", "build.py", "style.py", "params.py",
                 "sections.py", "config.py", "errors.py", "notebook.py", "__main__.py", "__init__.py",
                 "distributed.py"}


ALL_CODE = "*"
"""The part :data:`USED_CODE` holds for an entry salted with every module except the presentation modules
(``code=None``)."""

USED_CODE: set[str] = set()
"""The code-salt parts (:func:`code_salt`'s ``parts``, or :data:`ALL_CODE`) of every cache entry this process
has created or loaded: every :class:`Entry` adds its parts when it is constructed. A result record resolves them
into the files its numbers depend on (:func:`used_code_files`), which the results archive compares with the
code of a later checkout (:mod:`ftlib.archive`)."""


def code_files(parts: tuple[str, ...] | None = None) -> list[Path]:
    """The source files a code salt of ``parts`` hashes (see :func:`code_salt`), sorted, as absolute paths."""
    root = Path(__file__).resolve().parent
    if parts is None:
        files = [p for p in root.rglob("*.py") if not (p.parent == root and p.name in _PRESENTATION)]
    else:
        files = []
        for part in parts:
            path = root / part
            if not path.exists():
                raise ValueError(f"code_salt: ftlib has no {part!r}")
            files += list(path.rglob("*.py")) if path.is_dir() else [path]
    return sorted(set(files))


@lru_cache(maxsize=None)
def code_salt(parts: tuple[str, ...] | None = None) -> str:
    """sha256 (16 hex chars) of the ftlib source that computes a cached value.

    ``parts`` are paths relative to the package (``"training.py"``, ``"models"``
    for a sub-package); ``None`` means every module except the presentation
    modules. A cache entry is salted with the parts its value depends on, so
    editing, say, the fault engine does not invalidate trained models, while
    editing the training loop does.
    """
    root = Path(__file__).resolve().parent
    h = hashlib.sha256()
    for path in code_files(parts):
        h.update(str(path.relative_to(root)).encode())
        h.update(path.read_bytes())
    return h.hexdigest()[:16]


def used_code_files(parts: set[str] | None = None) -> dict[str, str]:
    """``{path: sha256 of its content}`` of every file of the code-salt parts ``parts`` (default
    :data:`USED_CODE`: those of the entries this process created or loaded); paths relative to the checkout
    (``ftlib/training.py``)."""
    base = Path(__file__).resolve().parent.parent
    chosen = USED_CODE if parts is None else parts
    files: set[Path] = set()
    for part in chosen:
        files.update(code_files(None if part == ALL_CODE else (part,)))
    return {str(p.relative_to(base)): sha256_file(p) for p in sorted(files)}


def _canonical(obj: Any) -> Any:
    """JSON-ready, order-independent form of a configuration (floats exact via repr)."""
    if isinstance(obj, dict):
        return {str(k): _canonical(obj[k]) for k in sorted(obj, key=str)}
    if isinstance(obj, (list, tuple)):
        return [_canonical(v) for v in obj]
    if isinstance(obj, float):
        # json writes floats with repr(), which round-trips exactly
        return obj if math.isfinite(obj) else repr(obj)
    if isinstance(obj, (str, int, bool)) or obj is None:
        return obj
    raise TypeError(f"configuration value {obj!r} of type {type(obj).__name__} cannot be hashed")


def canonical_json(config_: dict) -> str:
    """The canonical text that is hashed (sorted keys, floats exact)."""
    return json.dumps(_canonical(config_), sort_keys=True, separators=(",", ":"))


FILE_MODE = 0o644
"""Mode of every cache file (and decoded data copy): readable by the group and others, whatever the umask."""

_READ_ONLY = {errno.EROFS, errno.EACCES, errno.EPERM}


def share_dir(path: Path) -> None:
    """Create ``path`` (and parents) and give the directories ftlib creates ``g+rx`` whatever the umask."""
    missing = []
    p = path
    while not p.exists():
        missing.append(p)
        if p.parent == p:
            break
        p = p.parent
    path.mkdir(parents=True, exist_ok=True)
    for d in missing:
        try:
            os.chmod(d, os.stat(d).st_mode | 0o750)
        except OSError:
            pass


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that readers see the old file or the whole new one."""
    share_dir(path.parent)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, FILE_MODE)  # mkstemp makes 0600; cache and data files are meant to be shared
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_torch_save(obj: Any, path: Path) -> None:
    """``torch.save`` through a temporary file and :func:`os.replace` (the file made :data:`FILE_MODE`)."""
    import torch

    share_dir(path.parent)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        torch.save(obj, tmp)
        os.chmod(tmp, FILE_MODE)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file's bytes (streamed)."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


_held = threading.local()  # the lock files this thread holds (Entry.lock is re-entrant per thread)
_NO_LOCKING = {errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOSYS, errno.EINVAL}
_warned_no_locking = False


def _open_lock(path: Path):
    """Open (creating) a lock file; an OSError of a read-only cache propagates."""
    share_dir(path.parent)
    return open(path, "a+b")


@contextmanager
def file_lock(path: Path):
    """Hold an exclusive ``fcntl.flock`` on ``path`` (created if needed) for the ``with`` block.

    Re-entrant within a thread. Where the filesystem cannot lock (NFS without
    lockd, some FUSE mounts) it warns once and goes on unlocked: writes stay
    atomic, at worst two processes compute the same entry. Raises the
    ``OSError`` of a directory that cannot be written (see :meth:`Entry.fill`).
    """
    global _warned_no_locking
    held = _held.__dict__.setdefault("paths", set())
    key = str(path)
    if key in held:
        yield
        return
    try:
        import fcntl
    except ImportError:  # not POSIX: no inter-process lock
        fcntl = None
    with _open_lock(path) as f:
        locked = False
        if fcntl is not None:
            try:
                fcntl.flock(f.fileno(), fcntl.LOCK_EX)
                locked = True
            except OSError as exc:
                if exc.errno not in _NO_LOCKING:
                    raise
                if not _warned_no_locking:
                    warnings.warn(f"ftlib.store: cannot lock files under {path.parent.parent} ({exc}); "
                                  f"concurrent runs may compute an entry twice", stacklevel=3)
                    _warned_no_locking = True
        held.add(key)
        try:
            yield
        finally:
            held.discard(key)
            if locked:
                fcntl.flock(f.fileno(), fcntl.LOCK_UN)


def _why(exc: BaseException) -> str:
    """A short reason from an exception, without torch's advice to unpickle with ``weights_only=False``."""
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    if "weights" in first.lower() or "unpickl" in first.lower() or "pickle" in type(exc).__name__.lower():
        first = "not a tensors-only torch file (ftlib loads nothing else)"
    return f"{type(exc).__name__}: {first[:200]}" if first else type(exc).__name__


COMPLETE_FILES = ("config.json", "result.json", "model.pt")
"""The files of a complete entry that its manifest covers (a checkpoint is work in progress, not covered)."""


def _try_load(load: Callable[[], Any]) -> tuple[Any, CacheCorruptError | None]:
    """``(load(), None)``, or ``(None, error)`` when the entry is damaged (:meth:`Entry.fill` then repairs it)."""
    try:
        return load(), None
    except CacheCorruptError as exc:
        return None, exc


class Entry:
    """One cache entry (a directory) for a (kind, configuration) pair."""

    def __init__(self, store: "Store", kind: str, config_: dict, code: tuple[str, ...] | None = None):
        self.kind = kind
        self.config = config_
        USED_CODE.update(code if code is not None else (ALL_CODE,))
        self.config_text = canonical_json({"config": config_, "code": code_salt(code), "kind": kind})
        self.key = hashlib.sha256(self.config_text.encode()).hexdigest()
        self.path = store.root / kind / self.key[:2] / self.key
        self.root = store.root

    @property
    def name(self) -> str:
        """``kind/key[:12]``: how messages name this entry."""
        return f"{self.kind}/{self.key[:12]}"

    def _corrupt(self, what: str, exc: BaseException | None = None) -> CacheCorruptError:
        reason = f": {_why(exc)}" if exc else ""
        return CacheCorruptError(
            f"cache entry {self.name} is damaged ({what}{reason}); ftlib.store moves such an entry aside "
            f"and recomputes it (Entry.fill). To drop it by hand: rm -r '{self.path}'"
        )

    def _check_config(self) -> bool:
        """True if the entry exists and was written for exactly this configuration."""
        cfg = self.path / "config.json"
        if not cfg.exists():
            return False
        try:
            stored = cfg.read_text()
        except OSError as exc:
            raise self._corrupt("config.json unreadable", exc) from None
        if stored != self.config_text:
            raise self._corrupt("config.json does not match the requested configuration")
        return True

    def _manifest(self) -> dict[str, str] | None:
        """``{file name: sha256}`` of a sealed entry, or None (not complete yet, or written before manifests)."""
        path = self.path / "manifest.json"
        if not path.exists():
            return None
        try:
            files = json.loads(path.read_text())["files"]
            if not isinstance(files, dict):
                raise ValueError("no file table")
            return {str(k): str(v) for k, v in files.items()}
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise self._corrupt("manifest.json unreadable", exc) from None

    def _read(self, name: str) -> bytes | None:
        """The bytes of one file of the entry, checked against the manifest; None if absent."""
        if not self._check_config() or not (self.path / name).exists():
            return None
        try:
            payload = (self.path / name).read_bytes()
        except OSError as exc:
            raise self._corrupt(f"{name} unreadable", exc) from None
        manifest = self._manifest()
        if manifest is not None and name in manifest and hashlib.sha256(payload).hexdigest() != manifest[name]:
            raise self._corrupt(f"{name} does not match the sha256 in its manifest: truncated or altered")
        return payload

    def lock(self):
        """Context manager: exclusive lock of this entry across processes (see the module docstring).

        The lock file ``<key>.lock`` lies beside the entry directory, so moving a
        damaged entry aside never moves a lock someone holds. Prefer :meth:`fill`.
        """
        return file_lock(self.path.parent / f"{self.key}.lock")

    def fill(self, load: Callable[[], Any], compute: Callable[[], Any], what: str = "") -> Any:
        """The cache's one locking rule: ``load()`` if the entry is there, else compute it exactly once.

        ``load()`` returns the stored value or None (absent); ``compute()``
        computes the value, stores it through this entry's ``save_*`` methods and
        returns it. On a miss the entry's lock is taken and ``load()`` retried
        (another process may have stored it meanwhile); only then ``compute()``
        runs, and the entry is sealed with its manifest. A damaged entry is moved
        aside (one warning line) and recomputed. A read-only cache serves what it
        holds; a missing entry raises ``CacheReadOnlyError``.
        """
        value, damage = _try_load(load)
        if value is not None:
            return value
        with ExitStack() as stack:
            try:
                stack.enter_context(self.lock())
            except OSError as exc:
                if exc.errno not in _READ_ONLY:
                    raise
                state = "is damaged" if damage is not None else "is not in it"
                raise CacheReadOnlyError(
                    f"the cache {self.root} is read-only ({exc.strerror}) and the entry {self.name}"
                    f"{' (' + what + ')' if what else ''} {state}, so it cannot be computed here. "
                    f"Point FTLIB_CACHE_DIR at a writable directory (a copy of this cache works: "
                    f"cp -r '{self.root}' ~/ftlib-cache && export FTLIB_CACHE_DIR=~/ftlib-cache) and rerun."
                ) from None
            # look again under the lock: another process may have repaired or filled it
            value, damage = _try_load(load)
            if value is not None:
                return value
            if damage is not None:
                self.quarantine(str(damage).split("; ftlib.store")[0])
            t0 = time.perf_counter()
            value = compute()
            self.seal()
            _trace(self, what, time.perf_counter() - t0)
            return value

    def seal(self) -> None:
        """Write ``manifest.json`` (the sha256 of each complete file), atomically, as the entry's last file."""
        files = {n: sha256_file(self.path / n) for n in COMPLETE_FILES if (self.path / n).exists()}
        atomic_write_bytes(self.path / "manifest.json", json.dumps({"files": files}, indent=1, sort_keys=True).encode())

    def quarantine(self, why: str) -> Path | None:
        """Move this damaged entry aside to ``<key>.corrupt-<UTC time>`` and say so in one line on stderr."""
        if not self.path.exists():
            return None
        stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
        dest = self.path.with_name(f"{self.key}.corrupt-{stamp}")
        n = 1
        while dest.exists():
            dest, n = self.path.with_name(f"{self.key}.corrupt-{stamp}-{n}"), n + 1
        os.replace(self.path, dest)
        print(f"ftlib.store: {why}; moved it aside to {dest} and recomputing it", file=sys.stderr, flush=True)
        return dest

    def _write_config(self) -> None:
        if not (self.path / "config.json").exists():
            atomic_write_bytes(self.path / "config.json", self.config_text.encode())

    # results -------------------------------------------------------------
    def load_result(self) -> Any | None:
        """The stored JSON result, or None if absent (CacheCorruptError if damaged)."""
        payload = self._read("result.json")
        if payload is None:
            return None
        try:
            return json.loads(payload)
        except ValueError as exc:
            raise self._corrupt("result.json unreadable", exc) from None

    def save_result(self, value: Any) -> None:
        self._write_config()
        atomic_write_bytes(self.path / "result.json", json.dumps(value, indent=1, sort_keys=True).encode())

    # models and checkpoints -----------------------------------------------
    def _load_torch(self, name: str) -> Any | None:
        import io

        import torch

        payload = self._read(name)
        if payload is None:
            return None
        try:
            return torch.load(io.BytesIO(payload), map_location="cpu", weights_only=True)
        except Exception as exc:  # torch raises many types on a damaged file
            raise self._corrupt(f"{name} unreadable", exc) from None

    def load_state(self) -> dict | None:
        """The stored model ``state_dict`` (tensors only), or None if absent."""
        return self._load_torch("model.pt")

    def save_state(self, state: dict) -> None:
        self._write_config()
        atomic_torch_save(state, self.path / "model.pt")

    def drop_checkpoint(self) -> None:
        """Remove the training checkpoint once the final model and result are stored."""
        (self.path / "checkpoint.pt").unlink(missing_ok=True)

    def load_checkpoint(self) -> dict | None:
        """The last training checkpoint (``{"epoch", "model", "optimizer", ...}``) or None.

        A damaged checkpoint is moved aside (``checkpoint.pt.corrupt-<time>``, one
        line on stderr) and None returned: the training starts again from scratch.
        """
        try:
            return self._load_torch("checkpoint.pt")
        except CacheCorruptError as exc:
            path = self.path / "checkpoint.pt"
            if not path.exists():
                raise
            dest = path.with_name(f"checkpoint.pt.corrupt-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}")
            os.replace(path, dest)
            print(f"ftlib.store: {str(exc).split('; ftlib.store')[0]}; moved it aside to {dest} and "
                  f"training from the start", file=sys.stderr, flush=True)
            return None

    def save_checkpoint(self, checkpoint: dict) -> None:
        self._write_config()
        atomic_torch_save(checkpoint, self.path / "checkpoint.pt")


def _trace(entry: "Entry", what: str, seconds: float) -> None:
    """With ``FTLIB_TRACE=<file>``, append one JSON line per computed entry (kind, name, what, seconds,
    inclusive of nested entries): where a build's time goes, e.g. to size a profile."""
    path = os.environ.get("FTLIB_TRACE")
    if not path:
        return
    line = json.dumps({"kind": entry.kind, "entry": entry.name, "what": what, "seconds": round(seconds, 3),
                       "pid": os.getpid(), "at": time.time(), "config": entry.config_text[:600]})
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(line + "\n")


class Store:
    """The cache rooted at ``root`` (default :func:`ftlib.config.cache_dir`)."""

    def __init__(self, root: Path | str | None = None):
        self.root = Path(root) if root is not None else config.cache_dir()

    def entry(self, kind: str, config_: dict, code: tuple[str, ...] | None = None) -> Entry:
        """The entry of ``(kind, config_)``, salted with the ftlib ``code`` it depends on (see :func:`code_salt`)."""
        return Entry(self, kind, config_, code)

    def cached_result(self, kind: str, config_: dict, compute: Callable[[], Any],
                      code: tuple[str, ...] | None = None) -> Any:
        """Return the stored result for ``(kind, config_)`` or compute, store and return it (:meth:`Entry.fill`)."""
        entry = self.entry(kind, config_, code)

        def fresh():
            value = compute()
            entry.save_result(value)
            return value

        return entry.fill(entry.load_result, fresh, kind)

    def clear(self, kind: str | None = None) -> int:
        """Delete every entry (of ``kind`` if given); returns the number of entries removed."""
        base = self.root / kind if kind else self.root
        if not base.exists():
            return 0
        n = sum(1 for p in base.rglob("config.json"))
        shutil.rmtree(base)
        return n


def main(argv: list[str] | None = None) -> int:
    """``python -m ftlib.store where|clear [kind]``."""
    args = list(sys.argv[1:] if argv is None else argv)
    store = Store()
    if args[:1] == ["where"]:
        print(store.root)
        return 0
    if args[:1] == ["clear"]:
        n = store.clear(args[1] if len(args) > 1 else None)
        print(f"removed {n} cache entries from {store.root}")
        return 0
    print("usage: python -m ftlib.store where | clear [kind]", file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
