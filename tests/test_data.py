"""vilab.data: search order, checksums, clear errors, no network.

The tests write small idx files of their own and point the loader's expected
hashes at them, so every path (found, corrupted, truncated, missing, download)
runs without the real data or the network. One test reads the real Fashion-MNIST.
"""

import gzip
import hashlib
import http.client
import io
import urllib.request

import numpy as np
import pytest
import torch

from vilab import data

N_SMALL = 5


def idx_bytes(array):
    """Encode a uint8 array in the idx format (magic 0,0,8,ndim; big-endian sizes; data)."""
    header = bytes([0, 0, 0x08, array.ndim]) + np.asarray(array.shape, dtype=">i4").tobytes()
    return header + array.astype(np.uint8).tobytes()


def small_split(seed=0):
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, size=(N_SMALL, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, size=N_SMALL, dtype=np.uint8)
    return images, labels


@pytest.fixture
def fake_fashion(tmp_path, monkeypatch):
    """Small train split with hashes registered; returns (raw files by stem, folders)."""
    images, labels = small_split()
    raw = {"train-images-idx3-ubyte": idx_bytes(images), "train-labels-idx1-ubyte": idx_bytes(labels)}
    sha = dict(data.DATASETS["fashion-mnist"]["sha256"])
    sha.update({stem: hashlib.sha256(content).hexdigest() for stem, content in raw.items()})
    folders = {name: tmp_path / name for name in ("vilab_data", "cache", "system")}
    for folder in folders.values():
        folder.mkdir()
    monkeypatch.setitem(data.DATASETS["fashion-mnist"], "sha256", sha)
    monkeypatch.setitem(data.DATASETS["fashion-mnist"], "system_dir", folders["system"])
    monkeypatch.setenv("VILAB_DATA", str(folders["vilab_data"]))
    monkeypatch.setenv("XDG_CACHE_HOME", str(folders["cache"]))
    data._load_cached.cache_clear()
    yield raw, folders, (images, labels)
    data._load_cached.cache_clear()


def write(folder, raw, gz=True, stems=None):
    for stem, content in raw.items():
        if stems is None or stem in stems:
            if gz:
                (folder / f"{stem}.gz").write_bytes(gzip.compress(content))
            else:
                (folder / stem).write_bytes(content)


def test_loads_gzipped_files_from_vilab_data(fake_fashion):
    raw, folders, (images, labels) = fake_fashion
    write(folders["vilab_data"], raw)
    x, y = data.load_fashion_mnist("train")
    assert x.dtype == torch.uint8 and x.shape == (N_SMALL, 28, 28)
    assert y.dtype == torch.int64 and y.shape == (N_SMALL,)
    assert np.array_equal(x.numpy(), images) and np.array_equal(y.numpy(), labels)


def test_loads_uncompressed_files_from_the_system_folder(fake_fashion):
    raw, folders, (images, _) = fake_fashion
    write(folders["system"], raw, gz=False)
    x, _ = data.load_fashion_mnist("train")
    assert np.array_equal(x.numpy(), images)


def test_returned_tensors_are_copies(fake_fashion):
    raw, folders, (images, _) = fake_fashion
    write(folders["system"], raw)
    x, _ = data.load_fashion_mnist("train")
    x.zero_()
    x2, _ = data.load_fashion_mnist("train")
    assert np.array_equal(x2.numpy(), images)


def test_search_order_vilab_data_then_cache_then_system(fake_fashion):
    raw, folders, _ = fake_fashion
    corrupted = {stem: content[:-1] + b"\x01" for stem, content in raw.items()}
    write(folders["system"], corrupted)  # last in line: never reached when the cache has good files
    write(_cache_folder(folders), raw)
    data.load_fashion_mnist("train")  # the good cache copy wins over the corrupted system copy
    write(folders["vilab_data"], corrupted)  # first in line: it is used, so the corruption is reported
    data._load_cached.cache_clear()
    with pytest.raises(data.DataError, match=str(folders["vilab_data"])):
        data.load_fashion_mnist("train")


def _cache_folder(folders):
    folder = folders["cache"] / "vilab" / "fashion-mnist"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def test_corrupted_file_names_the_file_and_both_hashes(fake_fashion):
    raw, folders, _ = fake_fashion
    stem = "train-images-idx3-ubyte"
    bad = raw[stem][:-1] + bytes([raw[stem][-1] ^ 0xFF])
    write(folders["vilab_data"], {stem: bad})
    write(folders["vilab_data"], raw, stems={"train-labels-idx1-ubyte"})
    expected = hashlib.sha256(raw[stem]).hexdigest()
    actual = hashlib.sha256(bad).hexdigest()
    with pytest.raises(data.DataError) as error:
        data.load_fashion_mnist("train")
    message = str(error.value)
    assert f"{stem}.gz" in message and expected in message and actual in message
    assert "was not used" in message and "fetch" in message


def test_truncated_gzip_is_reported_not_used(fake_fashion):
    raw, folders, _ = fake_fashion
    stem = "train-images-idx3-ubyte"
    (folders["vilab_data"] / f"{stem}.gz").write_bytes(gzip.compress(raw[stem])[:100])
    with pytest.raises(data.DataError, match=rf"{stem}\.gz is not a valid gzip file.*truncated"):
        data.load_fashion_mnist("train")


def test_offline_and_absent_says_how_to_get_it(fake_fashion, monkeypatch):
    monkeypatch.setenv("VILAB_OFFLINE", "1")
    with pytest.raises(data.DataError) as error:
        data.load_fashion_mnist("train")
    message = str(error.value)
    assert "not found" in message and "apt install dataset-fashion-mnist" in message
    assert "python -m vilab.data fetch" in message


@pytest.mark.parametrize("split", ["valid", "Train", "", None, 0])
def test_unknown_split_lists_the_valid_ones(split):
    with pytest.raises(ValueError, match=r"split must be one of \['train', 'test', 'fit', 'validation'\], got"):
        data.load_fashion_mnist(split)
    with pytest.raises(ValueError, match=r"split must be one of"):
        data.load_mnist(split)


def test_fetch_command_rejects_unknown_dataset(capsys):
    assert data.main(["fetch", "cifar10"]) == 2
    assert "usage: python -m vilab.data fetch [fashion-mnist mnist]" in capsys.readouterr().err


def test_download_goes_to_cache_after_verification(fake_fashion, monkeypatch):
    raw, folders, _ = fake_fashion
    monkeypatch.setenv("VILAB_OFFLINE", "0")
    requested = []

    def fake_urlopen(url, timeout):
        requested.append(url)
        stem = url.rsplit("/", 1)[1].removesuffix(".gz")
        return io.BytesIO(gzip.compress(raw[stem]))

    monkeypatch.setattr(urllib.request, "urlopen", fake_urlopen)
    x, _ = data.load_fashion_mnist("train")
    assert x.shape == (N_SMALL, 28, 28)
    assert requested == [data.DATASETS["fashion-mnist"]["url"] + f"{s}.gz" for s in data.FILE_STEMS["train"]]
    cached = sorted(p.name for p in _cache_folder(folders).iterdir())
    assert cached == ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"]


def test_bad_download_is_not_kept(fake_fashion, monkeypatch):
    monkeypatch.setenv("VILAB_OFFLINE", "0")
    monkeypatch.setattr(urllib.request, "urlopen", lambda url, timeout: io.BytesIO(gzip.compress(b"garbage")))
    with pytest.raises(data.DataError, match="failed its checksum"):
        data.load_fashion_mnist("train")
    assert list(_cache_folder(fake_fashion[1]).iterdir()) == []


def test_failed_download_falls_back_to_the_clear_missing_error(fake_fashion, monkeypatch):
    monkeypatch.setenv("VILAB_OFFLINE", "0")

    def offline(url, timeout):
        raise urllib.error.URLError("network is unreachable")

    monkeypatch.setattr(urllib.request, "urlopen", offline)
    with pytest.raises(data.DataError, match="could not be downloaded"):
        data.load_fashion_mnist("train")


def test_mnist_is_checked_by_its_gz_hash(tmp_path, monkeypatch):
    images, _ = small_split()
    packed = gzip.compress(idx_bytes(images))
    path = tmp_path / "train-images-idx3-ubyte.gz"
    path.write_bytes(packed)
    with pytest.raises(data.DataError, match=data.DATASETS["mnist"]["sha256"]["train-images-idx3-ubyte"]):
        data.verify("mnist", "train-images-idx3-ubyte", path)
    sha = dict(data.DATASETS["mnist"]["sha256"], **{"train-images-idx3-ubyte": hashlib.sha256(packed).hexdigest()})
    monkeypatch.setitem(data.DATASETS["mnist"], "sha256", sha)
    assert data.verify("mnist", "train-images-idx3-ubyte", path) == idx_bytes(images)


def test_header_that_disagrees_with_the_data_is_rejected():
    images, _ = small_split()
    with pytest.raises(data.DataError, match="header says shape"):
        data._parse_idx(idx_bytes(images)[:-10], "train-images-idx3-ubyte")


def test_real_fashion_mnist(monkeypatch):
    """The real data set (CI installs dataset-fashion-mnist): shapes, dtypes, 6000/1000 images per class."""
    monkeypatch.delenv("VILAB_DATA", raising=False)
    data._load_cached.cache_clear()
    for split, n in (("train", 60_000), ("test", 10_000)):
        images, labels = data.load_fashion_mnist(split)
        assert images.shape == (n, 28, 28) and images.dtype == torch.uint8
        assert labels.shape == (n,) and labels.dtype == torch.int64
        assert torch.bincount(labels).tolist() == [n // 10] * 10
        assert images.element_size() * images.nelement() < 50e6


def test_validation_split_is_the_last_10000_training_images(monkeypatch):
    monkeypatch.delenv("VILAB_DATA", raising=False)
    data._load_cached.cache_clear()
    train_x, train_y = data.load_fashion_mnist("train")
    fit_x, fit_y = data.load_fashion_mnist("fit")
    val_x, val_y = data.load_fashion_mnist("validation")
    assert fit_x.shape == (50_000, 28, 28) and val_x.shape == (10_000, 28, 28)
    assert torch.equal(torch.cat([fit_x, val_x]), train_x) and torch.equal(torch.cat([fit_y, val_y]), train_y)
    assert torch.bincount(val_y, minlength=10).min() > 900  # every class is represented
    val_x[0] = 0  # a caller's copy: changing it changes nothing else
    assert torch.equal(data.load_fashion_mnist("validation")[0][1:], val_x[1:])
    assert not torch.equal(data.load_fashion_mnist("validation")[0][0], val_x[0])


# --- bad input and interrupted downloads (issue 12) ------------------------------------------------


class _Interrupted(io.BytesIO):
    """A response that delivers a few bytes and then fails the way a broken transfer does."""

    def __init__(self, error):
        super().__init__(b"\x1f\x8b partial")
        self.error = error

    def read(self, *args):
        if self.tell() > 0:
            raise self.error
        return super().read(*args)


@pytest.mark.parametrize("error", [http.client.IncompleteRead(b"partial", 1000), KeyboardInterrupt()])
def test_an_interrupted_download_leaves_nothing_in_the_cache(fake_fashion, monkeypatch, error):
    monkeypatch.setenv("VILAB_OFFLINE", "0")
    monkeypatch.setattr(urllib.request, "urlopen", lambda url, timeout: _Interrupted(error))
    with pytest.raises((data.DataError, KeyboardInterrupt)):
        data.load_fashion_mnist("train")
    assert list(_cache_folder(fake_fashion[1]).iterdir()) == []


@pytest.mark.parametrize("value", ["false", "no", "off", "0", "FALSE", ""])
def test_vilab_offline_false_means_downloads_are_allowed(fake_fashion, monkeypatch, value):
    raw, _, _ = fake_fashion
    monkeypatch.setenv("VILAB_OFFLINE", value)
    monkeypatch.setattr(
        urllib.request, "urlopen", lambda url, timeout: io.BytesIO(gzip.compress(raw[url.rsplit("/", 1)[1][:-3]]))
    )
    assert data.load_fashion_mnist("train")[0].shape == (N_SMALL, 28, 28)


@pytest.mark.parametrize("value", ["1", "true", "yes", "on", "True"])
def test_vilab_offline_true_means_no_download(fake_fashion, monkeypatch, value):
    monkeypatch.setenv("VILAB_OFFLINE", value)
    monkeypatch.setattr(urllib.request, "urlopen", lambda url, timeout: pytest.fail("downloaded while offline"))
    with pytest.raises(data.DataError, match="not found"):
        data.load_fashion_mnist("train")


def test_an_unreadable_copy_is_skipped_for_a_valid_system_copy(fake_fashion, monkeypatch, capsys):
    raw, folders, (images, _) = fake_fashion
    write(_cache_folder(folders), raw)  # the cache comes first, but cannot be read
    write(folders["system"], raw)
    real_open = open

    def guarded_open(path, *args, **kwargs):
        if str(path).startswith(str(folders["cache"])):
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr("builtins.open", guarded_open)
    monkeypatch.setattr("io.open", guarded_open)  # what Path.read_bytes uses
    x, _ = data.load_fashion_mnist("train")
    assert np.array_equal(x.numpy(), images)
    assert "skipping" in capsys.readouterr().err


def test_an_unreadable_file_given_to_verify_is_a_clear_data_error(tmp_path):
    with pytest.raises(data.DataError, match="cannot read"):
        data.verify("fashion-mnist", "train-images-idx3-ubyte", tmp_path / "missing.gz")


def test_fetch_takes_one_name_or_a_list(monkeypatch):
    monkeypatch.setenv("VILAB_OFFLINE", "1")
    monkeypatch.setattr(data, "find_file", lambda dataset, stem: None)
    problems = data.fetch("fashion-mnist")
    assert len(problems) == 4 and all("not found" in p for p in problems)
    with pytest.raises(ValueError, match=r"datasets must be names from .*'cifar'"):
        data.fetch(["cifar"])
