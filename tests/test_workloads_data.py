"""The workload data path: skip with a one-line hint when data is missing, refuse corrupt files,
leave nothing half-written. Runs pytest in a subprocess (pytester); no training, no JAX needed
except in the one test that runs the bundled suite."""

import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from pytest_optim.workloads import data

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
MNIST_LABELS = "train-labels-idx1-ubyte.gz"

USES_DATA = """
def test_mnist(optim_data):
    arrays = optim_data("mnist")
    assert arrays.x_train.shape == (60000, 28, 28, 1)
"""


@pytest.fixture(autouse=True)
def _no_env_source(monkeypatch):
    monkeypatch.delenv("PYTEST_OPTIM_DATA_SOURCE", raising=False)
    monkeypatch.delenv("TFDS_DATA_DIR", raising=False)


def _skip_lines(result) -> list[str]:
    return [line for line in result.outlines if line.startswith("SKIPPED")]


def test_missing_data_skips_with_one_line_hint(pytester, tmp_path):
    pytester.makepyfile(test_uses=USES_DATA)
    empty = tmp_path / "empty"
    empty.mkdir()
    result = pytester.runpytest_subprocess(f"--optim-data-source={empty}", f"--optim-data-dir={tmp_path / 'tfds'}",
                                           "-rs", "-p", "no:cacheprovider")
    result.assert_outcomes(skipped=1)
    (line,) = _skip_lines(result)
    assert "MNIST not prepared" in line and "mnist/train-images-idx3-ubyte.gz" in line
    assert "--optim-download" in line and "pytest-optim[data]" in line
    assert not (tmp_path / "tfds" / "mnist").exists()


def test_no_source_hint_names_the_options(pytester, tmp_path):
    pytester.makepyfile(test_uses=USES_DATA)
    result = pytester.runpytest_subprocess(f"--optim-data-dir={tmp_path / 'tfds'}", "-rs", "-p", "no:cacheprovider")
    result.assert_outcomes(skipped=1)
    (line,) = _skip_lines(result)
    assert f"MNIST not prepared in {tmp_path / 'tfds'}: pass --optim-data-source=DIR" in line


def test_suite_skips_all_checks_with_the_same_line(pytester, tmp_path):
    suite = Path(__file__).resolve().parents[1] / "suites" / "test_workloads.py"
    result = pytester.runpytest_subprocess(str(suite), "--optim=sgd", "-k", "mnist", "-rs", "-p", "no:cacheprovider",
                                           f"--optim-data-dir={tmp_path / 'tfds'}", f"--rootdir={pytester.path}")
    result.assert_outcomes(skipped=2)
    reasons = {line.split(": ", 1)[1] for line in _skip_lines(result)}  # one per test function's line
    assert len(reasons) == 1 and next(iter(reasons)).startswith("MNIST not prepared")


def _copy_mnist(tmp_path) -> Path:
    if not (SHARED / "mnist" / MNIST_LABELS).is_file():
        pytest.skip(f"no shared data at {SHARED}")
    src = tmp_path / "src"
    shutil.copytree(SHARED / "mnist", src / "mnist")
    return src


def test_truncated_file_is_refused_with_name_and_checksum(pytester, tmp_path):
    src = _copy_mnist(tmp_path)
    labels = src / "mnist" / MNIST_LABELS
    labels.write_bytes(labels.read_bytes()[:1000])
    pytester.makepyfile(test_uses=USES_DATA)
    result = pytester.runpytest_subprocess(f"--optim-data-source={src}", f"--optim-data-dir={tmp_path / 'tfds'}",
                                           "-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([f"*{labels} is corrupt: 1000 bytes, expected 28881 bytes with sha256 "
                                 "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c*"])
    assert "Traceback" not in result.stdout.str()
    assert not (tmp_path / "tfds" / "mnist").exists()


def test_altered_bytes_are_refused_and_nothing_is_left(tmp_path):
    """Same size, different bytes: TFDS's NonMatchingChecksumError becomes one clear message."""
    pytest.importorskip("tensorflow_datasets")
    pytest.importorskip("tensorflow")
    src = _copy_mnist(tmp_path)
    labels = src / "mnist" / MNIST_LABELS
    raw = bytearray(labels.read_bytes())
    raw[-1] ^= 0xFF
    labels.write_bytes(bytes(raw))
    out = tmp_path / "tfds"
    with pytest.raises(data.DataCorrupt) as info:
        data.load("mnist", str(out), str(src))
    message = str(info.value)
    assert str(labels) in message and "expected sha256 3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c" in message
    assert not (out / "mnist").exists()
    assert [p.name for p in (out / ".pytest_optim").iterdir()] == ["mnist.lock"]  # no temp folders left


def test_cache_round_trip_keeps_texts_and_arrays(tmp_path):
    arrays = {"x_train": np.array(["a film", "été <br /> ok", ""], dtype=object), "y_train": np.array([1, 0, 1]),
              "x_test": np.zeros((2, 3, 3, 1), np.uint8), "y_test": np.array([3, 4])}
    path = tmp_path / "c.npz"
    data._save_cache(path, arrays)
    back = data._load_cache(path)
    assert list(back["x_train"]) == list(arrays["x_train"]) and back["x_test"].shape == (2, 3, 3, 1)
    assert os.listdir(tmp_path) == ["c.npz"]
