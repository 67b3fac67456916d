"""Data set loaders: bundled digits, IDX parsing, MNIST lookup, md5 and download.

No test touches the network: downloads go to file:// mirrors in tmp_path.
"""

import gzip
import hashlib
import os
from pathlib import Path

import numpy as np
import pytest

from symgraph import datasets
from symgraph.datasets import DatasetError


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    """A private cache dir, no SYMGRAPH_DATA, and no real mirrors."""
    monkeypatch.setenv("SYMGRAPH_CACHE_DIR", str(tmp_path / "cache"))
    real_data = os.environ.get("SYMGRAPH_DATA")
    monkeypatch.delenv("SYMGRAPH_DATA", raising=False)
    monkeypatch.setattr(datasets, "MNIST_MIRRORS", [])
    return real_data


def idx_bytes(array: np.ndarray) -> bytes:
    codes = {np.dtype("uint8"): 0x08, np.dtype(">i4"): 0x0C, np.dtype(">f4"): 0x0D}
    array = np.ascontiguousarray(array)
    header = bytes([0, 0, codes[array.dtype], array.ndim])
    header += np.array(array.shape, ">u4").tobytes()
    return header + array.tobytes()


def write_fake_mnist(folder: Path, monkeypatch, n_train=6, n_test=4, side=5) -> dict:
    """Four small IDX files in ``folder``; MNIST_FILES patched to their md5s."""
    rng = np.random.default_rng(0)
    arrays = {
        "train_images": rng.integers(0, 256, (n_train, side, side), dtype=np.uint8),
        "train_labels": (np.arange(n_train) % 10).astype(np.uint8),
        "test_images": rng.integers(0, 256, (n_test, side, side), dtype=np.uint8),
        "test_labels": (np.arange(n_test)[::-1] % 10).astype(np.uint8),
    }
    folder.mkdir(parents=True, exist_ok=True)
    files = {}
    for key, (name, _) in datasets.MNIST_FILES.items():
        blob = gzip.compress(idx_bytes(arrays[key]), mtime=0)
        (folder / name).write_bytes(blob)
        files[key] = (name, hashlib.md5(blob).hexdigest())
    monkeypatch.setattr(datasets, "MNIST_FILES", files)
    return arrays


# ------------------------------------------------------------------ digits


def test_digits_split_shapes_and_range():
    data = datasets.load_digits()
    assert data.x_train.shape == (1438, 64) and data.x_test.shape == (359, 64)
    assert data.x_train.dtype == np.float32 and data.y_train.dtype == np.int64
    assert 0.0 <= data.x_train.min() and data.x_train.max() == 1.0
    assert data.n_classes == 10 and data.n_features == 64 and data.image_shape == (8, 8)
    # stratified: every class keeps about a fifth of its images in the test set
    train_counts = np.bincount(data.y_train, minlength=10)
    test_counts = np.bincount(data.y_test, minlength=10)
    share = test_counts / (train_counts + test_counts)
    assert np.all(np.abs(share - 0.2) < 0.01)


def test_digits_split_depends_only_on_seed():
    a, b, c = (
        datasets.load_digits(seed=3),
        datasets.load_digits(seed=3),
        datasets.load_digits(),
    )
    np.testing.assert_array_equal(a.x_train, b.x_train)
    np.testing.assert_array_equal(a.y_test, b.y_test)
    assert not np.array_equal(a.y_train, c.y_train)


def test_digits_train_and_test_partition_the_data():
    from sklearn.datasets import load_digits

    full = load_digits()
    data = datasets.load_digits(test_fraction=0.5, dtype="float64")
    both = np.concatenate([data.x_train, data.x_test]) * 16
    key = lambda rows: sorted(map(bytes, rows.astype(np.uint8)))  # noqa: E731
    assert key(both) == key(full.data)
    assert data.x_train.dtype == np.float64


@pytest.mark.parametrize("fraction", [0.0, 1.0, -0.1])
def test_digits_rejects_bad_fraction(fraction):
    with pytest.raises(ValueError, match="test_fraction"):
        datasets.load_digits(test_fraction=fraction)


def test_load_by_name():
    assert datasets.load("digits").name == "digits"
    with pytest.raises(ValueError, match="digits, mnist"):
        datasets.load("cifar")


# --------------------------------------------------------------------- IDX


@pytest.mark.parametrize("compress", [True, False])
@pytest.mark.parametrize("dtype", ["uint8", ">i4", ">f4"])
def test_read_idx_round_trip(tmp_path, compress, dtype):
    array = (np.arange(2 * 3 * 4) * 7 % 250).reshape(2, 3, 4).astype(dtype)
    blob = idx_bytes(array)
    path = tmp_path / ("a.idx.gz" if compress else "a.idx")
    path.write_bytes(gzip.compress(blob) if compress else blob)
    got = datasets.read_idx(path)
    np.testing.assert_array_equal(got, array)
    assert got.dtype.isnative and got.shape == (2, 3, 4)


def test_read_idx_rejects_bad_magic(tmp_path):
    path = tmp_path / "x.gz"
    path.write_bytes(gzip.compress(b"\x1f\x00\x08\x01" + b"\x00" * 8))
    with pytest.raises(DatasetError, match="not an IDX file"):
        datasets.read_idx(path)


def test_read_idx_rejects_truncated(tmp_path):
    path = tmp_path / "x.gz"
    path.write_bytes(gzip.compress(idx_bytes(np.zeros((3, 4), np.uint8))[:-1]))
    with pytest.raises(DatasetError, match="truncated"):
        datasets.read_idx(path)


def test_read_idx_rejects_broken_gzip(tmp_path):
    path = tmp_path / "x.gz"
    path.write_bytes(gzip.compress(idx_bytes(np.zeros((3, 4), np.uint8)))[:-9])
    with pytest.raises(DatasetError, match="cannot read"):
        datasets.read_idx(path)


# ------------------------------------------------------------------- MNIST


def test_load_mnist_from_path(tmp_path, monkeypatch):
    arrays = write_fake_mnist(tmp_path / "m", monkeypatch)
    data = datasets.load_mnist(tmp_path / "m", download=False)
    assert data.x_train.shape == (6, 25) and data.x_test.shape == (4, 25)
    assert data.image_shape == (5, 5) and data.x_train.dtype == np.float32
    np.testing.assert_allclose(
        data.x_train * 255, arrays["train_images"].reshape(6, -1), rtol=1e-6
    )
    np.testing.assert_array_equal(data.y_test, arrays["test_labels"])
    assert data.y_test.dtype == np.int64


def test_load_mnist_from_symgraph_data(tmp_path, monkeypatch):
    write_fake_mnist(tmp_path / "data" / "mnist", monkeypatch)
    monkeypatch.setenv("SYMGRAPH_DATA", str(tmp_path / "data"))
    assert datasets.find_mnist() == tmp_path / "data" / "mnist"
    assert datasets.load_mnist().source == str(tmp_path / "data" / "mnist")


def test_load_mnist_checks_md5(tmp_path, monkeypatch):
    write_fake_mnist(tmp_path / "m", monkeypatch)
    name = datasets.MNIST_FILES["test_labels"][0]
    blob = (tmp_path / "m" / name).read_bytes()
    (tmp_path / "m" / name).write_bytes(blob[:-1] + bytes([blob[-1] ^ 1]))
    with pytest.raises(DatasetError, match=f"{name} has md5 .*, expected"):
        datasets.load_mnist(tmp_path / "m")


def test_missing_mnist_with_symgraph_data_set_raises_without_download(
    tmp_path, monkeypatch
):
    monkeypatch.setenv("SYMGRAPH_DATA", str(tmp_path / "empty"))
    monkeypatch.setattr(datasets, "download_mnist", pytest.fail)
    with pytest.raises(DatasetError, match="from SYMGRAPH_DATA"):
        datasets.load_mnist()


def test_missing_mnist_without_download_raises(monkeypatch):
    monkeypatch.setattr(datasets, "download_mnist", pytest.fail)
    with pytest.raises(DatasetError, match="MNIST not found"):
        datasets.load_mnist(download=False)


def test_download_into_cache_from_mirror(tmp_path, monkeypatch):
    """SYMGRAPH_DATA unset: fetched (the first mirror fails), checked, cached."""
    arrays = write_fake_mnist(tmp_path / "mirror", monkeypatch)
    monkeypatch.setattr(
        datasets,
        "MNIST_MIRRORS",
        [(tmp_path / "nowhere").as_uri(), (tmp_path / "mirror").as_uri() + "/"],
    )
    data = datasets.load_mnist()
    cached = tmp_path / "cache" / "data" / "mnist"
    assert data.source == str(cached)
    assert sorted(p.name for p in cached.iterdir()) == sorted(
        n for n, _ in datasets.MNIST_FILES.values()
    )
    np.testing.assert_array_equal(data.y_train, arrays["train_labels"])
    # the second load finds the cache and downloads nothing
    monkeypatch.setattr(datasets, "download_mnist", pytest.fail)
    assert datasets.load_mnist().source == str(cached)


def test_download_rejects_bad_md5_and_leaves_nothing(tmp_path, monkeypatch):
    write_fake_mnist(tmp_path / "mirror", monkeypatch)
    files = dict(datasets.MNIST_FILES)
    name, _ = files["train_labels"]
    files["train_labels"] = (name, "0" * 32)
    monkeypatch.setattr(datasets, "MNIST_FILES", files)
    dest = tmp_path / "dest"
    with pytest.raises(
        DatasetError, match=f"(?s)could not download {name}.*expected 0000"
    ):
        datasets.download_mnist(dest, mirrors=[(tmp_path / "mirror").as_uri()])
    assert not (dest / name).exists()
    assert not list(dest.glob("*.part"))


def test_real_mnist(isolated, monkeypatch):
    folder = Path(isolated or "/nonexistent") / "mnist"
    if not isolated or not folder.is_dir():
        pytest.skip("SYMGRAPH_DATA does not point at a folder holding mnist/")
    monkeypatch.setenv("SYMGRAPH_DATA", isolated)
    data = datasets.load_mnist(download=False)
    assert data.x_train.shape == (60000, 784) and data.x_test.shape == (10000, 784)
    assert data.image_shape == (28, 28)
    assert data.x_train.min() == 0.0 and data.x_train.max() == 1.0
    # label counts as published (shared/data/README.md)
    train = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
    test = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    assert np.bincount(data.y_train).tolist() == train
    assert np.bincount(data.y_test).tolist() == test
