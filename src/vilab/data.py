"""Fashion-MNIST and MNIST, offline first and verified by checksum.

``load_fashion_mnist(split)`` looks for the four idx files, in order, in

1. ``$VILAB_DATA`` (the files directly in it, or in ``$VILAB_DATA/fashion-mnist``),
2. the user cache ``~/.cache/vilab/fashion-mnist`` (``$XDG_CACHE_HOME`` respected),
3. ``/usr/share/datasets/fashion-mnist`` (Debian/Ubuntu package ``dataset-fashion-mnist``),

and only if none has them, and downloads are allowed, fetches them from the data
set's official host into the cache. Each file may be gzipped (``name.gz``) or
not. Fashion-MNIST files are verified by the SHA-256 of their *decompressed*
content (the Debian copies are re-gzipped, so their .gz bytes differ); MNIST,
which no system package ships, by the SHA-256 of the published ``.gz``. A file
that fails its check is never used.

Nothing here touches the network at import time. Set ``VILAB_OFFLINE=1`` (or
``true``, ``yes``, ``on``) to forbid downloads altogether; ``0``, ``false``, ``no``,
``off`` or unset allow them, and any other value is an error. A copy that cannot be
read (permissions) is skipped, with a note, in favour of the next one. Prepare the data ahead of a class with
``python -m vilab.data fetch``.
"""

import functools
import gzip
import hashlib
import http.client
import os
import shutil
import sys
import tempfile
import urllib.request
from pathlib import Path

import numpy as np
import torch

SPLITS = ("train", "test")  # the files on disk
# Every choice (hyperparameters, beta, widths, early stopping) is made on a validation split held out of the
# 60,000 training images: the last VALIDATION_SIZE of them, the same in every notebook. Models whose settings
# are being chosen are fitted on "fit" (the first 50,000); the test set is only used to report.
VALIDATION_SIZE = 10_000
DERIVED_SPLITS = {"fit": slice(0, -VALIDATION_SIZE), "validation": slice(-VALIDATION_SIZE, None)}
ALL_SPLITS = (*SPLITS, *DERIVED_SPLITS)
FILE_STEMS = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
DATASETS = {
    "fashion-mnist": {
        "url": "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
        "checksum_of": "decompressed",
        "sha256": {
            "train-images-idx3-ubyte": "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
            "train-labels-idx1-ubyte": "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
            "t10k-images-idx3-ubyte": "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
            "t10k-labels-idx1-ubyte": "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
        },
        "system_dir": Path("/usr/share/datasets/fashion-mnist"),
    },
    "mnist": {
        "url": "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "checksum_of": "gz",
        "sha256": {
            "train-images-idx3-ubyte": "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
            "train-labels-idx1-ubyte": "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
            "t10k-images-idx3-ubyte": "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
            "t10k-labels-idx1-ubyte": "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
        },
        "system_dir": None,
    },
}
FASHION_MNIST_CLASSES = (
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
)  # fmt: skip
DOWNLOAD_TIMEOUT_S = 30


class DataError(RuntimeError):
    """The data set is missing, or a file failed its checksum."""


def cache_dir():
    """The user cache folder of vilab: ``$XDG_CACHE_HOME/vilab`` or ``~/.cache/vilab``."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "vilab"


def _dataset(dataset):
    if not isinstance(dataset, str) or dataset not in DATASETS:
        raise ValueError(f"dataset must be one of {list(DATASETS)}, got {dataset!r}")
    return dataset


def _stem(stem):
    stems = [s for split in SPLITS for s in FILE_STEMS[split]]
    if not isinstance(stem, str) or stem not in stems:
        raise ValueError(f"stem must be one of {stems}, got {stem!r}")
    return stem


def search_dirs(dataset):
    """Folders searched for ``dataset``, in order (see the module docstring)."""
    _dataset(dataset)
    dirs = []
    if os.environ.get("VILAB_DATA"):
        root = Path(os.environ["VILAB_DATA"])
        dirs += [root, root / dataset]
    dirs.append(cache_dir() / dataset)
    if DATASETS[dataset]["system_dir"] is not None:
        dirs.append(DATASETS[dataset]["system_dir"])
    return dirs


def load_fashion_mnist(split):
    """Fashion-MNIST ``split``: "train" (60,000 images), "test" (10,000), or a part of "train":
    "fit" (its first 50,000) and "validation" (its last 10,000, ``VALIDATION_SIZE``).

    Make every choice on "validation" (models fitted on "fit"), and use "test" once, to report.
    Returns ``(images, labels)``: ``images`` a ``torch.uint8`` tensor [N, 28, 28]
    (0 = background, 255 = full ink), ``labels`` a ``torch.int64`` tensor [N] of
    class indices 0-9 (names in ``FASHION_MNIST_CLASSES``).
    """
    return _load("fashion-mnist", split)


def load_mnist(split):
    """MNIST digits ``split`` ("train", "test", "fit" or "validation"), as in ``load_fashion_mnist``."""
    return _load("mnist", split)


def _load(dataset, split, download=None):
    if not isinstance(split, str) or split not in ALL_SPLITS:
        raise ValueError(f"split must be one of {list(ALL_SPLITS)}, got {split!r}")
    part = DERIVED_SPLITS.get(split, slice(None))
    file_split = "train" if split in DERIVED_SPLITS else split
    images, labels = _load_cached(dataset, file_split, _downloads_allowed() if download is None else download)
    return images[part].clone(), labels[part].clone()  # callers may modify their copy freely


@functools.lru_cache(maxsize=4)
def _load_cached(dataset, split, download):
    image_stem, label_stem = FILE_STEMS[split]
    images = _parse_idx(_read_verified(dataset, image_stem, download), image_stem)
    labels = _parse_idx(_read_verified(dataset, label_stem, download), label_stem)
    if images.shape[0] != labels.shape[0]:
        raise DataError(f"{image_stem} has {images.shape[0]} images but {label_stem} has {labels.shape[0]} labels")
    return torch.from_numpy(images), torch.from_numpy(labels.astype(np.int64))


OFFLINE_VALUES = {"1": True, "true": True, "yes": True, "on": True, "": False, "0": False, "false": False,
                  "no": False, "off": False}  # fmt: skip


def _downloads_allowed():
    """False when ``$VILAB_OFFLINE`` says offline (1/true/yes/on, any case); a value that is neither is an error."""
    value = os.environ.get("VILAB_OFFLINE", "").strip().lower()
    if value not in OFFLINE_VALUES:
        raise ValueError(f"VILAB_OFFLINE must be 1/true/yes/on (offline) or 0/false/no/off (online), got {value!r}")
    return not OFFLINE_VALUES[value]


def _parse_idx(raw, stem):
    """Parse the idx format: a 4-byte magic (0, 0, dtype 0x08 = uint8, ndim), big-endian int32 sizes, data."""
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
        raise DataError(f"{stem} is not an idx file of unsigned bytes")
    ndim = raw[3]
    shape = tuple(int(n) for n in np.frombuffer(raw, dtype=">i4", count=ndim, offset=4))
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim)
    if data.size != int(np.prod(shape)):
        raise DataError(f"{stem} holds {data.size} bytes of data but its header says shape {shape}")
    return data.reshape(shape).copy()


def _candidates(dataset, stem):
    """Every readable copy of ``stem`` (plain or .gz) in the search folders, in order; unreadable ones are noted."""
    for folder in search_dirs(dataset):
        for name in (stem, stem + ".gz"):
            if DATASETS[dataset]["checksum_of"] == "gz" and not name.endswith(".gz"):
                continue
            path = folder / name
            try:
                if not path.is_file():
                    continue
                with open(path, "rb"):
                    pass
            except OSError as error:  # e.g. PermissionError on the file or its folder: try the next copy
                print(f"vilab.data: skipping {path}: {error.strerror or error}", file=sys.stderr)
                continue
            yield path


def find_file(dataset, stem):
    """Path of the first readable copy of ``stem`` (plain or .gz) in the search folders, or None."""
    return next(_candidates(_dataset(dataset), _stem(stem)), None)


def _read_verified(dataset, stem, download):
    """Decompressed bytes of ``stem`` after its SHA-256 check; downloads it if allowed and absent."""
    path = find_file(dataset, stem)
    if path is None and download:
        path = _download(dataset, stem)
    if path is None:
        raise DataError(_missing_message(dataset, stem))
    return verify(dataset, stem, path)


def verify(dataset, stem, path):
    """Return the decompressed content of ``path`` if its SHA-256 matches, else raise ``DataError``."""
    _dataset(dataset), _stem(stem)
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a file path (str or Path), got {type(path).__name__}")
    path = Path(path)
    try:
        packed = path.read_bytes()
    except OSError as error:
        raise DataError(f"cannot read {path}: {error.strerror or error}. Fix its permissions, or delete it") from error
    try:
        raw = gzip.decompress(packed) if path.suffix == ".gz" else packed
    except (OSError, EOFError) as error:
        raise DataError(
            f"{path} is not a valid gzip file ({error}); it is probably truncated. "
            f"Delete it and run `python -m vilab.data fetch {dataset}`, or reinstall the package that provides it."
        ) from error
    hashed = packed if DATASETS[dataset]["checksum_of"] == "gz" else raw
    actual = hashlib.sha256(hashed).hexdigest()
    expected = DATASETS[dataset]["sha256"][stem]
    if actual != expected:
        what = "its .gz bytes" if DATASETS[dataset]["checksum_of"] == "gz" else "its decompressed content"
        raise DataError(
            f"{path} failed its checksum and was not used: SHA-256 of {what} is {actual}, expected {expected}. "
            f"The file is corrupted or truncated: delete it and run `python -m vilab.data fetch {dataset}` "
            f"(or reinstall the package that provides it)."
        )
    return raw


def _missing_message(dataset, stem):
    searched = ", ".join(str(d) for d in search_dirs(dataset))
    how = (
        "install it with `sudo apt install dataset-fashion-mnist` (Debian/Ubuntu), or "
        if dataset == "fashion-mnist"
        else ""
    )
    return (
        f"{dataset} file {stem} not found (searched: {searched}) and it could not be downloaded. "
        f"To get the data, {how}go online once and run `python -m vilab.data fetch {dataset}`, "
        f"or copy the files into $VILAB_DATA."
    )


def _download(dataset, stem):
    """Download ``stem``.gz from the official host into the cache; return its path, or None when offline.

    The download goes to a temporary file that is verified before it is moved
    into place, so a failed or partial download never lands in the cache.
    """
    url = DATASETS[dataset]["url"] + stem + ".gz"
    target = cache_dir() / dataset / (stem + ".gz")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = tempfile.NamedTemporaryFile(dir=target.parent, suffix=".gz", delete=False)
    except OSError as error:
        raise DataError(
            f"cannot write the download cache {target.parent}: {error.strerror or error}. "
            "Fix its permissions, or point $XDG_CACHE_HOME or $VILAB_DATA elsewhere"
        ) from error
    tmp_path = Path(tmp.name)
    try:  # whatever happens (an error, a truncated transfer, Ctrl-C), no partial file stays in the cache
        with tmp:
            with urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT_S) as response:  # noqa: S310 - fixed official host
                shutil.copyfileobj(response, tmp)
        verify(dataset, stem, tmp_path)
    except (OSError, http.client.HTTPException) as error:  # network errors, IncompleteRead
        tmp_path.unlink(missing_ok=True)
        print(f"vilab.data: could not download {url}: {error!r}", file=sys.stderr)
        return None
    except BaseException:
        tmp_path.unlink(missing_ok=True)
        raise
    os.replace(tmp_path, target)
    return target


def fetch(datasets=("fashion-mnist",)):
    """Make every file of ``datasets`` (a name or a list of names) available and verified.

    Returns a list of problems (empty if all is well).
    """
    datasets = (datasets,) if isinstance(datasets, str) else datasets
    if not isinstance(datasets, (list, tuple)):
        raise TypeError(f"datasets must be a dataset name or a list of them, got {type(datasets).__name__}")
    unknown = [d for d in datasets if not isinstance(d, str) or d not in DATASETS]
    if unknown:
        raise ValueError(f"datasets must be names from {list(DATASETS)}, got {unknown!r}")
    problems = []
    for dataset in datasets:
        for split in SPLITS:
            for stem in FILE_STEMS[split]:
                try:
                    path = find_file(dataset, stem) or (_download(dataset, stem) if _downloads_allowed() else None)
                    if path is None:
                        raise DataError(_missing_message(dataset, stem))
                    verify(dataset, stem, path)
                    print(f"ok  {dataset}/{stem}  ({path})")
                except DataError as error:
                    problems.append(str(error))
    return problems


def main(argv=None):
    """``python -m vilab.data fetch [fashion-mnist] [mnist]``: prepare the data ahead of class."""
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] != "fetch" or any(name not in DATASETS for name in argv[1:]):
        print(f"usage: python -m vilab.data fetch [{' '.join(DATASETS)}]", file=sys.stderr)
        return 2
    problems = fetch(tuple(argv[1:]) or ("fashion-mnist",))
    for problem in problems:
        print(f"WARNING: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
