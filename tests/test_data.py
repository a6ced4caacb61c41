"""Tests of :mod:`ftlib.data`: real data, missing and corrupt files, downloads, subsets.

Real-data tests read ``FTLIB_DATA_DIR`` (CI sets it to the shared data folder).
They are skipped only when that variable is unset *and* the default data
directory holds nothing; with the variable set, missing data is a failure.
Everything else runs on small synthetic files in ``tmp_path``.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import lzma
import os
import pickle
import struct
import tarfile
from pathlib import Path

import numpy as np
import pytest
import torch

from ftlib import _data_checksums as sums
from ftlib import config, data
from ftlib.errors import DatasetCorruptError, DatasetNotFoundError, ParameterError

MNIST_TRAIN_HIST = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
MNIST_TEST_HIST = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
CIFAR_TRAIN_MEAN = (0.4914, 0.4822, 0.4465)
CIFAR_TEST_MEAN = (0.4942, 0.4851, 0.4504)
TEST_STEMS = ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")


# ---------------------------------------------------------------------------
# Fixtures and helpers
# ---------------------------------------------------------------------------

@pytest.fixture(autouse=True)
def isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Own cache dir, no downloads, no memo carried between tests."""
    monkeypatch.setenv("FTLIB_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("FTLIB_ALLOW_DOWNLOAD", raising=False)
    data.clear_cache()
    yield
    data.clear_cache()


@pytest.fixture
def empty_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """An empty data dir and no system locations: nothing can be found."""
    d = tmp_path / "data"
    d.mkdir()
    monkeypatch.setenv("FTLIB_DATA_DIR", str(d))
    monkeypatch.setattr(data, "SYSTEM_DIRS", {})
    return d


def real_data_dir() -> Path:
    """The real data directory, or skip (only when FTLIB_DATA_DIR is unset and the default is empty)."""
    if os.environ.get("FTLIB_DATA_DIR"):
        return config.data_dir()
    default = config.data_dir()
    if not default.is_dir() or not any(default.iterdir()):
        pytest.skip(f"no real data: FTLIB_DATA_DIR is unset and the default data directory {default} is empty")
    return default


@pytest.fixture(scope="session")
def real(tmp_path_factory: pytest.TempPathFactory):
    """Loader of real splits, each loaded once per session with a private cache dir."""
    data_dir = real_data_dir()
    cache = tmp_path_factory.mktemp("real-cache")
    loaded: dict[tuple[str, str], data.ArrayDataset] = {}

    def get(name: str, split: str) -> data.ArrayDataset:
        if (name, split) not in loaded:
            with pytest.MonkeyPatch.context() as mp:
                mp.setenv("FTLIB_DATA_DIR", str(data_dir))
                mp.setenv("FTLIB_CACHE_DIR", str(cache))
                mp.delenv("FTLIB_ALLOW_DOWNLOAD", raising=False)
                loaded[name, split] = data.load(name, split, download=False)
        return loaded[name, split]

    get.data_dir = data_dir
    return get


def real_mnist_test_files(real) -> dict[str, bytes]:
    """Decompressed content of the real MNIST test idx files, whatever layout they are in."""
    folder = Path(real("mnist", "test").source)
    out = {}
    for stem in TEST_STEMS:
        plain = folder / stem
        out[stem] = plain.read_bytes() if plain.is_file() else gzip.decompress((folder / f"{stem}.gz").read_bytes())
    return out


def idx_bytes(arr: np.ndarray) -> bytes:
    """An idx file (uint8) holding ``arr``."""
    arr = np.ascontiguousarray(arr, dtype=np.uint8)
    return bytes([0, 0, 8, arr.ndim]) + struct.pack(f">{arr.ndim}I", *arr.shape) + arr.tobytes()


def sha(payload: bytes) -> str:
    return hashlib.sha256(payload).hexdigest()


def write_synthetic_idx(monkeypatch, folder: Path, name: str = "mnist", n: int = 30, gz: bool = True,
                        seed: int = 0, register: bool = True) -> dict[str, bytes]:
    """Small test-split idx files in ``folder``; their checksums patched into the known table."""
    rng = np.random.default_rng(seed)
    contents = {
        TEST_STEMS[0]: idx_bytes(rng.integers(0, 256, size=(n, 28, 28))),
        TEST_STEMS[1]: idx_bytes(np.arange(n) % 10),
    }
    folder.mkdir(parents=True, exist_ok=True)
    for stem, payload in contents.items():
        if gz:
            (folder / f"{stem}.gz").write_bytes(gzip.compress(payload))
        else:
            (folder / stem).write_bytes(payload)
        if register:
            monkeypatch.setitem(sums.CONTENT_SHA256[name], stem, sha(payload))
    return contents


def write_synthetic_cifar_raw(monkeypatch, folder: Path, n: int = 20) -> np.ndarray:
    """A small CIFAR-10 test split in the book's xz format, checksums patched."""
    rng = np.random.default_rng(1)
    rows = rng.integers(0, 256, size=(n, 3072), dtype=np.uint8)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "cifar10-test-data.u8.xz").write_bytes(lzma.compress(rows.tobytes()))
    buf = io.BytesIO()
    np.savez(buf, classes=np.array(data.CIFAR10_CLASSES), test_labels=(np.arange(n) % 10).astype(np.uint8))
    (folder / "cifar10-meta.npz").write_bytes(buf.getvalue())
    monkeypatch.setitem(sums.CONTENT_SHA256["cifar10"], "cifar10-test-data.u8", sha(rows.tobytes()))
    monkeypatch.setitem(sums.CONTENT_SHA256["cifar10"], "cifar10-meta.npz", sha(buf.getvalue()))
    return rows


def cifar_pickles(n: int = 4) -> dict[str, bytes]:
    """Small stand-ins for the cifar-10-batches-py pickles."""
    rng = np.random.default_rng(2)
    out = {"batches.meta": pickle.dumps({"label_names": list(data.CIFAR10_CLASSES)})}
    for b in ("data_batch_1", "data_batch_2", "data_batch_3", "data_batch_4", "data_batch_5", "test_batch"):
        batch = {"data": rng.integers(0, 256, size=(n, 3072), dtype=np.uint8), "labels": list(range(n))}
        out[b] = pickle.dumps(batch)
    return out


def register_pickles(monkeypatch, pickles: dict[str, bytes]) -> None:
    for k, v in pickles.items():
        monkeypatch.setitem(sums.CIFAR10_PICKLE_MD5, k, hashlib.md5(v).hexdigest())


# ---------------------------------------------------------------------------
# Real data
# ---------------------------------------------------------------------------

def test_real_mnist(real) -> None:
    train, test = real("mnist", "train"), real("mnist", "test")
    assert train.x.shape == (60000, 1, 28, 28) and test.x.shape == (10000, 1, 28, 28)
    assert train.x.dtype == torch.float32 and train.y.dtype == torch.int64
    assert float(train.x.min()) == 0.0 and float(train.x.max()) == 1.0
    assert torch.bincount(train.y, minlength=10).tolist() == MNIST_TRAIN_HIST
    assert torch.bincount(test.y, minlength=10).tolist() == MNIST_TEST_HIST
    assert abs(float(train.x.mean()) - 0.1307) < 1e-4
    assert train.classes == tuple("0123456789") and train.split == "train"


def test_real_fashion_mnist(real) -> None:
    train, test = real("fashion_mnist", "train"), real("fashion_mnist", "test")
    assert train.x.shape == (60000, 1, 28, 28) and test.x.shape == (10000, 1, 28, 28)
    assert torch.bincount(train.y, minlength=10).tolist() == [6000] * 10
    assert torch.bincount(test.y, minlength=10).tolist() == [1000] * 10
    assert 0.0 <= float(train.x.min()) and float(train.x.max()) <= 1.0
    assert abs(float(train.x.mean()) - 0.2860) < 1e-3  # the commonly used normalisation mean
    assert train.classes[0] == "T-shirt/top" and train.classes[9] == "Ankle boot"


def test_real_cifar10(real) -> None:
    train, test = real("cifar10", "train"), real("cifar10", "test")
    assert train.x.shape == (50000, 3, 32, 32) and test.x.shape == (10000, 3, 32, 32)
    assert train.x.dtype == torch.float32 and train.y.dtype == torch.int64
    for ds, published in ((train, CIFAR_TRAIN_MEAN), (test, CIFAR_TEST_MEAN)):
        means = ds.x.mean(dim=(0, 2, 3)).tolist()
        assert means == pytest.approx(published, abs=1e-3)
    assert torch.bincount(train.y).tolist() == [5000] * 10
    assert torch.bincount(test.y).tolist() == [1000] * 10
    assert train.y[:10].tolist() == [6, 9, 9, 4, 1, 1, 2, 7, 8, 3]  # data_batch_1, publicly printed
    assert (train.x[0].reshape(-1)[:3] * 255).round().tolist() == [59, 43, 50]
    assert train.classes == data.CIFAR10_CLASSES


def test_real_boston(real) -> None:
    everything, train, test = real("boston", "all"), real("boston", "train"), real("boston", "test")
    assert everything.x.shape == (506, 13) and everything.x.dtype == torch.float32
    assert everything.y.dtype == torch.float32 and everything.classes is None
    assert float(everything.y.double().mean()) == pytest.approx(22.5328, abs=1e-4)
    assert float(everything.y.min()) == 5.0 and float(everything.y.max()) == 50.0
    assert (len(train), len(test)) == (405, 101)
    assert torch.equal(test.y, everything.y[4::5])
    assert torch.equal(torch.cat([train.y, test.y]).sort().values, everything.y.sort().values)


def test_real_load_is_memoized_and_returns_fresh_tensors(real, monkeypatch) -> None:
    monkeypatch.setenv("FTLIB_DATA_DIR", str(real.data_dir))
    first = data.load("mnist", "test")
    hits = data._decode.cache_info().hits
    first.x.zero_()  # a caller mutating its tensors must not change the next load
    second = data.load("mnist", "test")
    assert data._decode.cache_info().hits == hits + 1
    assert float(second.x.max()) == 1.0


def test_real_corrupt_copy_names_file(real, tmp_path, monkeypatch) -> None:
    """A real MNIST file with one changed label (re-gzipped) is rejected."""
    files = real_mnist_test_files(real)
    raw = tmp_path / "d" / "MNIST" / "raw"
    raw.mkdir(parents=True)
    (raw / "t10k-images-idx3-ubyte.gz").write_bytes(gzip.compress(files["t10k-images-idx3-ubyte"]))
    labels = bytearray(files["t10k-labels-idx1-ubyte"])
    labels[100] = (labels[100] + 1) % 10
    (raw / "t10k-labels-idx1-ubyte.gz").write_bytes(gzip.compress(bytes(labels)))
    monkeypatch.setenv("FTLIB_DATA_DIR", str(tmp_path / "d"))
    with pytest.raises(DatasetCorruptError) as err:
        data.load("mnist", "test")
    msg = str(err.value)
    assert str(raw / "t10k-labels-idx1-ubyte.gz") in msg
    assert sums.CONTENT_SHA256["mnist"]["t10k-labels-idx1-ubyte"] in msg and "actual" in msg
    assert "Delete it" in msg


def test_real_truncated_gzip(real, tmp_path, monkeypatch) -> None:
    files = real_mnist_test_files(real)
    raw = tmp_path / "d" / "MNIST" / "raw"
    raw.mkdir(parents=True)
    blob = gzip.compress(files[TEST_STEMS[0]])
    (raw / f"{TEST_STEMS[0]}.gz").write_bytes(blob[: len(blob) // 2])
    (raw / f"{TEST_STEMS[1]}.gz").write_bytes(gzip.compress(files[TEST_STEMS[1]]))
    monkeypatch.setenv("FTLIB_DATA_DIR", str(tmp_path / "d"))
    with pytest.raises(DatasetCorruptError, match="truncated or damaged") as err:
        data.load("mnist", "test")
    assert str(raw / f"{TEST_STEMS[0]}.gz") in str(err.value)


# ---------------------------------------------------------------------------
# Not found
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("name", data.DATASETS)
def test_missing_dataset_lists_places_and_remedies(name, empty_env) -> None:
    with pytest.raises(DatasetNotFoundError) as err:
        data.load(name, "test")
    msg = str(err.value)
    assert isinstance(err.value, FileNotFoundError)
    for place in data.locate(name):
        assert str(place) in msg
    assert "FTLIB_DATA_DIR" in msg and str(empty_env) in msg
    if name in data.MIRRORS:
        assert "FTLIB_ALLOW_DOWNLOAD=1" in msg
    if name == "fashion_mnist":
        assert "apt-get install dataset-fashion-mnist" in msg
    if name in ("mnist", "fashion_mnist"):
        assert "raw/" in msg and "torchvision" in msg


def test_incomplete_folder_says_what_is_missing(empty_env, monkeypatch) -> None:
    write_synthetic_idx(monkeypatch, empty_env / "MNIST" / "raw")
    (empty_env / "MNIST" / "raw" / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(DatasetNotFoundError, match=r"lacks t10k-labels-idx1-ubyte\[\.gz\]"):
        data.load("mnist", "test")


def test_debian_location_is_searched(empty_env, monkeypatch, tmp_path) -> None:
    system = tmp_path / "usr-share-datasets-fashion-mnist"
    write_synthetic_idx(monkeypatch, system, name="fashion_mnist")
    monkeypatch.setattr(data, "SYSTEM_DIRS", {"fashion_mnist": (system,)})
    ds = data.load("fashion_mnist", "test")
    assert len(ds) == 30 and ds.source == str(system)
    assert data.where("fashion_mnist", "test") == system
    assert data.locate("fashion_mnist")[-1] == system


def test_default_system_location_is_debians() -> None:
    assert Path("/usr/share/datasets/fashion-mnist") in data.SYSTEM_DIRS["fashion_mnist"]


def test_unknown_name_or_split() -> None:
    with pytest.raises(ParameterError, match="mnist, fashion_mnist, cifar10, boston"):
        data.load("svhn")
    with pytest.raises(ParameterError, match="train, test"):
        data.load("mnist", "all")


# ---------------------------------------------------------------------------
# Layouts, decoding errors, stamps, decoded cache
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("sub, gz", [("MNIST/raw", True), ("mnist/MNIST/raw", True), ("mnist", False)])
def test_idx_layouts(sub, gz, empty_env, monkeypatch) -> None:
    contents = write_synthetic_idx(monkeypatch, empty_env / sub, gz=gz)
    ds = data.load("mnist", "test")
    assert ds.x.shape == (30, 1, 28, 28) and ds.y.tolist() == [i % 10 for i in range(30)]
    pixels = np.frombuffer(contents[TEST_STEMS[0]][16:], np.uint8)
    assert torch.equal(ds.x.reshape(-1), torch.from_numpy(pixels.astype(np.float32)) / 255)


def test_bad_idx_header(empty_env, monkeypatch) -> None:
    raw = empty_env / "MNIST" / "raw"
    write_synthetic_idx(monkeypatch, raw, gz=False)
    bad = bytearray((raw / TEST_STEMS[0]).read_bytes())
    bad[2] = 0x0D  # float instead of uint8
    (raw / TEST_STEMS[0]).write_bytes(bytes(bad))
    monkeypatch.setitem(sums.CONTENT_SHA256["mnist"], TEST_STEMS[0], sha(bytes(bad)))
    with pytest.raises(DatasetCorruptError, match="bad idx header") as err:
        data.load("mnist", "test")
    assert str(raw / TEST_STEMS[0]) in str(err.value)


def test_idx_size_mismatch(empty_env, monkeypatch) -> None:
    raw = empty_env / "MNIST" / "raw"
    write_synthetic_idx(monkeypatch, raw, gz=False)
    short = (raw / TEST_STEMS[1]).read_bytes()[:-3]
    (raw / TEST_STEMS[1]).write_bytes(short)
    monkeypatch.setitem(sums.CONTENT_SHA256["mnist"], TEST_STEMS[1], sha(short))
    with pytest.raises(DatasetCorruptError, match="announces"):
        data.load("mnist", "test")


def _spy(monkeypatch, owner, attr: str) -> list:
    """Record the calls of ``owner.attr`` (still calling it) and return the call list."""
    calls: list = []
    original = getattr(owner, attr)

    def spy(*args, **kwargs):
        calls.append(args[:1])
        return original(*args, **kwargs)

    monkeypatch.setattr(owner, attr, spy)
    return calls


def test_changed_file_is_verified_again(empty_env, monkeypatch) -> None:
    raw = empty_env / "MNIST" / "raw"
    write_synthetic_idx(monkeypatch, raw, gz=False)
    verified = _spy(monkeypatch, data, "_verify")
    data.load("mnist", "test")
    data.load("mnist", "test")  # the same process: decoded once, hashed once
    assert len(verified) == 2
    # a new process (cleared memo) hashes every file it reads again
    data.clear_cache()
    data.load("mnist", "test")
    assert len(verified) == 4
    # Same size, one byte changed, new mtime: verified again and rejected.
    path = raw / TEST_STEMS[0]
    blob = bytearray(path.read_bytes())
    blob[-1] ^= 0xFF
    st = path.stat()
    path.write_bytes(bytes(blob))
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))
    data.clear_cache()
    with pytest.raises(DatasetCorruptError, match="does not match"):
        data.load("mnist", "test")
    assert verified[-1] == (path,)


def test_bit_rot_with_size_and_mtime_kept_is_refused(empty_env, monkeypatch) -> None:
    """A label byte flipped in place, size and mtime restored (bit rot): the next process refuses the file."""
    raw = empty_env / "MNIST" / "raw"
    write_synthetic_idx(monkeypatch, raw, gz=False)
    assert int(data.load("mnist", "test").y[-1]) == 29 % 10
    path = raw / TEST_STEMS[1]
    st = path.stat()
    blob = bytearray(path.read_bytes())
    blob[-1] = (blob[-1] + 1) % 10  # another valid label
    path.write_bytes(bytes(blob))
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert (path.stat().st_size, path.stat().st_mtime_ns) == (st.st_size, st.st_mtime_ns)
    data.clear_cache()  # a new process
    with pytest.raises(DatasetCorruptError, match="does not match"):
        data.load("mnist", "test")


def test_cifar_raw_format_and_decoded_cache(empty_env, monkeypatch) -> None:
    rows = write_synthetic_cifar_raw(monkeypatch, empty_env / "cifar10")
    decompressed = _spy(monkeypatch, lzma, "decompress")
    ds = data.load("cifar10", "test")
    assert ds.x.shape == (20, 3, 32, 32) and ds.y.dtype == torch.int64
    assert torch.equal((ds.x * 255).round().to(torch.uint8).reshape(20, -1), torch.from_numpy(rows))
    cached = list((Path(os.environ["FTLIB_CACHE_DIR"]) / "data" / "decoded").glob("*.npy"))
    assert len(cached) == 1 and len(decompressed) == 1
    # Next process: the decoded copy is used, xz is not decompressed again.
    data.clear_cache()
    assert torch.equal(data.load("cifar10", "test").x, ds.x)
    assert len(decompressed) == 1
    # A damaged decoded copy is detected by its hash and rebuilt from the source.
    blob = bytearray(cached[0].read_bytes())
    blob[-1] ^= 1
    cached[0].write_bytes(bytes(blob))
    data.clear_cache()
    assert torch.equal(data.load("cifar10", "test").x, ds.x)
    assert len(decompressed) == 2
    assert np.load(cached[0])[-1] == rows.reshape(-1)[-1]


def test_truncated_xz(empty_env, monkeypatch) -> None:
    write_synthetic_cifar_raw(monkeypatch, empty_env / "cifar10")
    path = empty_env / "cifar10" / "cifar10-test-data.u8.xz"
    path.write_bytes(path.read_bytes()[:-40])
    with pytest.raises(DatasetCorruptError, match="xz stream") as err:
        data.load("cifar10", "test")
    assert str(path) in str(err.value)


def test_cifar_pickle_layout(empty_env, monkeypatch) -> None:
    folder = empty_env / "cifar-10-batches-py"
    folder.mkdir()
    pickles = cifar_pickles()
    for k, v in pickles.items():
        (folder / k).write_bytes(v)
    register_pickles(monkeypatch, pickles)
    train = data.load("cifar10", "train")
    assert train.x.shape == (20, 3, 32, 32) and train.y.tolist() == [0, 1, 2, 3] * 5
    assert data.load("cifar10", "test").source == str(folder)


class _Evil:
    """Unpickling this creates a marker file: proof that a pickle was loaded."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


def test_pickle_with_wrong_md5_is_never_unpickled(empty_env, monkeypatch, tmp_path) -> None:
    folder = empty_env / "cifar-10-batches-py"
    folder.mkdir()
    pickles = cifar_pickles()
    register_pickles(monkeypatch, pickles)
    marker = tmp_path / "pwned"
    pickles["test_batch"] = pickle.dumps(_Evil(marker))
    for k, v in pickles.items():
        (folder / k).write_bytes(v)
    with pytest.raises(DatasetCorruptError, match="md5") as err:
        data.load("cifar10", "test")
    assert str(folder / "test_batch") in str(err.value)
    assert not marker.exists()


def test_boston_package_copy_and_data_dir_precedence(empty_env, monkeypatch) -> None:
    monkeypatch.setattr(data, "SYSTEM_DIRS", {"boston": (data.PACKAGE_DATA_DIR,)})
    shipped = data.load("boston", "all")
    assert shipped.source == str(data.PACKAGE_DATA_DIR) and len(shipped) == 506
    assert (data.PACKAGE_DATA_DIR / "BOSTON_README.md").is_file()
    local = empty_env / "boston"
    local.mkdir()
    csv = (data.PACKAGE_DATA_DIR / "boston_housing.csv").read_text()
    (local / "boston_housing.csv").write_text(csv.replace("2.400000000000000000e+01", "2.500000000000000000e+01", 1))
    with pytest.raises(DatasetCorruptError) as err:
        data.load("boston", "all")
    assert str(local / "boston_housing.csv") in str(err.value)


# ---------------------------------------------------------------------------
# Downloads (file:// mirrors)
# ---------------------------------------------------------------------------

def _mirror(monkeypatch, tmp_path: Path, name: str, files: dict[str, bytes]) -> Path:
    mirror = tmp_path / f"mirror-{name}"
    mirror.mkdir()
    for fname, payload in files.items():
        (mirror / fname).write_bytes(payload)
    monkeypatch.setitem(data.MIRRORS, name, (mirror.as_uri() + "/",))
    return mirror


def test_download_idx_from_file_mirror(empty_env, monkeypatch, tmp_path) -> None:
    contents = write_synthetic_idx(monkeypatch, tmp_path / "src", name="fashion_mnist", gz=False)
    _mirror(monkeypatch, tmp_path, "fashion_mnist", {f"{k}.gz": gzip.compress(v) for k, v in contents.items()})
    with pytest.raises(DatasetNotFoundError):
        data.load("fashion_mnist", "test")  # downloads are opt-in
    monkeypatch.setenv("FTLIB_ALLOW_DOWNLOAD", "1")
    with pytest.raises(DatasetNotFoundError):
        data.load("fashion_mnist", "test", download=False)  # an explicit False wins
    ds = data.load("fashion_mnist", "test")
    dest = empty_env / "FashionMNIST" / "raw"
    assert len(ds) == 30 and ds.source == str(dest)
    assert sorted(p.name for p in dest.iterdir()) == sorted(TEST_STEMS)  # torchvision layout, no leftovers
    assert (dest / TEST_STEMS[0]).read_bytes() == contents[TEST_STEMS[0]]


def test_download_real_mnist_from_file_mirror(real, empty_env, monkeypatch, tmp_path) -> None:
    files = real_mnist_test_files(real)
    _mirror(monkeypatch, tmp_path, "mnist", {f"{s}.gz": gzip.compress(v) for s, v in files.items()})
    ds = data.load("mnist", "test", download=True)
    assert torch.bincount(ds.y).tolist() == MNIST_TEST_HIST
    assert data.where("mnist", "test") == empty_env / "MNIST" / "raw"


def test_download_checksum_mismatch_writes_nothing(empty_env, monkeypatch, tmp_path) -> None:
    contents = write_synthetic_idx(monkeypatch, tmp_path / "src", gz=False)
    tampered = bytearray(contents[TEST_STEMS[0]])
    tampered[-1] ^= 0xFF
    mirror = _mirror(monkeypatch, tmp_path, "mnist", {
        f"{TEST_STEMS[0]}.gz": gzip.compress(bytes(tampered)),
        f"{TEST_STEMS[1]}.gz": gzip.compress(contents[TEST_STEMS[1]]),
    })
    with pytest.raises(DatasetCorruptError) as err:
        data.load("mnist", "test", download=True)
    msg = str(err.value)
    assert f"{mirror.as_uri()}/{TEST_STEMS[0]}.gz" in msg and "nothing was written" in msg
    assert sha(contents[TEST_STEMS[0]]) in msg
    leftovers = [p.name for p in (empty_env / "MNIST" / "raw").iterdir()]
    assert TEST_STEMS[0] not in leftovers and not any(n.endswith(".part") for n in leftovers)


def test_download_unreachable_mirror(empty_env, monkeypatch, tmp_path) -> None:
    monkeypatch.setitem(data.MIRRORS, "mnist", ((tmp_path / "nowhere").as_uri() + "/",))
    with pytest.raises(DatasetNotFoundError, match="download failed") as err:
        data.load("mnist", "test", download=True)
    assert (tmp_path / "nowhere").as_uri() in str(err.value)


def _cifar_archive(pickles: dict[str, bytes], extra: dict[str, bytes] | None = None) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        members = {f"cifar-10-batches-py/{k}": v for k, v in pickles.items()}
        for name, payload in {**members, **(extra or {})}.items():
            info = tarfile.TarInfo(name)
            info.size = len(payload)
            tar.addfile(info, io.BytesIO(payload))
    return buf.getvalue()


def test_download_cifar_archive_extracts_only_expected_members(empty_env, monkeypatch, tmp_path) -> None:
    pickles = cifar_pickles()
    register_pickles(monkeypatch, pickles)
    archive = _cifar_archive(pickles, extra={"../escape": b"x", "cifar-10-batches-py/../../escape2": b"x",
                                             "cifar-10-batches-py/extra": b"x"})
    monkeypatch.setattr(sums, "CIFAR10_ARCHIVE_MD5", hashlib.md5(archive).hexdigest())
    _mirror(monkeypatch, tmp_path, "cifar10", {data.CIFAR10_ARCHIVE: archive})
    ds = data.load("cifar10", "train", download=True)
    assert len(ds) == 20
    dest = empty_env / "cifar-10-batches-py"
    assert sorted(p.name for p in dest.iterdir()) == sorted(pickles)
    assert not list(tmp_path.rglob("escape*"))


def test_download_cifar_archive_md5_mismatch(empty_env, monkeypatch, tmp_path) -> None:
    pickles = cifar_pickles()
    register_pickles(monkeypatch, pickles)
    _mirror(monkeypatch, tmp_path, "cifar10", {data.CIFAR10_ARCHIVE: _cifar_archive(pickles)})
    with pytest.raises(DatasetCorruptError, match=sums.CIFAR10_ARCHIVE_MD5):
        data.load("cifar10", "test", download=True)
    assert not any((empty_env / "cifar-10-batches-py").iterdir())


# ---------------------------------------------------------------------------
# Subsets
# ---------------------------------------------------------------------------

def _toy(n: int = 1000, classes: int = 10) -> data.ArrayDataset:
    y = torch.from_numpy(np.random.default_rng(5).integers(0, classes, size=n))
    return data.ArrayDataset(x=torch.arange(n, dtype=torch.float32)[:, None], y=y, name="toy", split="train",
                             classes=tuple(str(c) for c in range(classes)))


def test_subset_is_deterministic_and_seed_dependent() -> None:
    ds = _toy()
    a, b, c = ds.subset(100, seed=0), ds.subset(100, seed=0), ds.subset(100, seed=1)
    assert torch.equal(a.indices, b.indices) and not torch.equal(a.indices, c.indices)
    assert torch.equal(a.x[:, 0].long(), a.indices) and torch.equal(a.y, ds.y[a.indices])
    assert len(a) == 100 and a.indices.unique().numel() == 100
    # Pinned values: the selection must not change with numpy or torch versions.
    assert data.subset_indices(1000, 5, seed=0).tolist() == [11, 269, 850, 855, 921]
    assert data.subset_indices(20, 4, seed=1, labels=np.arange(20) % 2).tolist() == [2, 9, 16, 19]


def test_subset_is_stratified_and_nested() -> None:
    ds = _toy()
    full = torch.bincount(ds.y, minlength=10).double()
    for n in (10, 57, 300):
        counts = torch.bincount(ds.subset(n, seed=3).y, minlength=10).double()
        assert torch.all((counts - n * full / len(ds)).abs() <= 1.0 + 1e-9)
    small, big = set(ds.subset(50, 7).indices.tolist()), set(ds.subset(200, 7).indices.tolist())
    assert small <= big


def test_subset_edge_cases() -> None:
    ds = _toy(50)
    assert ds.subset(None, seed=0) is ds and ds.subset(50, seed=0) is ds and ds.subset(999, seed=0) is ds
    nested = ds.subset(20, seed=1).subset(5, seed=2)
    assert torch.equal(ds.x[nested.indices], nested.x)
    for bad in (0, -1, 2.5, True):
        with pytest.raises(ParameterError):
            ds.subset(bad, seed=0)
    with pytest.raises(ParameterError):
        ds.subset(5, seed=-1)


def test_regression_subset_is_a_random_sample() -> None:
    ds = data.ArrayDataset(x=torch.zeros(100, 13), y=torch.arange(100, dtype=torch.float32), name="boston",
                           split="all", classes=None)
    sub = ds.subset(10, seed=0)
    assert len(sub) == 10 and torch.equal(sub.y, sub.indices.float())


# ---------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------

def test_check_reports_missing_and_found(empty_env, monkeypatch) -> None:
    write_synthetic_idx(monkeypatch, empty_env / "MNIST" / "raw")
    out = io.StringIO()
    assert data.check(out=out) == 1
    text = out.getvalue()
    assert "mnist          test  ok  N=    30" in text and "checksums ok" in text
    assert "cifar10        train MISSING" in text and "FTLIB_DATA_DIR" in text


def test_main_where(capsys) -> None:
    assert data.main(["where"]) == 0
    assert "/usr/share/datasets/fashion-mnist" in capsys.readouterr().out


def test_mirrors_are_https_only(empty_env, monkeypatch, tmp_path) -> None:
    assert all(url.startswith("https://") for urls in data.MIRRORS.values() for url in urls)
    monkeypatch.setitem(data.MIRRORS, "mnist", ("http://127.0.0.1:9/",))
    with pytest.raises(DatasetNotFoundError, match="refusing a http:// download"):
        data.load("mnist", "test", download=True)


def test_download_size_cap(empty_env, monkeypatch, tmp_path) -> None:
    contents = write_synthetic_idx(monkeypatch, tmp_path / "src", gz=False)
    _mirror(monkeypatch, tmp_path, "mnist", {f"{k}.gz": gzip.compress(v) for k, v in contents.items()})
    monkeypatch.setattr(data, "MAX_DOWNLOAD_BYTES", 100)
    with pytest.raises(DatasetNotFoundError, match="more than the cap of 100"):
        data.load("mnist", "test", download=True)
    monkeypatch.setattr(data, "MAX_DOWNLOAD_BYTES", 1 << 20)
    monkeypatch.setattr(data, "MAX_IDX_BYTES", 1000)  # a gzip bomb stops at the cap, nothing is written
    with pytest.raises(DatasetCorruptError, match="decompresses to more than"):
        data.load("mnist", "test", download=True)
    left = [p.name for p in (empty_env / "MNIST" / "raw").iterdir()]
    assert TEST_STEMS[0] not in left and not any(n.endswith(".part") for n in left)  # only the verified labels


def test_check_honours_allow_download(empty_env, monkeypatch, tmp_path) -> None:
    contents = write_synthetic_idx(monkeypatch, tmp_path / "src", gz=False)
    _mirror(monkeypatch, tmp_path, "mnist", {f"{k}.gz": gzip.compress(v) for k, v in contents.items()})
    out = io.StringIO()
    data.check(out=out, names=["mnist"])
    assert "mnist          test  MISSING" in out.getvalue()
    monkeypatch.setenv("FTLIB_ALLOW_DOWNLOAD", "1")
    out = io.StringIO()
    data.check(out=out, names=["mnist"])
    assert "mnist          test  ok" in out.getvalue()


def test_fetch_missing_downloads_without_opt_in_and_reports_offline(empty_env, monkeypatch, tmp_path) -> None:
    """The build's first step: fetches what is missing (no FTLIB_ALLOW_DOWNLOAD needed); offline, check's report."""
    contents = write_synthetic_idx(monkeypatch, tmp_path / "src", gz=False)
    monkeypatch.setitem(data.SPLITS, "mnist", ("test",))
    monkeypatch.setitem(data.MIRRORS, "mnist", ((tmp_path / "offline").as_uri() + "/",))
    out = io.StringIO()
    assert data.fetch_missing(["mnist"], out=out) == 1
    assert "mnist          test  MISSING" in out.getvalue() and "Traceback" not in out.getvalue()
    _mirror(monkeypatch, tmp_path, "mnist", {f"{k}.gz": gzip.compress(v) for k, v in contents.items()})
    assert data.fetch_missing(["mnist"], out=io.StringIO()) == 0
    assert len(data.load("mnist", "test")) == 30
    assert data.fetch_missing(["mnist"], out=io.StringIO()) == 0  # present: nothing to do
