"""Fixtures of the workload suites. Imports nothing heavy at load time.

* ``optim_data``: ``optim_data("mnist")`` -> ``pytest_optim.workloads.data.Arrays`` (loaded once per session;
  the test is skipped with a one-line hint when the data cannot be had, and fails with the file
  name and expected checksum when a source file is corrupt).
* ``mnist_workload``, ``cifar10_workload``, ``imdb_workload``: ``pytest_optim.workloads.training.Workload``
  objects (CI-sized, or full-sized with ``--optim-full``) to train any optimizer on.
* ``optim_workload_run``: ``optim_workload_run(candidate, workload)`` trains the candidate once per
  session (cached) with the per-spec learning rate and returns the ``Run``; with ``--optim-plots``
  its curves go to DIR.
"""

from __future__ import annotations

import os
import shutil

import pytest

_DATA = pytest.StashKey[dict]()


def _is_worker(config) -> bool:
    return hasattr(config, "workerinput")


def pytest_configure(config: pytest.Config) -> None:
    config.stash[_DATA] = {}
    plots = config.getoption("optim_plots", None)
    if plots and not _is_worker(config):  # the controller (or the only process) starts afresh
        curves = os.path.join(plots, "curves")
        if os.path.isdir(curves):
            shutil.rmtree(curves, ignore_errors=True)


def pytest_sessionfinish(session: pytest.Session) -> None:
    config = session.config
    plots = config.getoption("optim_plots", None)
    if plots and not _is_worker(config) and os.path.isdir(os.path.join(plots, "curves")):
        from pytest_optim.reporting import plots as _plots

        written = _plots.make_plots(plots)
        if written:
            reporter = config.pluginmanager.get_plugin("terminalreporter")
            if reporter is not None:
                reporter.write_line(f"optim: wrote {len(written)} plots to {plots}")


def _mode(config) -> str:
    return "full" if config.getoption("optim_full", False) else "ci"


@pytest.fixture(scope="session")
def optim_data(request):
    """``optim_data(name)`` -> the dataset as NumPy arrays (name: mnist, cifar10, imdb_reviews)."""
    config = request.config
    cache = config.stash[_DATA]

    def get(name: str):
        from pytest_optim.workloads import data

        key = data.info(name).name
        if key not in cache:
            try:
                cache[key] = data.load(key, config.getoption("optim_data_dir"),
                                       config.getoption("optim_data_source"),
                                       config.getoption("optim_download"))
            except (data.DataUnavailable, data.DataCorrupt) as exc:
                cache[key] = exc
        value = cache[key]
        if isinstance(value, data.DataUnavailable):
            pytest.skip(str(value))
        if isinstance(value, data.DataCorrupt):
            pytest.fail(str(value), pytrace=False)
        return value

    return get


def _workload(request, name: str):
    from pytest_optim.workloads import training as workloads

    return workloads.build(name, request.getfixturevalue("optim_data")(name), _mode(request.config))


@pytest.fixture(scope="session")
def mnist_workload(request):
    """MNIST + MLP (``pytest_optim.workloads.training.Workload``): init, loss, batches, evaluate, train."""
    return _workload(request, "mnist")


@pytest.fixture(scope="session")
def cifar10_workload(request):
    """CIFAR-10 (the subset in ../shared/data, or what is prepared) + a small CNN."""
    return _workload(request, "cifar10")


@pytest.fixture(scope="session")
def imdb_workload(request):
    """IMDB reviews + mean-pooled embeddings over a vocabulary built from the training split."""
    return _workload(request, "imdb_reviews")


@pytest.fixture(scope="session")
def optim_workload_run(request):
    """``optim_workload_run(candidate, workload)`` -> the cached training ``Run`` of that pair."""
    runs: dict = {}
    config = request.config

    def run(candidate, workload):
        from pytest_optim.workloads import training as workloads
        from pytest_optim.outcomes import CandidateError, CheckFailure

        key = (candidate.label, workload.name)
        if key not in runs:
            full = _mode(config) == "full"
            lr = workloads.learning_rate(candidate.spec, workload.name, full)
            try:
                transform = candidate.make(lr)
                runs[key] = workload.train(transform, learning_rate=lr, label=candidate.label,
                                           traceable=candidate.traceable)
            except CandidateError as exc:
                runs[key] = CheckFailure(f"[workloads] {candidate.label} on {workload.title}: {exc}")
            except Exception as exc:  # noqa: BLE001 - a candidate's failure is reported in one line
                runs[key] = CheckFailure(
                    f"[workloads] {candidate.label} (spec {candidate.reference}) on {workload.title}, "
                    f"lr={lr:g}: training raised {type(exc).__name__}: {' '.join(str(exc).split())[:300]}")
            plots = config.getoption("optim_plots", None)
            if plots and not isinstance(runs[key], Exception):
                from pytest_optim.reporting import plots as _plots

                _plots.write_curves(plots, runs[key], workload)
        value = runs[key]
        if isinstance(value, Exception):
            raise value
        return value

    return run
