"""Command-line options of the workload suites (added to the one `optim` group)."""

import os

import pytest

DATA_SOURCE_ENV = "PYTEST_OPTIM_DATA_SOURCE"


def add_options(group: pytest.OptionGroup) -> None:
    group.addoption(
        "--optim-data-dir", metavar="DIR", default=None,
        help="where TFDS keeps the prepared MNIST/CIFAR-10/IMDB datasets (and pytest-optim its NumPy "
        "cache of them); default TFDS's own ($TFDS_DATA_DIR or ~/tensorflow_datasets).",
    )
    group.addoption(
        "--optim-data-source", metavar="DIR", default=os.environ.get(DATA_SOURCE_ENV) or None,
        help="folder of the original data files, laid out as mnist/, cifar10/, imdb_reviews/ "
        "(e.g. ../shared/data); datasets not yet prepared are prepared from it offline (TFDS "
        f"manual_dir). Default: ${DATA_SOURCE_ENV}.",
    )
    group.addoption(
        "--optim-download", action="store_true", default=False,
        help="let TFDS download datasets that are neither prepared nor in --optim-data-source.",
    )
    group.addoption(
        "--optim-full", action="store_true", default=False,
        help="full-size workloads (seed 001: full MNIST, 10 epochs, the seed-001 MLP 784-512-512-10) instead of "
        "the CI-sized ones; slow on a CPU.",
    )
    group.addoption(
        "--optim-plots", metavar="DIR", default=None,
        help="write per-dataset loss, test-accuracy and gradient-norm curves (PNG, optimizers "
        "overlaid, needs matplotlib) and the curves as JSON into DIR.",
    )
