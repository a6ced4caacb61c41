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

Concurrent writers (several workers of a distributed build on a shared
filesystem, ``ftlib.distributed``): a reader only ever sees a whole file,
never a torn one, and :meth:`Entry.lock` (an ``fcntl.flock`` on the entry's
``.lock`` file; NFS maps it to a POSIX lock through lockd) lets one process
compute an entry while the others wait and then load it — one entry, one
computation, checkpoints written by one process only. The operating system
releases the lock when its holder dies, so a killed worker blocks nobody.

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
import warnings
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable

from . import config
from .errors import CacheCorruptError

# Modules that only present results; editing them must not invalidate trained models.
_PRESENTATION = {"report.py", "claims.py", "reference.py", "scoreboard.py", "build.py", "style.py", "params.py",
                 "sections.py", "config.py", "errors.py", "notebook.py", "__main__.py", "__init__.py",
                 "distributed.py"}


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
    if parts is None:
        files = [p for p in root.rglob("*.py") if not (p.parent == root and p.name in _PRESENTATION)]
    else:
        files = []
        for part in parts:
            path = root / part
            if not path.exists():
                raise ValueError(f"code_salt: ftlib has no {part!r}")
            files += list(path.rglob("*.py")) if path.is_dir() else [path]
    h = hashlib.sha256()
    for path in sorted(set(files)):
        h.update(str(path.relative_to(root)).encode())
        h.update(path.read_bytes())
    return h.hexdigest()[:16]


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


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that readers see the old file or the whole new one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)  # mkstemp makes 0600; cache and data files are meant to be shared
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_torch_save(obj: Any, path: Path) -> None:
    """``torch.save`` through a temporary file and :func:`os.replace`."""
    import torch

    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        torch.save(obj, tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


_held = threading.local()  # the lock files this thread holds (Entry.lock is re-entrant per thread)
_NO_LOCKING = {errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOSYS, errno.EINVAL}
_warned_no_locking = False


@contextmanager
def file_lock(path: Path):
    """Hold an exclusive ``fcntl.flock`` on ``path`` (created if needed) for the ``with`` block.

    Re-entrant within a thread. Where the filesystem cannot lock (NFS without
    lockd, some FUSE mounts) it warns once and goes on unlocked: writes stay
    atomic, at worst two processes compute the same entry.
    """
    global _warned_no_locking
    held = _held.__dict__.setdefault("paths", set())
    key = str(path)
    if key in held:
        yield
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        import fcntl
    except ImportError:  # not POSIX: no inter-process lock
        fcntl = None
    with open(path, "a+b") as f:
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


class Entry:
    """One cache entry (a directory) for a (kind, configuration) pair."""

    def __init__(self, store: "Store", kind: str, config_: dict, code: tuple[str, ...] | None = None):
        self.kind = kind
        self.config = config_
        self.config_text = canonical_json({"config": config_, "code": code_salt(code), "kind": kind})
        self.key = hashlib.sha256(self.config_text.encode()).hexdigest()
        self.path = store.root / kind / self.key[:2] / self.key

    def _corrupt(self, what: str, exc: BaseException | None = None) -> CacheCorruptError:
        reason = f": {type(exc).__name__}: {exc}" if exc else ""
        return CacheCorruptError(
            f"cache entry {self.kind}/{self.key[:12]} is corrupt ({what}{reason}).\n"
            f"Delete it and rerun (it will be recomputed): rm -r '{self.path}'\n"
            f"or clear the whole cache: python -m ftlib.store clear"
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

    def lock(self):
        """Context manager: exclusive lock of this entry across processes (see the module docstring).

        Compute-and-save under it after checking the cache again, so that of two
        processes asking for the same entry one computes and the other loads.
        """
        return file_lock(self.path / ".lock")

    def _write_config(self) -> None:
        if not (self.path / "config.json").exists():
            atomic_write_bytes(self.path / "config.json", self.config_text.encode())

    # results -------------------------------------------------------------
    def load_result(self) -> Any | None:
        """The stored JSON result, or None if absent."""
        if not self._check_config() or not (self.path / "result.json").exists():
            return None
        try:
            return json.loads((self.path / "result.json").read_text())
        except (OSError, ValueError) as exc:
            raise self._corrupt("result.json unreadable", exc) from None

    def save_result(self, value: Any) -> None:
        self._write_config()
        atomic_write_bytes(self.path / "result.json", json.dumps(value, indent=1, sort_keys=True).encode())

    # models and checkpoints -----------------------------------------------
    def _load_torch(self, name: str) -> Any | None:
        import torch

        if not self._check_config() or not (self.path / name).exists():
            return None
        try:
            return torch.load(self.path / name, map_location="cpu", weights_only=True)
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
        """The last training checkpoint (``{"epoch", "model", "optimizer", ...}``) or None."""
        return self._load_torch("checkpoint.pt")

    def save_checkpoint(self, checkpoint: dict) -> None:
        self._write_config()
        atomic_torch_save(checkpoint, self.path / "checkpoint.pt")


class Store:
    """The cache rooted at ``root`` (default :func:`ftlib.config.cache_dir`)."""

    def __init__(self, root: Path | str | None = None):
        self.root = Path(root) if root is not None else config.cache_dir()

    def entry(self, kind: str, config_: dict, code: tuple[str, ...] | None = None) -> Entry:
        """The entry of ``(kind, config_)``, salted with the ftlib ``code`` it depends on (see :func:`code_salt`)."""
        return Entry(self, kind, config_, code)

    def cached_result(self, kind: str, config_: dict, compute: Callable[[], Any],
                      code: tuple[str, ...] | None = None) -> Any:
        """Return the stored result for ``(kind, config_)`` or compute, store and return it."""
        entry = self.entry(kind, config_, code)
        value = entry.load_result()
        if value is not None:
            return value
        with entry.lock():  # another process may be computing it: wait, then load its value
            value = entry.load_result()
            if value is None:
                value = compute()
                entry.save_result(value)
        return value

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
