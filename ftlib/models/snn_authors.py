"""The snn_patterns authors' own trained checkpoints, loaded into ``snn_mlp(variant="authors")``.

21 state dicts published with the authors' script (GitHub
``samsam779/Fault-tolerant_Training_with_Adversarial_Attack_Patterns``, commit
191a87b, folder ``models/``); what each file is and how the authors ran it is in
``shared/data/snn_patterns_authors/PROVENANCE.md``. Where ftlib looks, in order:

1. ``$FTLIB_DATA_DIR/snn_patterns_authors/<file>`` (the shared data folder);
2. ``<data dir>/snn_patterns_authors/<file>`` (where a download goes);
3. with ``FTLIB_ALLOW_DOWNLOAD=1`` only: the raw file of the authors' repository at that commit
   (``RAW_URL``), written to 2. after its checksum matched.

Every file is checked against its sha256 (``SNN_AUTHORS_SHA256``) before
``torch.load(..., weights_only=True)`` reads it; a mismatch raises
:class:`~ftlib.errors.DatasetCorruptError`, a missing file :class:`~ftlib.errors.DatasetNotFoundError`.
"""

from __future__ import annotations

import io
import os
import shutil
from pathlib import Path

import torch
import torch.nn as nn

from .. import _data_checksums as sums
from .. import config
from .. import data as _data
from ..errors import DatasetNotFoundError, ParameterError
from .snn_patterns import authors_state_dict, snn_mlp

FOLDER = "snn_patterns_authors"
COMMIT = "191a87ba872e2970590541a776ba89d898780784"
RAW_URL = ("https://raw.githubusercontent.com/samsam779/Fault-tolerant_Training_with_Adversarial_Attack_Patterns/"
           f"{COMMIT}/models/")
FILES = tuple(sums.SNN_AUTHORS_SHA256)

#: Table 3/4's models: (fault, label) → file. Labels as :data:`ftlib.experiments.snn_patterns.MODEL_LABELS`.
TABLE_MODELS: dict[tuple[str, str], str] = {
    (kind, label): f
    for kind in ("HSF", "NASF")
    for label, f in (("baseline", f"model_faultfree_{kind}.ckpt"),
                     ("previous FIR 0.03", f"model_{kind}_0.03.ckpt"), ("previous FIR 0.05", f"model_{kind}.ckpt"),
                     ("proposed FIR 0.03", f"model_our_mothod_{kind}_0.03.ckpt"),
                     ("proposed FIR 0.05", f"model_our_mothod_{kind}.ckpt"))
}


def _places(name: str) -> list[Path]:
    out = []
    env = os.environ.get("FTLIB_DATA_DIR")
    if env:
        out.append(Path(env).expanduser() / FOLDER / name)
    out.append(config.data_dir() / FOLDER / name)
    return list(dict.fromkeys(out))


def _expected(name: str) -> str:
    if name not in sums.SNN_AUTHORS_SHA256:
        raise ParameterError(f"unknown authors' checkpoint {name!r}; known: {', '.join(FILES)}")
    return "sha256:" + sums.SNN_AUTHORS_SHA256[name]


_REMEDY = (f"Replace it with the original file from {RAW_URL}<file> (or delete it and set FTLIB_ALLOW_DOWNLOAD=1 "
           "to download it).")


def checkpoint_bytes(name: str, *, download: bool | None = None) -> bytes:
    """The verified bytes of the authors' checkpoint ``name`` (see the module docstring for where)."""
    expected = _expected(name)
    looked = []
    for path in _places(name):
        if path.is_file():
            payload = path.read_bytes()
            _data._verify(path, payload, expected, remedy=_REMEDY.replace("<file>", name))
            return payload
        looked.append(str(path))
    download = config.download_allowed() if download is None else download
    errors = []
    if download:
        dest = config.data_dir() / FOLDER
        dest.mkdir(parents=True, exist_ok=True)
        url = RAW_URL + name
        try:
            with _data._fetched(url, dest) as tmp:
                payload = tmp.read_bytes()
                _data._verify(url, payload, expected, remedy="The download is not the authors' file; nothing was "
                                                             "written. Try again later.")
                shutil.move(str(tmp), dest / name)  # atomic within the folder
            return payload
        except OSError as e:
            errors.append(f"{url}: {type(e).__name__}: {e}")
    msg = [f"The snn_patterns authors' checkpoint {name} was not found. Looked in:"] + [f"  - {p}" for p in looked]
    msg += [f"  - download failed: {e}" for e in errors]
    msg.append(f"To fix: put the authors' files (sha256 in ftlib/_data_checksums.py) in $FTLIB_DATA_DIR/{FOLDER}/, "
               f"or set FTLIB_ALLOW_DOWNLOAD=1 to download them from {RAW_URL}.")
    raise DatasetNotFoundError("\n".join(msg))


def available(name: str = "model_faultfree_NASF.ckpt") -> bool:
    """True when ``name`` is on this machine (no download, no verification)."""
    return any(p.is_file() for p in _places(name))


def load(name: str, *, download: bool | None = None) -> nn.Sequential:
    """The authors' checkpoint ``name`` in ``snn_mlp(variant="authors")`` (10 steps), in eval mode."""
    state = torch.load(io.BytesIO(checkpoint_bytes(name, download=download)), map_location="cpu",
                       weights_only=True)
    model = snn_mlp(variant="authors")
    model.load_state_dict(authors_state_dict(state))
    return model.eval()
