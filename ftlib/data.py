"""Datasets by name: found locally, checksummed, decoded once per process.

>>> from ftlib import data
>>> train = data.load("mnist", "train")        # ArrayDataset, 60,000 items
>>> train.x.shape, train.x.dtype, train.y.dtype
(torch.Size([60000, 1, 28, 28]), torch.float32, torch.int64)
>>> small = train.subset(1000, seed=0)          # class-stratified, deterministic

Datasets (:data:`DATASETS`) and what :func:`load` returns:

============== ======================= ======================== ===============
name           splits                  ``x``                    ``y``
============== ======================= ======================== ===============
mnist          train 60,000, test 10k  float32 (N, 1, 28, 28)   int64 (N,) 0..9
fashion_mnist  train 60,000, test 10k  float32 (N, 1, 28, 28)   int64 (N,) 0..9
cifar10        train 50,000, test 10k  float32 (N, 3, 32, 32)   int64 (N,) 0..9
boston         all 506, train 405,     float32 (N, 13)          float32 (N,)
               test 101                                         MEDV in $1000s
============== ======================= ======================== ===============

Images are scaled to [0, 1] (``uint8 / 255``), not normalised.

Where the files are looked for, in this order (the first complete copy wins):

1. the data directory :func:`ftlib.config.data_dir` (``FTLIB_DATA_DIR``), in
   several layouts: the book's shared layout (``mnist/MNIST/raw/*.gz``,
   ``cifar10/cifar10-*.u8.xz`` + ``cifar10-meta.npz``,
   ``boston/boston_housing.csv``), torchvision's layout (``MNIST/raw/``,
   ``FashionMNIST/raw/``, ``cifar-10-batches-py/``) and plain folders
   (``mnist/``, ``fashion-mnist/``, ``fashion_mnist/``). idx files may be
   gzipped or not.
2. system locations: Debian's ``/usr/share/datasets/fashion-mnist``
   (``apt-get install dataset-fashion-mnist``); for Boston, the copy shipped
   inside ftlib (``ftlib/datasets/boston_housing.csv``).
3. a download from the official mirrors (:data:`MIRRORS`) into the data
   directory in torchvision's layout, only when ``FTLIB_ALLOW_DOWNLOAD=1`` or
   ``load(..., download=True)`` (the book's build, ``python -m ftlib.build``,
   opts in by itself, see :func:`fetch_missing`). Downloads use https only, are
   streamed to a temporary file with a size cap, hashed before use and then
   moved into place.

:func:`locate` lists the places, :func:`where` says which one is used.

Every file is verified against a known checksum of its (decompressed) content
(:mod:`ftlib._data_checksums`) in every process that loads it, before it is used
(once per process and file: a second :func:`load` reuses the decoded arrays), so
a changed byte is refused even when size and mtime were kept; the sha256 costs
about 0.1 s for MNIST's training images. CIFAR-10's xz arrays (about 7 s to
decompress on one core) are kept decoded under ``<cache_dir>/data/decoded/``
(about 180 MB); a decoded copy is used only after its own content hash matched
the known one (~0.3 s).

Order caveat: the book's shared CIFAR-10 *test* array is grouped by class (see
its PROVENANCE.md); the torchvision pickles keep the original order. Whole-set
metrics do not depend on it, "the first k test images" do.

Boston Housing is deprecated as a benchmark because its ``B`` column encodes
the proportion of Black residents; the book uses it only to reproduce the
supplement of ``continuous_limit`` (see ``ftlib/datasets/BOSTON_README.md``).
Its fixed split: ``test`` = rows ``i`` with ``i % 5 == 4`` (101 rows), ``train``
= the other 405 rows, ``all`` = all 506 rows, in file order.

Run ``python -m ftlib.data check`` to verify every dataset.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import gzip
import hashlib
import io
import lzma
import os
import pickle
import struct
import sys
import tarfile
import tempfile
import urllib.error
import urllib.request
import zlib
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Iterator, Sequence

import numpy as np
import torch

from . import _data_checksums as sums
from . import config
from .errors import DatasetCorruptError, DatasetNotFoundError, FtlibError, ParameterError
from .store import FILE_MODE, atomic_write_bytes, share_dir

__all__ = [
    "DATASETS",
    "ArrayDataset",
    "load",
    "locate",
    "where",
    "subset_indices",
    "clear_cache",
    "check",
    "fetch_missing",
    "SPLITS",
    "BOSTON_COLUMNS",
    "MIRRORS",
    "SYSTEM_DIRS",
]

DATASETS: tuple[str, ...] = ("mnist", "fashion_mnist", "cifar10", "boston")
"""Names accepted by :func:`load`."""

SPLITS: dict[str, tuple[str, ...]] = {
    "mnist": ("train", "test"),
    "fashion_mnist": ("train", "test"),
    "cifar10": ("train", "test"),
    "boston": ("train", "test", "all"),
}
"""Splits accepted by :func:`load`, by dataset."""

MNIST_CLASSES = tuple(str(d) for d in range(10))
FASHION_MNIST_CLASSES = (
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
)
CIFAR10_CLASSES = (
    "airplane", "automobile", "bird", "cat", "deer",
    "dog", "frog", "horse", "ship", "truck",
)
BOSTON_COLUMNS = (
    "CRIM", "ZN", "INDUS", "CHAS", "NOX", "RM", "AGE",
    "DIS", "RAD", "TAX", "PTRATIO", "B", "LSTAT", "MEDV",
)
"""Columns of ``boston_housing.csv``; ``x`` holds the first 13, ``y`` is MEDV."""

BOSTON_TEST_EVERY = 5
"""Boston's fixed split: row ``i`` is in ``test`` iff ``i % 5 == 4``."""

MIRRORS: dict[str, tuple[str, ...]] = {
    "mnist": ("https://ossci-datasets.s3.amazonaws.com/mnist/",),
    # Zalando's bucket through S3's TLS endpoint (its s3-website endpoint is plain http)
    "fashion_mnist": ("https://fashion-mnist.s3.eu-central-1.amazonaws.com/",),
    "cifar10": ("https://www.cs.toronto.edu/~kriz/",),
}
"""Official download mirrors (base URLs, tried in order). Boston ships inside ftlib."""

PACKAGE_DATA_DIR = Path(__file__).resolve().with_name("datasets")
"""Data files shipped inside the package (Boston Housing)."""

SYSTEM_DIRS: dict[str, tuple[Path, ...]] = {
    "fashion_mnist": (Path("/usr/share/datasets/fashion-mnist"),),
    "boston": (PACKAGE_DATA_DIR,),
}
"""Locations outside the data directory, searched after it."""

CIFAR10_ARCHIVE = "cifar-10-python.tar.gz"
CIFAR10_PICKLE_DIR = "cifar-10-batches-py"
_CIFAR10_TRAIN_BATCHES = tuple(f"data_batch_{i}" for i in range(1, 6))
_CIFAR10_ROW = 3 * 32 * 32
_IDX_STEMS = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
_TORCHVISION_FOLDER = {"mnist": "MNIST", "fashion_mnist": "FashionMNIST"}
_DOWNLOAD_TIMEOUT_S = 60
_CHUNK = 1 << 20
DOWNLOAD_SCHEMES = ("https", "file")
"""URL schemes a download may use: https, or a local mirror (``file://``); never plain http."""
MAX_DOWNLOAD_BYTES = 256 << 20
"""Largest file a download accepts (CIFAR-10's archive is 163 MiB; MNIST's largest .gz 9.5 MiB)."""
MAX_IDX_BYTES = 64 << 20
"""Largest decompressed idx file accepted from a download (MNIST's training images: 44.9 MiB)."""


# ---------------------------------------------------------------------------
# The dataset container
# ---------------------------------------------------------------------------

@dataclass(frozen=True, eq=False)
class ArrayDataset:
    """A whole split held in memory as two tensors.

    Attributes:
        x: inputs. MNIST / Fashion-MNIST: float32 ``(N, 1, 28, 28)`` in [0, 1];
            CIFAR-10: float32 ``(N, 3, 32, 32)`` in [0, 1] (RGB);
            Boston: float32 ``(N, 13)``, raw feature values (:data:`BOSTON_COLUMNS`).
        y: targets, shape ``(N,)``: int64 class indices, or float32 MEDV for Boston.
        name: dataset name (one of :data:`DATASETS`).
        split: ``"train"``, ``"test"`` or ``"all"``.
        classes: class names indexed by label, or ``None`` for regression.
        source: the folder the files were read from.
        indices: int64 ``(N,)`` positions in the full split when this is a
            :meth:`subset`, else ``None``.

    It is also a map-style ``torch.utils.data.Dataset``: ``ds[i] -> (x[i], y[i])``.
    """

    x: torch.Tensor
    y: torch.Tensor
    name: str
    split: str
    classes: tuple[str, ...] | None
    source: str | None = None
    indices: torch.Tensor | None = None

    def __post_init__(self) -> None:
        if self.x.shape[0] != self.y.shape[0]:
            raise ValueError(f"x has {self.x.shape[0]} rows but y has {self.y.shape[0]}")

    def __len__(self) -> int:
        return int(self.y.shape[0])

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        return self.x[i], self.y[i]

    def __repr__(self) -> str:
        sub = "" if self.indices is None else ", subset"
        return (f"ArrayDataset({self.name!r}, {self.split!r}, n={len(self)}, "
                f"x={tuple(self.x.shape)}, y={tuple(self.y.shape)}{sub})")

    def subset(self, n: int | None, seed: int) -> "ArrayDataset":
        """A deterministic subset of ``n`` items (``None`` or ``n >= len`` → ``self``).

        Classification sets are stratified: each class gets ``n * share`` items
        (±1), drawn at random within the class. Regression sets get a random
        sample. The same ``(n, seed)`` always gives the same items, on any
        platform (see :func:`subset_indices`); items keep their original order.
        """
        if n is None or _check_count(n) >= len(self):
            return self
        labels = self.y.numpy() if self.classes is not None else None
        idx = torch.from_numpy(subset_indices(len(self), n, seed, labels=labels))
        full = idx if self.indices is None else self.indices[idx]
        return replace(self, x=self.x[idx], y=self.y[idx], indices=full)


def _check_count(n: Any) -> int:
    """``n`` as a positive int, or ParameterError."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ParameterError(f"subset size n must be a positive integer or None, got {n!r}")
    return int(n)


def subset_indices(size: int, n: int, seed: int, labels: np.ndarray | None = None) -> np.ndarray:
    """Sorted int64 indices of ``n`` out of ``size`` items, fixed by ``seed``.

    The random order comes from the raw output of numpy's PCG64 bit generator,
    whose stream numpy guarantees across versions (unlike ``Generator``
    methods), so a seed selects the same items everywhere. With ``labels``
    (shape ``(size,)``) the choice is class-stratified: items are taken class by
    class in proportion, so any ``n`` keeps every class's share to within one
    item, and a smaller ``n`` gives a subset of a larger one (same seed).
    """
    n = _check_count(n)
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ParameterError(f"seed must be a non-negative integer, got {seed!r}")
    order = np.argsort(np.random.PCG64(int(seed)).random_raw(size), kind="stable")
    if labels is not None:
        order = order[np.argsort(_within_class_position(labels[order]), kind="stable")]
    return np.sort(order[: min(n, size)]).astype(np.int64)


def _within_class_position(labels: np.ndarray) -> np.ndarray:
    """For each item, ``(rank among its class so far + 0.5) / class size``."""
    position = np.empty(len(labels), dtype=np.float64)
    for c in np.unique(labels):
        members = np.flatnonzero(labels == c)
        position[members] = (np.arange(len(members)) + 0.5) / len(members)
    return position


# ---------------------------------------------------------------------------
# Where datasets are looked for
# ---------------------------------------------------------------------------

@dataclass(frozen=True)
class _Place:
    """A folder that may hold a dataset in one layout."""

    path: Path
    layout: str  # "idx" | "cifar_raw" | "cifar_pickle" | "csv"
    origin: str  # "data dir" | "system" | "package"


def _places(name: str) -> list[_Place]:
    """Every place searched for ``name``, in lookup order."""
    d = config.data_dir()
    if name == "mnist":
        local = [(d / "mnist" / "MNIST" / "raw", "idx"), (d / "MNIST" / "raw", "idx"), (d / "mnist", "idx")]
    elif name == "fashion_mnist":
        local = [(d / "fashion_mnist" / "FashionMNIST" / "raw", "idx"), (d / "FashionMNIST" / "raw", "idx"),
                 (d / "fashion-mnist", "idx"), (d / "fashion_mnist", "idx")]
    elif name == "cifar10":
        local = [(d / "cifar10", "cifar_raw"), (d / CIFAR10_PICKLE_DIR, "cifar_pickle"),
                 (d / "cifar10" / CIFAR10_PICKLE_DIR, "cifar_pickle")]
    else:
        local = [(d / "boston", "csv"), (d, "csv")]
    places = [_Place(p, layout, "data dir") for p, layout in local]
    layout = places[0].layout
    for p in SYSTEM_DIRS.get(name, ()):
        places.append(_Place(Path(p), layout, "package" if Path(p) == PACKAGE_DATA_DIR else "system"))
    return places


def locate(name: str) -> list[Path]:
    """The folders searched for dataset ``name``, in lookup order."""
    _check_name(name)
    return [p.path for p in _places(name)]


def _required(name: str, layout: str, split: str) -> dict[str, tuple[str, ...]]:
    """Logical file → accepted file names, for one split in one layout."""
    if layout == "idx":
        return {stem: (stem, stem + ".gz") for stem in _IDX_STEMS[split]}
    if layout == "cifar_raw":
        raw = f"cifar10-{split}-data.u8"
        return {raw: (raw, raw + ".xz"), "cifar10-meta.npz": ("cifar10-meta.npz",)}
    if layout == "cifar_pickle":
        batches = _CIFAR10_TRAIN_BATCHES if split == "train" else ("test_batch",)
        return {b: (b,) for b in (*batches, "batches.meta")}
    return {"boston_housing.csv": ("boston_housing.csv",)}


def _match(place: _Place, name: str, split: str) -> tuple[dict[str, Path], list[str]]:
    """Files of ``split`` present at ``place``, and the logical names missing there."""
    found: dict[str, Path] = {}
    missing: list[str] = []
    for key, names in _required(name, place.layout, split).items():
        hit = next((place.path / n for n in names if (place.path / n).is_file()), None)
        if hit is None:
            missing.append(f"{key}[{names[1][len(key):]}]" if len(names) > 1 else key)
        else:
            found[key] = hit
    return found, missing


def _search(name: str, split: str) -> tuple[_Place | None, dict[str, Path], list[str]]:
    """The first complete place (or None), its files, and one report line per place."""
    report: list[str] = []
    for place in _places(name):
        if not place.path.is_dir():
            report.append(f"{place.path}  ({place.origin}: no such folder)")
            continue
        found, missing = _match(place, name, split)
        if not missing:
            return place, found, report
        report.append(f"{place.path}  ({place.origin}: lacks {', '.join(missing)})")
    return None, {}, report


def where(name: str, split: str = "train") -> Path | None:
    """The folder :func:`load` would read ``name``/``split`` from, or ``None``."""
    _check_name(name, split)
    place = _search(name, split)[0]
    return place.path if place is not None else None


def _check_name(name: Any, split: Any = "train") -> None:
    """ParameterError unless ``name`` and ``split`` are known."""
    if name not in DATASETS:
        raise ParameterError(f"unknown dataset {name!r}; choose one of {', '.join(DATASETS)}")
    if split not in SPLITS[name]:
        raise ParameterError(f"dataset {name!r} has no split {split!r}; choose one of {', '.join(SPLITS[name])}")


# ---------------------------------------------------------------------------
# Messages that say what to do
# ---------------------------------------------------------------------------

def _data_dir_note() -> str:
    """The data directory and whether it came from FTLIB_DATA_DIR."""
    source = "set by FTLIB_DATA_DIR" if os.environ.get("FTLIB_DATA_DIR") else "the default, FTLIB_DATA_DIR is unset"
    return f"{config.data_dir()}, {source}"


def _layout_hint(name: str) -> str:
    """How to lay out the files of ``name`` under the data directory."""
    if name in _TORCHVISION_FOLDER:
        files = ", ".join(s + "[.gz]" for split in ("train", "test") for s in _IDX_STEMS[split])
        tv = _TORCHVISION_FOLDER[name]
        return (f"put {files} into $FTLIB_DATA_DIR/{tv}/raw/ (torchvision's layout, e.g. from "
                f"torchvision.datasets.{tv}(root=$FTLIB_DATA_DIR, download=True)) or another folder listed above")
    if name == "cifar10":
        return ("put the extracted cifar-10-python.tar.gz into $FTLIB_DATA_DIR/cifar-10-batches-py/ (torchvision's "
                "layout: data_batch_1..5, test_batch, batches.meta), or the book's cifar10-{train,test}-data.u8.xz "
                "and cifar10-meta.npz into $FTLIB_DATA_DIR/cifar10/")
    return ("put boston_housing.csv into $FTLIB_DATA_DIR/boston/; a copy normally ships inside ftlib "
            f"({PACKAGE_DATA_DIR}), so reinstalling ftlib also restores it")


def _not_found_message(name: str, split: str, report: Sequence[str], download_errors: Sequence[str]) -> str:
    """The full DatasetNotFoundError text: where ftlib looked and how to provide the data."""
    lines = [f"Dataset {name!r} (split {split!r}) was not found. ftlib looked in:"]
    lines += [f"  - {r}" for r in report]
    if download_errors:
        lines.append("The download failed:")
        lines += [f"  - {e}" for e in download_errors]
    lines.append("To provide it, do one of:")
    lines.append(f"  - set FTLIB_DATA_DIR=/path/to/data (now: {_data_dir_note()}) and {_layout_hint(name)}")
    if name == "fashion_mnist":
        lines.append("  - sudo apt-get install dataset-fashion-mnist   (Debian/Ubuntu; installs "
                     "/usr/share/datasets/fashion-mnist)")
    if name in MIRRORS and not download_errors:
        lines.append(f"  - set FTLIB_ALLOW_DOWNLOAD=1 (or call ftlib.data.load({name!r}, download=True)) to download "
                     f"it from {MIRRORS[name][0]} into {_download_dir(name)}")
    return "\n".join(lines)


def _remedy(path: Path) -> str:
    """What to do about a corrupt file, depending on where it lives."""
    if any(_is_within(path, d) for d in SYSTEM_DIRS.get("fashion_mnist", ())):
        return "Reinstall it: sudo apt-get install --reinstall dataset-fashion-mnist"
    if _is_within(path, PACKAGE_DATA_DIR):
        return "Reinstall ftlib (pip install --force-reinstall ...) to restore the shipped copy."
    return ("Delete it and provide a fresh copy (see the PROVENANCE.md next to it, if any). For MNIST, "
            "Fashion-MNIST and CIFAR-10 you can instead delete it and set FTLIB_ALLOW_DOWNLOAD=1 to download the "
            "original; for Boston, the copy shipped inside ftlib is used once it is deleted.")


def _is_within(path: Path, folder: Path) -> bool:
    """True when ``path`` lies inside ``folder``."""
    try:
        path.resolve().relative_to(Path(folder).resolve())
        return True
    except ValueError:
        return False


def _corrupt(path: Path | str, problem: str, remedy: str | None = None) -> DatasetCorruptError:
    """A DatasetCorruptError naming the file (or URL), the problem and the fix."""
    fix = remedy if remedy is not None else _remedy(Path(path))
    return DatasetCorruptError(f"Corrupt dataset file {path}: {problem}\n{fix}")


# ---------------------------------------------------------------------------
# Reading and verifying files
# ---------------------------------------------------------------------------

_VERIFIED: set[tuple[str, int, int, str]] = set()


def _identity(path: Path, digest: str) -> tuple[str, int, int, str]:
    """``(path, size, mtime_ns, digest)``: a file's identity for the stamp."""
    st = path.stat()
    return str(path), st.st_size, st.st_mtime_ns, digest


def _is_stamped(path: Path, digest: str) -> bool:
    """True if ``path`` was verified to have ``digest`` by this process and has not changed since.

    Only this process's own verifications count: a new process hashes every
    file it reads again (bit rot keeps size and mtime), once.
    """
    return _identity(path, digest) in _VERIFIED


def _stamp(path: Path, digest: str, ident: tuple[str, int, int, str] | None = None) -> None:
    """Remember, in this process, that ``path`` has content ``digest``.

    ``ident`` is the file's identity taken *before* it was read; if the file
    changed meanwhile, nothing is remembered.
    """
    now = _identity(path, digest)
    if ident is not None and ident != now:
        return
    _VERIFIED.add(now)


def _unlink(path: Path) -> None:
    """Remove a file if it exists."""
    try:
        path.unlink()
    except FileNotFoundError:
        pass


def _digest(payload: bytes | memoryview | np.ndarray, algo: str) -> str:
    """``"<algo>:<hex>"`` of a buffer."""
    return f"{algo}:{hashlib.new(algo, memoryview(payload).cast('B')).hexdigest()}"


def _read_bytes(path: Path) -> bytes:
    """The decompressed content of ``path`` (by suffix: .gz, .xz, or plain)."""
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise DatasetNotFoundError(f"Cannot read dataset file {path}: {e}. Check that it is a readable file.") from e
    if path.suffix == ".gz":
        return _decompress(path, raw, gzip.decompress, (OSError, EOFError, zlib.error), "gzip")
    if path.suffix == ".xz":
        return _decompress(path, raw, lzma.decompress, (lzma.LZMAError, EOFError), "xz")
    return raw


def _decompress(path: Path | str, raw: bytes, fn: Any, errors: tuple[type[BaseException], ...], kind: str,
                remedy: str | None = None) -> bytes:
    """``fn(raw)``, turning decompression errors into DatasetCorruptError."""
    try:
        return fn(raw)
    except errors as e:
        raise _corrupt(path, f"it is not a valid {kind} stream ({type(e).__name__}: {e}); "
                             "the file is truncated or damaged.", remedy) from e


def _verify(path: Path | str, payload: bytes | memoryview | np.ndarray, expected: str, *, what: str = "content",
            remedy: str | None = None) -> None:
    """Raise DatasetCorruptError unless ``payload`` hashes to ``expected`` (``algo:hex``)."""
    algo = expected.split(":", 1)[0]
    actual = _digest(payload, algo)
    if actual != expected:
        raise _corrupt(path, f"the {algo} of its {what} does not match the known value.\n"
                             f"  expected {expected}\n  actual   {actual}", remedy)


def _verified_bytes(path: Path, expected: str, thorough: bool) -> bytes:
    """The (decompressed) content of ``path``, checked against ``expected`` unless stamped."""
    ident = _identity(path, expected)
    payload = _read_bytes(path)
    if thorough or not _is_stamped(path, expected):
        what = "decompressed content" if path.suffix in (".gz", ".xz") else "content"
        _verify(path, payload, expected, what=what)
        _stamp(path, expected, ident)
    return payload


def _expected_sha(name: str, key: str) -> str:
    """The known ``sha256:<hex>`` of a logical file."""
    return "sha256:" + sums.CONTENT_SHA256[name][key]


# ---------------------------------------------------------------------------
# Decoders, one per layout; they return read-only numpy arrays
# ---------------------------------------------------------------------------

@dataclass(frozen=True)
class _Decoded:
    """A decoded split: uint8 images (N, C*H*W) or float64 features, and labels."""

    x: np.ndarray
    y: np.ndarray
    classes: tuple[str, ...] | None


def _parse_idx(payload: bytes, path: Path, ndim: int) -> np.ndarray:
    """An idx file (uint8, ``ndim`` dimensions) as a read-only numpy array."""
    header = 4 + 4 * ndim
    if len(payload) < header or payload[:3] != b"\x00\x00\x08" or payload[3] != ndim:
        raise _corrupt(path, f"bad idx header {payload[:4].hex() or '(empty)'}; expected magic "
                             f"0000080{ndim} (uint8, {ndim} dimension(s)).")
    dims = struct.unpack(f">{ndim}I", payload[4:header])
    count = int(np.prod(dims, dtype=np.int64))
    if len(payload) - header != count:
        raise _corrupt(path, f"its idx header announces {dims} = {count} bytes of data "
                             f"but it holds {len(payload) - header}.")
    return np.frombuffer(payload, dtype=np.uint8, count=count, offset=header).reshape(dims)


def _decode_idx(name: str, split: str, files: dict[str, Path], thorough: bool) -> _Decoded:
    """MNIST / Fashion-MNIST from a pair of idx files."""
    img_key, lab_key = _IDX_STEMS[split]
    images = _parse_idx(_verified_bytes(files[img_key], _expected_sha(name, img_key), thorough), files[img_key], 3)
    labels = _parse_idx(_verified_bytes(files[lab_key], _expected_sha(name, lab_key), thorough), files[lab_key], 1)
    if images.shape[1:] != (28, 28) or images.shape[0] != labels.shape[0]:
        raise _corrupt(files[img_key], f"images {images.shape} do not fit 28x28 digits with {labels.shape[0]} labels.")
    if labels.size and labels.max() > 9:
        raise _corrupt(files[lab_key], f"label {labels.max()} is out of range 0..9.")
    classes = MNIST_CLASSES if name == "mnist" else FASHION_MNIST_CLASSES
    return _Decoded(images.reshape(len(images), -1), labels, classes)


def _decoded_cache_path(expected: str) -> Path:
    """Where the decoded copy of a CIFAR-10 raw array with content ``expected`` is kept."""
    return config.cache_dir() / "data" / "decoded" / f"cifar10-{expected.split(':')[1][:24]}.u8.npy"


def _load_decoded(expected: str) -> np.ndarray | None:
    """The decoded copy if present and intact (hash re-checked), else None."""
    path = _decoded_cache_path(expected)
    try:
        arr = np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError):
        return None
    if arr.dtype != np.uint8 or arr.ndim != 1 or _digest(arr, "sha256") != expected:
        _unlink(path)
        return None
    arr.flags.writeable = False
    return arr


def _save_decoded(expected: str, arr: np.ndarray) -> None:
    """Keep a decoded copy in the cache, atomically. Best effort."""
    path = _decoded_cache_path(expected)
    try:
        share_dir(path.parent)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as f:
                np.save(f, arr, allow_pickle=False)
            os.chmod(tmp, FILE_MODE)  # a shared cache stays readable by its group
            os.replace(tmp, path)
        except BaseException:
            _unlink(Path(tmp))
            raise
    except OSError:
        pass


def _cifar_raw_array(path: Path, expected: str, thorough: bool) -> np.ndarray:
    """The raw uint8 rows of a CIFAR-10 ``.u8[.xz]`` file, via the decoded cache when possible."""
    compressed = path.suffix == ".xz"
    if compressed and not thorough:  # the decoded copy is used only if its content hash matches
        cached = _load_decoded(expected)
        if cached is not None:
            return cached
    arr = np.frombuffer(_verified_bytes(path, expected, thorough), dtype=np.uint8)
    if compressed:
        _save_decoded(expected, arr)
    return arr


def _load_npz(payload: bytes, path: Path) -> dict[str, np.ndarray]:
    """All arrays of an ``.npz`` held in ``payload`` (no pickles), errors as DatasetCorruptError."""
    try:
        with np.load(io.BytesIO(payload), allow_pickle=False) as z:
            return {k: z[k] for k in z.files}
    except Exception as e:  # zipfile.BadZipFile, ValueError, OSError, ...
        raise _corrupt(path, f"it cannot be read as an .npz archive ({type(e).__name__}: {e}).") from e


def _decode_cifar_raw(name: str, split: str, files: dict[str, Path], thorough: bool) -> _Decoded:
    """CIFAR-10 in the book's format: xz raw array + meta npz."""
    meta_path = files["cifar10-meta.npz"]
    meta = _load_npz(_verified_bytes(meta_path, _expected_sha(name, "cifar10-meta.npz"), thorough), meta_path)
    try:
        labels = meta[f"{split}_labels"].astype(np.int64)
        classes = tuple(str(c) for c in meta["classes"])
    except KeyError as e:
        raise _corrupt(meta_path, f"it lacks the array {e}.") from e
    key = f"cifar10-{split}-data.u8"
    rows = _cifar_raw_array(files[key], _expected_sha(name, key), thorough)
    if rows.size != labels.size * _CIFAR10_ROW:
        raise _corrupt(files[key], f"{rows.size} bytes do not hold {labels.size} images of {_CIFAR10_ROW} bytes.")
    labels.flags.writeable = False
    return _Decoded(rows.reshape(labels.size, _CIFAR10_ROW), labels, classes)


def _unpickle_verified(path: Path, thorough: bool) -> dict[str, Any]:
    """A CIFAR-10 pickle, unpickled only after its md5 matched the official one."""
    expected = "md5:" + sums.CIFAR10_PICKLE_MD5[path.name]
    payload = _verified_bytes(path, expected, thorough)
    try:
        obj = pickle.loads(payload, encoding="latin1")
    except Exception as e:  # the md5 matched, so this only happens with a patched table
        raise _corrupt(path, f"it cannot be unpickled ({type(e).__name__}: {e}).") from e
    if not isinstance(obj, dict):
        raise _corrupt(path, f"it holds a {type(obj).__name__}, not a dict.")
    return obj


def _decode_cifar_pickle(split: str, files: dict[str, Path], thorough: bool) -> _Decoded:
    """CIFAR-10 from torchvision's ``cifar-10-batches-py`` pickles (original order)."""
    meta = _unpickle_verified(files["batches.meta"], thorough)
    classes = tuple(str(c) for c in meta.get("label_names", CIFAR10_CLASSES))
    xs, ys = [], []
    for key, path in files.items():
        if key == "batches.meta":
            continue
        batch = _unpickle_verified(path, thorough)
        try:
            data = np.asarray(batch["data"], dtype=np.uint8).reshape(-1, _CIFAR10_ROW)
            labels = np.asarray(batch["labels"], dtype=np.int64)
        except (KeyError, ValueError) as e:
            raise _corrupt(path, f"unexpected batch content ({type(e).__name__}: {e}).") from e
        if len(data) != len(labels):
            raise _corrupt(path, f"{len(data)} images but {len(labels)} labels.")
        xs.append(data)
        ys.append(labels)
    x, y = np.concatenate(xs), np.concatenate(ys)
    x.flags.writeable = y.flags.writeable = False
    return _Decoded(x, y, classes)


def _decode_boston(name: str, split: str, files: dict[str, Path], thorough: bool) -> _Decoded:
    """Boston Housing from its headerless 14-column CSV, then the fixed split."""
    path = files["boston_housing.csv"]
    payload = _verified_bytes(path, _expected_sha(name, "boston_housing.csv"), thorough)
    try:
        table = np.loadtxt(payload.decode("ascii").splitlines(), delimiter=",", dtype=np.float64, ndmin=2)
    except (ValueError, UnicodeDecodeError) as e:
        raise _corrupt(path, f"it is not a numeric CSV ({e}).") from e
    if table.shape[1] != len(BOSTON_COLUMNS):
        raise _corrupt(path, f"it has {table.shape[1]} columns, expected {len(BOSTON_COLUMNS)}.")
    rows = np.arange(len(table))
    keep = {"all": rows >= 0, "test": rows % BOSTON_TEST_EVERY == BOSTON_TEST_EVERY - 1}
    keep["train"] = ~keep["test"]
    table = table[keep[split]]
    x, y = table[:, :-1].copy(), table[:, -1].copy()
    x.flags.writeable = y.flags.writeable = False
    return _Decoded(x, y, None)


@functools.lru_cache(maxsize=16)
def _decode(name: str, split: str, layout: str, files: tuple[tuple[str, str, int, int], ...],
            thorough: bool = False) -> _Decoded:
    """Decode one split, memoized by the files' identity (path, size, mtime)."""
    paths = {key: Path(p) for key, p, _, _ in files}
    if layout == "idx":
        return _decode_idx(name, split, paths, thorough)
    if layout == "cifar_raw":
        return _decode_cifar_raw(name, split, paths, thorough)
    if layout == "cifar_pickle":
        return _decode_cifar_pickle(split, paths, thorough)
    return _decode_boston(name, split, paths, thorough)


def _files_key(files: dict[str, Path]) -> tuple[tuple[str, str, int, int], ...]:
    """A hashable identity of the files of a split, for the in-process memo."""
    key = []
    for k, p in files.items():
        st = p.stat()
        key.append((k, str(p), st.st_size, st.st_mtime_ns))
    return tuple(key)


def clear_cache() -> None:
    """Forget decoded arrays and in-process verifications (the stamp file stays)."""
    _decode.cache_clear()
    _VERIFIED.clear()


# ---------------------------------------------------------------------------
# Public loading
# ---------------------------------------------------------------------------

def load(name: str, split: str = "train", *, download: bool | None = None) -> ArrayDataset:
    """Load one split of a dataset as tensors (see the module docstring for shapes).

    Args:
        name: one of :data:`DATASETS`.
        split: ``"train"`` or ``"test"``; Boston also ``"all"`` (its train/test
            split is fixed: every fifth row, ``i % 5 == 4``, is test).
        download: allow downloading from :data:`MIRRORS` if the data is not
            found locally; ``None`` (default) follows ``FTLIB_ALLOW_DOWNLOAD``.

    Returns:
        An :class:`ArrayDataset` with fresh tensors (the decoded uint8 arrays
        are memoized per process, so a second call only redoes the float
        conversion).

    Raises:
        DatasetNotFoundError: not found anywhere; the message lists every
            place looked and how to provide the data.
        DatasetCorruptError: a file does not match its checksum or cannot be
            decoded; the message names it and says what to do.
        ParameterError: unknown name or split.
    """
    _check_name(name, split)
    place, files, report = _search(name, split)
    download_errors: list[str] = []
    if place is None and name in MIRRORS and (config.download_allowed() if download is None else download):
        download_errors = _download(name, split)
        place, files, _ = _search(name, split)
    if place is None:
        raise DatasetNotFoundError(_not_found_message(name, split, report, download_errors))
    decoded = _decode(name, split, place.layout, _files_key(files))
    return _to_dataset(decoded, name, split, place.path)


def _item_shape(name: str) -> tuple[int, ...]:
    """Shape of one item of ``x``."""
    return {"mnist": (1, 28, 28), "fashion_mnist": (1, 28, 28), "cifar10": (3, 32, 32)}.get(name, (13,))


def _to_dataset(decoded: _Decoded, name: str, split: str, source: Path) -> ArrayDataset:
    """Fresh float tensors in the documented shapes from a memoized decode."""
    if name == "boston":
        x = torch.from_numpy(decoded.x.astype(np.float32))
        y = torch.from_numpy(decoded.y.astype(np.float32))
    else:
        x = torch.from_numpy(decoded.x.reshape(-1, *_item_shape(name)).astype(np.float32)).div_(255.0)
        y = torch.from_numpy(decoded.y.astype(np.int64))
    return ArrayDataset(x=x, y=y, name=name, split=split, classes=decoded.classes, source=str(source))


# ---------------------------------------------------------------------------
# Downloads (opt-in), into the data directory in torchvision's layout
# ---------------------------------------------------------------------------

def _download_dir(name: str) -> Path:
    """Where a download of ``name`` goes."""
    if name == "cifar10":
        return config.data_dir() / CIFAR10_PICKLE_DIR
    return config.data_dir() / _TORCHVISION_FOLDER[name] / "raw"


def _download(name: str, split: str) -> list[str]:
    """Download ``name`` from its mirrors; returns the errors of a failed download.

    Raises DatasetCorruptError when a mirror served a file with the wrong
    checksum and no other mirror served a good one. Nothing unverified is
    ever left in the data directory.
    """
    dest = _download_dir(name)
    try:
        dest.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        return [f"cannot create {dest}: {e}"]
    if name == "cifar10":
        return _with_mirrors(name, CIFAR10_ARCHIVE, lambda tmp, url: _install_cifar_archive(tmp, url, dest))
    errors: list[str] = []
    for stem in _IDX_STEMS[split]:
        if not (dest / stem).is_file():
            errors += _with_mirrors(name, stem + ".gz", lambda tmp, url, s=stem: _install_idx(name, s, tmp, url, dest))
    return errors


def _with_mirrors(name: str, filename: str, install: Any) -> list[str]:
    """Fetch ``filename`` from each mirror until ``install(tmp_path, url)`` succeeds."""
    errors: list[str] = []
    corrupt: DatasetCorruptError | None = None
    for base in MIRRORS[name]:
        url = base + filename
        try:
            with _fetched(url, _download_dir(name)) as tmp:
                install(tmp, url)
            return []
        except DatasetCorruptError as e:
            corrupt = e
        except (urllib.error.URLError, OSError, ValueError) as e:
            errors.append(f"{url}: {type(e).__name__}: {getattr(e, 'reason', e)}")
    if corrupt is not None:
        raise corrupt
    return errors


@contextlib.contextmanager
def _fetched(url: str, folder: Path) -> Iterator[Path]:
    """Download ``url`` into a temporary file in ``folder``; the file is always removed after."""
    scheme = url.split(":", 1)[0].lower()
    if scheme not in DOWNLOAD_SCHEMES:
        raise ValueError(f"refusing a {scheme}:// download (only {', '.join(DOWNLOAD_SCHEMES)})")
    fd, name = tempfile.mkstemp(dir=folder, prefix=".download-", suffix=".part")
    tmp = Path(name)
    try:
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=_DOWNLOAD_TIMEOUT_S) as resp:
            final = getattr(resp, "geturl", lambda: url)() or url
            if final.split(":", 1)[0].lower() not in DOWNLOAD_SCHEMES:
                raise ValueError(f"refusing a redirect to {final} (only {', '.join(DOWNLOAD_SCHEMES)})")
            total = int(resp.headers.get("Content-Length") or 0) or None
            if total is not None and total > MAX_DOWNLOAD_BYTES:
                raise ValueError(f"the server announces {total} bytes, more than the cap of {MAX_DOWNLOAD_BYTES}")
            size = 0
            for chunk in _progress(iter(lambda: resp.read(_CHUNK), b""), total, url):
                size += len(chunk)
                if size > MAX_DOWNLOAD_BYTES:
                    raise ValueError(f"the download exceeds the cap of {MAX_DOWNLOAD_BYTES} bytes")
                out.write(chunk)
        yield tmp
    finally:
        _unlink(tmp)


def _progress(chunks: Iterator[bytes], total: int | None, url: str) -> Iterator[bytes]:
    """Yield ``chunks``, with a tqdm bar on an interactive terminal."""
    if not sys.stderr.isatty():
        yield from chunks
        return
    try:
        from tqdm.auto import tqdm
    except ImportError:
        yield from chunks
        return
    with tqdm(total=total, unit="B", unit_scale=True, desc=url.rsplit("/", 1)[-1]) as bar:
        for chunk in chunks:
            bar.update(len(chunk))
            yield chunk


_DOWNLOAD_REMEDY = "The download is damaged or not the official file; nothing was written. Try again later."


def _install_idx(name: str, stem: str, tmp: Path, url: str, dest: Path) -> None:
    """Verify a downloaded ``stem.gz`` and write it decompressed (torchvision reads that too).

    Decompressed in a stream into a temporary file beside the destination (at most
    :data:`MAX_IDX_BYTES`), hashed on the way, moved into place only when the hash matched.
    """
    expected = _expected_sha(name, stem)
    h = hashlib.sha256()
    fd, part = tempfile.mkstemp(dir=dest, prefix=f".{stem}.", suffix=".part")
    try:
        size = 0
        with os.fdopen(fd, "wb") as out, gzip.open(tmp, "rb") as src:
            for chunk in iter(lambda: src.read(_CHUNK), b""):
                size += len(chunk)
                if size > MAX_IDX_BYTES:
                    raise _corrupt(url, f"it decompresses to more than {MAX_IDX_BYTES} bytes.", _DOWNLOAD_REMEDY)
                h.update(chunk)
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        actual = "sha256:" + h.hexdigest()
        if actual != expected:
            raise _corrupt(url, f"the sha256 of its decompressed content does not match the known value.\n"
                                f"  expected {expected}\n  actual   {actual}", _DOWNLOAD_REMEDY)
        os.chmod(part, FILE_MODE)
        os.replace(part, dest / stem)
    except (OSError, EOFError, zlib.error) as e:
        raise _corrupt(url, f"it is not a valid gzip stream ({type(e).__name__}: {e}); the file is truncated or "
                            "damaged.", _DOWNLOAD_REMEDY) from e
    finally:
        _unlink(Path(part))
    _stamp(dest / stem, expected)


def _install_cifar_archive(tmp: Path, url: str, dest: Path) -> None:
    """Verify the CIFAR-10 archive, extract only the expected members, verify each."""
    remedy = _DOWNLOAD_REMEDY
    _verify_file_md5(tmp, "md5:" + sums.CIFAR10_ARCHIVE_MD5, url, remedy)
    members = {f"{CIFAR10_PICKLE_DIR}/{n}": n for n in sums.CIFAR10_PICKLE_MD5}
    contents: dict[str, bytes] = {}
    try:
        with tarfile.open(tmp, "r:gz") as tar:
            for member in tar:
                if member.name in members and member.isfile():
                    contents[members[member.name]] = tar.extractfile(member).read()
    except (tarfile.TarError, OSError, EOFError, zlib.error) as e:
        raise _corrupt(url, f"the archive cannot be read ({type(e).__name__}: {e}).", remedy) from e
    for n in members.values():
        if n not in contents:
            raise _corrupt(url, f"the archive lacks {CIFAR10_PICKLE_DIR}/{n}.", remedy)
        _verify(f"{url} (member {CIFAR10_PICKLE_DIR}/{n})", contents[n], "md5:" + sums.CIFAR10_PICKLE_MD5[n],
                remedy=remedy)
    for n, payload in contents.items():
        atomic_write_bytes(dest / n, payload)
        _stamp(dest / n, "md5:" + sums.CIFAR10_PICKLE_MD5[n])


def _verify_file_md5(path: Path, expected: str, url: str, remedy: str) -> None:
    """Stream-hash a downloaded file and compare with ``expected`` (``md5:<hex>``)."""
    h = hashlib.md5()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(_CHUNK), b""):
            h.update(chunk)
    actual = "md5:" + h.hexdigest()
    if actual != expected:
        raise _corrupt(url, f"the md5 of the downloaded file does not match the published value.\n"
                            f"  expected {expected}\n  actual   {actual}", remedy)


# ---------------------------------------------------------------------------
# python -m ftlib.data check
# ---------------------------------------------------------------------------

def check(download: bool | None = None, out: Any = None, names: Sequence[str] | None = None) -> int:
    """Load and fully re-verify every dataset split (of ``names``, default all); print one line each.

    ``download``: fetch what is missing from :data:`MIRRORS`; ``None`` (default)
    follows ``FTLIB_ALLOW_DOWNLOAD``. Returns 0 (all present and intact) or 1.
    """
    out = out or sys.stdout
    download = config.download_allowed() if download is None else download
    problems: list[str] = []
    print(f"data directory: {_data_dir_note()}", file=out)
    for name in names or DATASETS:
        for split in SPLITS[name]:
            line, problem = _check_one(name, split, download)
            print(line, file=out)
            if problem:
                problems.append(problem)
    for p in problems:
        print("\n" + p, file=out)
    return 1 if problems else 0


def fetch_missing(names: Sequence[str] | None = None, out: Any = None) -> int:
    """The book build's first step: download every split of ``names`` (default all) that is not found.

    Unlike :func:`load`, this does not wait for ``FTLIB_ALLOW_DOWNLOAD``: building
    the book is the user's request for its data. Downloads go to the data
    directory (https only, size-capped, hashed before use). Returns 0 when every
    split is present; else prints the report of :func:`check` for what is still
    missing (offline, say) and returns 1.
    """
    out = out or sys.stdout
    names = list(names or DATASETS)
    missing = [(n, s) for n in names for s in SPLITS[n] if _search(n, s)[0] is None]
    failed: list[str] = []
    for n in dict.fromkeys(n for n, _ in missing):
        if n not in MIRRORS:
            continue
        print(f"ftlib.data: {n} is not in {_data_dir_note()}; downloading it from {MIRRORS[n][0]} ...",
              file=out, flush=True)
        for s in [s for m, s in missing if m == n]:
            try:
                if _search(n, s)[0] is None:
                    _download(n, s)
            except FtlibError as e:
                failed.append(str(e))
    still = [n for n in dict.fromkeys(n for n, _ in missing) if any(_search(n, s)[0] is None for s in SPLITS[n])]
    if not still and not failed:
        return 0
    for message in failed:
        print(message, file=out)
    check(download=False, out=out, names=still or names)
    return 1


def _check_one(name: str, split: str, download: bool) -> tuple[str, str | None]:
    """One status line for ``name``/``split`` and the full error message, if any."""
    label = f"{name:<14} {split:<5}"
    try:
        place, files, report = _search(name, split)
        errors: list[str] = []
        if place is None and download and name in MIRRORS:
            errors = _download(name, split)
            place, files, _ = _search(name, split)
        if place is None:
            return f"{label} MISSING", _not_found_message(name, split, report, errors)
        decoded = _decode.__wrapped__(name, split, place.layout, _files_key(files), thorough=True)  # not memoized
    except FtlibError as e:
        kind = "CORRUPT" if isinstance(e, DatasetCorruptError) else "MISSING"
        return f"{label} {kind}", str(e)
    shape = ", ".join(str(s) for s in (len(decoded.y), *_item_shape(name)))
    return f"{label} ok  N={len(decoded.y):>6}  x ({shape})  checksums ok  {place.path}", None


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: ``python -m ftlib.data check [--download]``."""
    parser = argparse.ArgumentParser(prog="python -m ftlib.data", description="ftlib datasets")
    sub = parser.add_subparsers(dest="command", required=True)
    p_check = sub.add_parser("check", help="verify every dataset and say where it was found")
    p_check.add_argument("--download", action="store_true", default=None,
                         help="download missing datasets (official mirrors; default: $FTLIB_ALLOW_DOWNLOAD)")
    sub.add_parser("where", help="list the places searched for each dataset")
    args = parser.parse_args(argv)
    if args.command == "where":
        for name in DATASETS:
            print(name + ":\n" + "\n".join(f"  {p}" for p in locate(name)))
        return 0
    return check(download=args.download)


if __name__ == "__main__":
    sys.exit(main())
