"""Small image-classification data sets for the demo, tests and tutorials.

Two loaders, both returning a :class:`Dataset` of float images in [0, 1]
(flattened to rows) and int64 labels:

- :func:`load_digits`: scikit-learn's bundled 8x8 handwritten digits (1797
  images, offline: the data ships inside scikit-learn), split into train and
  test sets with a fixed seed, stratified by class.
- :func:`load_mnist`: MNIST (60000 + 10000 images of 28x28) read from its four
  original gzip-compressed IDX files. They are looked for in
  ``$SYMGRAPH_DATA/mnist`` and then in the cache directory
  (``$SYMGRAPH_CACHE_DIR`` or ``platformdirs.user_cache_dir("symgraph")``,
  subfolder ``data/mnist``); when absent and ``download=True`` they are
  downloaded there. Every file's MD5 is checked against the published one
  before it is read.

Example
-------
>>> from symgraph.datasets import load_digits
>>> data = load_digits()
>>> data.x_train.shape, data.x_test.shape, data.n_classes
((1438, 64), (359, 64), 10)
"""

from __future__ import annotations

import gzip
import hashlib
import os
import shutil
import tempfile
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import platformdirs

__all__ = [
    "Dataset",
    "DatasetError",
    "MNIST_FILES",
    "MNIST_MIRRORS",
    "data_cache_dir",
    "download_mnist",
    "find_mnist",
    "load",
    "load_digits",
    "load_mnist",
    "md5sum",
    "read_idx",
]


class DatasetError(RuntimeError):
    """A data set is missing, damaged, or could not be downloaded."""


@dataclass(frozen=True)
class Dataset:
    """A train/test split: ``x_*`` are ``(n, features)`` floats in [0, 1]."""

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    n_classes: int
    image_shape: tuple[int, int]
    source: str  # where the data came from, for messages

    @property
    def n_features(self) -> int:
        return self.x_train.shape[1]

    def __repr__(self) -> str:
        return (
            f"Dataset({self.name}: {len(self.x_train)} train, {len(self.x_test)} test, "
            f"{self.n_features} features, {self.n_classes} classes, from {self.source})"
        )


# ------------------------------------------------------------------ digits


def load_digits(test_fraction: float = 0.2, seed: int = 0, dtype="float32") -> Dataset:
    """scikit-learn's 8x8 digits, split ``1 - test_fraction`` / ``test_fraction``.

    The split is stratified (each class keeps its share in both parts) and
    depends only on ``seed``. Pixels (0..16 in the original) are scaled to [0, 1].
    """
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(
            f"load_digits: test_fraction must be in (0, 1), got {test_fraction}"
        )
    from sklearn.datasets import load_digits as sk_load_digits

    bunch = sk_load_digits()
    x = (bunch.data / 16.0).astype(dtype)
    y = bunch.target.astype(np.int64)
    rng = np.random.default_rng(seed)
    test_idx = []
    for label in np.unique(y):
        members = np.flatnonzero(y == label)
        rng.shuffle(members)
        test_idx.append(members[: int(round(test_fraction * len(members)))])
    test_mask = np.zeros(len(y), dtype=bool)
    test_mask[np.concatenate(test_idx)] = True
    train, test = np.flatnonzero(~test_mask), np.flatnonzero(test_mask)
    train, test = rng.permutation(train), rng.permutation(test)
    return Dataset(
        name="digits",
        x_train=x[train],
        y_train=y[train],
        x_test=x[test],
        y_test=y[test],
        n_classes=10,
        image_shape=(8, 8),
        source="scikit-learn (bundled)",
    )


# ------------------------------------------------------------------- MNIST

# name -> (file name, md5 of the .gz file as published)
MNIST_FILES = {
    "train_images": ("train-images-idx3-ubyte.gz", "f68b3c2dcbeaaa9fbdd348bbdeb94873"),
    "train_labels": ("train-labels-idx1-ubyte.gz", "d53e105ee54ea40749a09fcbcd1e9432"),
    "test_images": ("t10k-images-idx3-ubyte.gz", "9fb629c4189551a2d022fa330f9573f3"),
    "test_labels": ("t10k-labels-idx1-ubyte.gz", "ec29112dd5afa0611ce80d1b7f02629c"),
}
# Tried in order; every download is checked against MNIST_FILES' md5.
MNIST_MIRRORS = [
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
    "http://yann.lecun.com/exdb/mnist/",
]
_IDX_DTYPES = {
    0x08: np.uint8,
    0x09: np.int8,
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}


def data_cache_dir() -> Path:
    """Where downloaded data sets go: ``<cache dir>/data``.

    The cache dir is ``$SYMGRAPH_CACHE_DIR`` if set, else
    ``platformdirs.user_cache_dir("symgraph")`` (the compiled-code cache's root).
    """
    env = os.environ.get("SYMGRAPH_CACHE_DIR")
    root = Path(env) if env else Path(platformdirs.user_cache_dir("symgraph"))
    return root / "data"


def md5sum(path) -> str:
    """The hex MD5 digest of a file's bytes."""
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_idx(path) -> np.ndarray:
    """Read an IDX file (gzip-compressed when its name ends in ``.gz``).

    The header is two zero bytes, a type byte (0x08 for unsigned bytes), the
    number of dimensions, then one big-endian uint32 per dimension.
    """
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as fh:
            data = fh.read()
    except (OSError, EOFError) as exc:
        raise DatasetError(f"cannot read IDX file {path}: {exc}") from None
    if len(data) < 4 or data[:2] != b"\x00\x00" or data[2] not in _IDX_DTYPES:
        raise DatasetError(
            f"{path} is not an IDX file: its header starts with {data[:4].hex()!r}, "
            "expected 0000 followed by a type byte (08 for uint8) and the rank"
        )
    dtype, ndim = np.dtype(_IDX_DTYPES[data[2]]), data[3]
    header = 4 + 4 * ndim
    if len(data) < header:
        raise DatasetError(f"{path}: the IDX header is truncated")
    shape = tuple(int(d) for d in np.frombuffer(data, ">u4", ndim, offset=4))
    expected = header + int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(data) != expected:
        raise DatasetError(
            f"{path}: the header says shape {shape} ({expected} bytes in all) but the "
            f"file holds {len(data)} bytes; the file is truncated or damaged"
        )
    array = np.frombuffer(data, dtype, offset=header).reshape(shape)
    return array.astype(dtype.newbyteorder("="), copy=False)


def _check_md5(path: Path, want: str) -> None:
    got = md5sum(path)
    if got != want:
        raise DatasetError(
            f"{path} has md5 {got}, expected {want}: the file is damaged or not the "
            "original; delete it (it is downloaded again when missing)"
        )


def _has_all(folder: Path) -> bool:
    return all((folder / name).is_file() for name, _ in MNIST_FILES.values())


def find_mnist(path=None) -> Path | None:
    """The folder holding MNIST's four files, or None.

    Looks at ``path`` if given, else ``$SYMGRAPH_DATA/mnist``, then the
    download cache ``data_cache_dir()/mnist``.
    """
    if path is not None:
        candidates = [Path(path)]
    else:
        candidates = []
        if os.environ.get("SYMGRAPH_DATA"):
            candidates.append(Path(os.environ["SYMGRAPH_DATA"]) / "mnist")
        candidates.append(data_cache_dir() / "mnist")
    for folder in candidates:
        if _has_all(folder):
            return folder
    return None


def download_mnist(dest=None, mirrors=None, timeout: float = 60.0) -> Path:
    """Download (and md5-check) MNIST's missing files into ``dest``.

    ``dest`` defaults to ``data_cache_dir()/mnist``. Each file is fetched into
    a temporary file, checked, then moved into place, so a broken download
    never leaves a damaged file behind. Returns the folder.
    """
    dest = Path(dest) if dest is not None else data_cache_dir() / "mnist"
    dest.mkdir(parents=True, exist_ok=True)
    mirrors = list(MNIST_MIRRORS if mirrors is None else mirrors)
    for name, md5 in MNIST_FILES.values():
        target = dest / name
        if target.is_file() and md5sum(target) == md5:
            continue
        errors = []
        for mirror in mirrors:
            url = mirror.rstrip("/") + "/" + name
            fd, tmp = tempfile.mkstemp(prefix=name + ".", suffix=".part", dir=dest)
            try:
                with (
                    os.fdopen(fd, "wb") as out,
                    urllib.request.urlopen(url, timeout=timeout) as response,
                ):
                    shutil.copyfileobj(response, out)
                got = md5sum(tmp)
                if got != md5:
                    raise DatasetError(f"md5 {got}, expected {md5}")
                os.replace(tmp, target)
                break
            except (OSError, DatasetError) as exc:
                errors.append(f"{url}: {exc}")
            finally:
                if os.path.exists(tmp):
                    os.unlink(tmp)
        else:
            raise DatasetError(
                f"could not download {name}:\n  " + "\n  ".join(errors) + "\nPut the "
                "four MNIST files in a folder 'mnist' and point SYMGRAPH_DATA at its "
                "parent, or copy them into " + str(dest)
            )
    return dest


def load_mnist(path=None, download: bool = True, dtype="float32") -> Dataset:
    """MNIST: 60000 train and 10000 test images (784 pixels in [0, 1]).

    Parameters
    ----------
    path : folder holding the four ``*-idx?-ubyte.gz`` files; default: see
        :func:`find_mnist`
    download : when ``SYMGRAPH_DATA`` is unset and the files are not in the
        cache yet, download them into ``data_cache_dir()/mnist`` (when False,
        or when ``SYMGRAPH_DATA`` is set but lacks them, raise instead)
    """
    folder = find_mnist(path)
    if folder is None:
        data_env = os.environ.get("SYMGRAPH_DATA")
        if path is not None or data_env or not download:
            if path is not None:
                where = str(path)
            elif data_env:
                where = f"{Path(data_env) / 'mnist'} (from SYMGRAPH_DATA)"
            else:
                where = str(data_cache_dir() / "mnist")
            raise DatasetError(
                f"MNIST not found in {where}; it needs the four original files "
                f"{', '.join(n for n, _ in MNIST_FILES.values())}. Point SYMGRAPH_DATA "
                "at a folder holding mnist/ with them, or leave SYMGRAPH_DATA unset "
                "to download them into the cache"
            )
        folder = download_mnist()
    arrays = {}
    for key, (name, md5) in MNIST_FILES.items():
        _check_md5(folder / name, md5)
        arrays[key] = read_idx(folder / name)
    for split in ("train", "test"):
        images, labels = arrays[f"{split}_images"], arrays[f"{split}_labels"]
        if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
            raise DatasetError(
                f"MNIST {split}: images {images.shape} and labels {labels.shape} "
                "do not match"
            )

    def images(key):
        arr = arrays[key]
        return (arr.reshape(len(arr), -1) / np.float32(255)).astype(dtype)

    return Dataset(
        name="mnist",
        x_train=images("train_images"),
        y_train=arrays["train_labels"].astype(np.int64),
        x_test=images("test_images"),
        y_test=arrays["test_labels"].astype(np.int64),
        n_classes=10,
        image_shape=tuple(arrays["train_images"].shape[1:]),
        source=str(folder),
    )


def load(name: str, **kwargs) -> Dataset:
    """Load a data set by name: ``"digits"`` or ``"mnist"``."""
    loaders = {"digits": load_digits, "mnist": load_mnist}
    if name not in loaders:
        raise ValueError(
            f"unknown data set {name!r}; choose one of {', '.join(loaders)}"
        )
    return loaders[name](**kwargs)
