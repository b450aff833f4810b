"""MNIST, CIFAR-10 and IMDB reviews through tensorflow-datasets, offline first, as NumPy arrays.

``load(name, data_dir, source, download)`` returns a :class:`Arrays` (train/test inputs and
labels). In order, it

1. reads the NumPy cache ``<data_dir>/.pytest_optim/<name>-<version>.npz`` written by an
   earlier run (no TensorFlow needed: a CI job or a GPU machine can run from the cache alone);
2. otherwise, when TFDS has the dataset prepared in ``data_dir``, reads it with ``tfds.load``;
3. otherwise prepares it, from ``source`` (a folder of the original files laid out like
   ``../shared/data``: ``mnist/``, ``cifar10/``, ``imdb_reviews/``, given to TFDS as its
   ``manual_dir``) or, with ``download=True``, from the internet (TFDS's stock builders).

Preparation holds a file lock and writes into a temporary folder that is moved into place
with ``os.replace`` only once complete, so parallel pytest-xdist workers never see (or leave)
half-written data. Files whose size or sha256 differ from the registered checksum are refused
(:class:`DataCorrupt`, naming the file and the expected sha256); missing data or missing
packages raise :class:`DataUnavailable` with one line saying how to get it.

The CIFAR-10 and IMDB archives of the shared folder are a subset and a repack of the
originals, so they are prepared with builders that keep TFDS's generation code and only pin
``url_infos`` to those files (TFDS internals, verified with tensorflow-datasets 4.9.10).

Imports nothing heavy at module load.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pytest_optim import atomic

INSTALL_HINT = "pip install 'pytest-optim[data]'"


class DataUnavailable(Exception):
    """The dataset cannot be had here; the message (one line) says how to get it."""


class DataCorrupt(Exception):
    """A source file does not match its registered checksum, or preparation failed."""


@dataclass(frozen=True)
class SourceFile:
    name: str
    size: int
    sha256: str
    url: str  # the URL the TFDS builder registers for it


@dataclass(frozen=True)
class DatasetInfo:
    name: str  # TFDS name
    config: str | None
    version: str
    title: str
    files: tuple[SourceFile, ...]  # expected in <source>/<name>/
    stock_checksums: bool  # the files are the ones the stock builder registers


DATASETS: dict[str, DatasetInfo] = {
    "mnist": DatasetInfo("mnist", None, "3.0.1", "MNIST", (
        SourceFile("train-images-idx3-ubyte.gz", 9912422,
                   "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
                   "https://storage.googleapis.com/cvdf-datasets/mnist/train-images-idx3-ubyte.gz"),
        SourceFile("train-labels-idx1-ubyte.gz", 28881,
                   "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
                   "https://storage.googleapis.com/cvdf-datasets/mnist/train-labels-idx1-ubyte.gz"),
        SourceFile("t10k-images-idx3-ubyte.gz", 1648877,
                   "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
                   "https://storage.googleapis.com/cvdf-datasets/mnist/t10k-images-idx3-ubyte.gz"),
        SourceFile("t10k-labels-idx1-ubyte.gz", 4542,
                   "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
                   "https://storage.googleapis.com/cvdf-datasets/mnist/t10k-labels-idx1-ubyte.gz"),
    ), stock_checksums=True),
    "cifar10": DatasetInfo("cifar10", None, "3.0.2", "CIFAR-10", (
        SourceFile("cifar-10-binary-subset.tar.gz", 14184899,
                   "1b7afc0eaab49279fb4e4835deb3df6fc05c1f136c5fbd8d77fbafcfb449f1d2",
                   "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz"),
    ), stock_checksums=False),
    "imdb_reviews": DatasetInfo("imdb_reviews", "plain_text", "1.0.0", "IMDB reviews", (
        SourceFile("aclImdb_v1_nobow.tar.gz", 56744948,
                   "f16dfae3984096bef9013e153762232a7e92ade5295f91a8e0a1baec4b621da0",
                   "http://ai.stanford.edu/~amaas/data/sentiment/aclImdb_v1.tar.gz"),
    ), stock_checksums=False),
}
ALIASES = {"imdb": "imdb_reviews", "cifar": "cifar10", "cifar-10": "cifar10"}


@dataclass
class Arrays:
    """A dataset as NumPy arrays. Images: uint8 (N, H, W, C); IMDB texts: object arrays of str."""

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    origin: str = ""  # where they came from: "cache", "tfds" or "prepared from ..."
    seconds: float = 0.0  # time taken to prepare/load


def default_data_dir() -> str:
    """TFDS's default data dir (``$TFDS_DATA_DIR`` or ``~/tensorflow_datasets``), without TFDS."""
    return os.path.expanduser(os.environ.get("TFDS_DATA_DIR") or "~/tensorflow_datasets")


def info(name: str) -> DatasetInfo:
    return DATASETS[ALIASES.get(name, name)]


def _version_dir(data_dir: str, ds: DatasetInfo) -> Path:
    parts = [data_dir, ds.name] + ([ds.config] if ds.config else []) + [ds.version]
    return Path(*parts)


def is_prepared(data_dir: str, name: str) -> bool:
    return (_version_dir(data_dir, info(name)) / "dataset_info.json").is_file()


def _cache_path(data_dir: str, ds: DatasetInfo) -> Path:
    return Path(data_dir) / ".pytest_optim" / f"{ds.name}-{ds.config or 'default'}-{ds.version}.npz"


def _hint(ds: DatasetInfo, data_dir: str, why: str) -> str:
    return (f"{ds.title} {why} in {data_dir}: pass --optim-data-source=DIR with the original files "
            f"(DIR/{ds.name}/{', '.join(f.name for f in ds.files)}) or --optim-download; "
            f"needs {INSTALL_HINT}")


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def check_source(source: str, name: str) -> Path:
    """The folder of ``name``'s original files in ``source``: all present, sizes right."""
    ds = info(name)
    folder = Path(source) / ds.name
    missing = [f.name for f in ds.files if not (folder / f.name).is_file()]
    if missing:
        raise DataUnavailable(
            f"{ds.title} not prepared in its data dir and --optim-data-source={source} lacks "
            f"{ds.name}/{', '.join(missing)}: point it at a folder laid out like ../shared/data "
            f"(mnist/, cifar10/, imdb_reviews/) or pass --optim-download; needs {INSTALL_HINT}")
    for f in ds.files:  # size first: cheap, and TFDS's own message would not name our file
        size = (folder / f.name).stat().st_size
        if size != f.size:
            raise DataCorrupt(
                f"{folder / f.name} is corrupt: {size} bytes, expected {f.size} bytes with sha256 "
                f"{f.sha256}; copy the original file again")
    return folder


# -- locking and atomic preparation -----------------------------------------------------------


@contextlib.contextmanager
def _locked(path: Path):
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as f:
        try:
            import fcntl
        except ImportError:  # Windows: no lock; preparation is still atomic (os.replace)
            yield
            return
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def _quiet_tf() -> None:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def _builder(ds: DatasetInfo, data_dir: str, local: bool):
    _quiet_tf()
    import tensorflow_datasets as tfds

    tfds.disable_progress_bar()

    if not local:
        return tfds.builder(ds.name + (f"/{ds.config}" if ds.config else ""), data_dir=data_dir)
    from tensorflow_datasets.core.download.checksums import UrlInfo

    f = ds.files[0]
    url_infos = {f.url: UrlInfo(size=f.size, checksum=f.sha256, filename=f.name)}
    if ds.name == "cifar10":
        from tensorflow_datasets.image_classification.cifar import Cifar10

        class LocalCifar10(Cifar10, skip_registration=True):
            name = "cifar10"

        LocalCifar10.url_infos = url_infos
        return LocalCifar10(data_dir=data_dir)
    from tensorflow_datasets.datasets.imdb_reviews.imdb_reviews_dataset_builder import (
        Builder,
    )

    class LocalImdbReviews(Builder, skip_registration=True):
        name = "imdb_reviews"
        pkg_dir_path = Builder._get_pkg_dir_path()

    LocalImdbReviews.url_infos = url_infos
    return LocalImdbReviews(config=ds.config, data_dir=data_dir)


def prepare(name: str, data_dir: str, source: str | None = None, download: bool = False) -> str:
    """Prepare ``name`` into ``data_dir`` (no-op if already there). Returns what was done."""
    ds = info(name)
    if is_prepared(data_dir, name):
        return "already prepared"
    if source is None and not download:
        raise DataUnavailable(_hint(ds, data_dir, "not prepared"))
    folder = check_source(source, name) if source is not None else None
    if importlib.util.find_spec("tensorflow_datasets") is None or importlib.util.find_spec("tensorflow") is None:
        raise DataUnavailable(
            f"{ds.title} not prepared in {data_dir} and preparing it needs tensorflow-datasets and "
            f"TensorFlow: {INSTALL_HINT}")
    work = Path(data_dir) / ".pytest_optim"
    with _locked(work / f"{ds.name}.lock"):
        if is_prepared(data_dir, name):  # another worker did it while we waited
            return "prepared by another process"
        tmp = Path(tempfile.mkdtemp(prefix=f"prepare-{ds.name}-", dir=work))
        try:
            import tensorflow_datasets as tfds
            from tensorflow_datasets.core.download.download_manager import (
                NonMatchingChecksumError,
            )

            staged = tmp / "data"
            builder = _builder(ds, str(staged), local=folder is not None and not ds.stock_checksums)
            config = tfds.download.DownloadConfig(manual_dir=str(folder)) if folder else None
            try:
                builder.download_and_prepare(download_dir=str(tmp / "downloads"), download_config=config)
            except NonMatchingChecksumError as exc:
                raise DataCorrupt(_checksum_message(ds, folder, exc)) from None
            except (DataCorrupt, DataUnavailable):
                raise
            except Exception as exc:  # noqa: BLE001 - anything TFDS raises becomes one clear line
                text = " ".join(str(exc).split())[:400]
                raise DataCorrupt(f"preparing {ds.title} failed ({type(exc).__name__}: {text}); "
                                  f"nothing was written to {data_dir}") from exc
            built = Path(builder.data_dir)
            final = _version_dir(data_dir, ds)
            final.parent.mkdir(parents=True, exist_ok=True)
            os.replace(built, final)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return f"prepared from {folder}" if folder else "downloaded and prepared"


def _checksum_message(ds: DatasetInfo, folder: Path | None, exc: Exception) -> str:
    if folder is not None:
        for f in ds.files:
            path = folder / f.name
            if path.is_file() and (path.stat().st_size != f.size or sha256(path) != f.sha256):
                return (f"{path} is corrupt: sha256 {sha256(path)} ({path.stat().st_size} bytes), "
                        f"expected sha256 {f.sha256} ({f.size} bytes); copy the original file again")
    text = " ".join(str(exc).split())[:400]
    return f"{ds.title}: a downloaded file does not match its registered checksum: {text}"


# -- loading ------------------------------------------------------------------------------------


def _read_tfds(ds: DatasetInfo, data_dir: str) -> dict[str, np.ndarray]:
    _quiet_tf()
    import tensorflow_datasets as tfds

    tfds.disable_progress_bar()

    out = {}
    key_x = "text" if ds.name == "imdb_reviews" else "image"
    for split in ("train", "test"):
        data = tfds.as_numpy(tfds.load(ds.name + (f"/{ds.config}" if ds.config else ""), split=split,
                                       data_dir=data_dir, download=False, batch_size=-1))
        x, y = data[key_x], np.asarray(data["label"])
        if key_x == "text":
            x = np.array([t.decode("utf-8") for t in x], dtype=object)
        out[f"x_{split}"], out[f"y_{split}"] = x, y
    return out


def _save_cache(path: Path, arrays: dict[str, np.ndarray]) -> None:
    payload = {}
    for k, v in arrays.items():
        if v.dtype == object:  # texts: one utf-8 blob + offsets (no pickles in the cache)
            enc = [t.encode("utf-8") for t in v]
            payload[k + "__blob"] = np.frombuffer(b"".join(enc), np.uint8)
            payload[k + "__offsets"] = np.cumsum([0] + [len(e) for e in enc]).astype(np.int64)
        else:
            payload[k] = v
    atomic.write(path, lambda fh: np.savez(fh, **payload))


def _load_cache(path: Path) -> dict[str, np.ndarray]:
    out = {}
    with np.load(path, allow_pickle=False) as z:
        for k in z.files:
            if k.endswith("__offsets"):
                continue
            if k.endswith("__blob"):
                base = k[: -len("__blob")]
                blob, off = z[k].tobytes(), z[base + "__offsets"]
                out[base] = np.array([blob[a:b].decode("utf-8") for a, b in zip(off[:-1], off[1:])],
                                     dtype=object)
            else:
                out[k] = z[k]
    return out


def load(name: str, data_dir: str | None = None, source: str | None = None,
         download: bool = False) -> Arrays:
    """The dataset as NumPy arrays: from the cache, else TFDS (preparing it first if needed)."""
    import time

    ds = info(name)
    data_dir = os.path.expanduser(data_dir or default_data_dir())
    t0 = time.perf_counter()
    cache = _cache_path(data_dir, ds)
    if cache.is_file():
        try:
            return Arrays(ds.name, **_load_cache(cache), origin=f"cache {cache}",
                          seconds=time.perf_counter() - t0)
        except (OSError, ValueError, KeyError, TypeError):
            pass  # unreadable cache: rebuild it below
    how = prepare(name, data_dir, source, download)
    if importlib.util.find_spec("tensorflow_datasets") is None or importlib.util.find_spec("tensorflow") is None:
        raise DataUnavailable(
            f"{ds.title} is prepared in {data_dir} but reading it needs tensorflow-datasets and "
            f"TensorFlow: {INSTALL_HINT}")
    arrays = _read_tfds(ds, data_dir)
    with contextlib.suppress(OSError):
        _save_cache(cache, arrays)
    return Arrays(ds.name, **arrays, origin=f"tfds ({how})", seconds=time.perf_counter() - t0)
