"""Repository conftest: the project's own tests import their helpers from tests/.

The mutation score (tests/test_mutants.py) is one pytest session of its own over every candidate,
most of this suite's work. Its tests are put last, and as soon as they are collected one process
of the run (xdist's gw0, or the only one) starts that session in the background, so the run's
other tests keep the cores busy while it runs instead of waiting for it.
"""

from __future__ import annotations

import os

import pytest


@pytest.hookimpl(trylast=True)  # after -k / -m deselection: only the selected candidates run
def pytest_collection_modifyitems(session, config, items):
    mutants = [i for i in items if i.nodeid.startswith("tests/test_mutants.py::")]
    if not mutants:
        return
    chosen = set(mutants)
    items[:] = [i for i in items if i not in chosen] + mutants
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if config.option.collectonly or worker not in (None, "gw0"):
        return
    from tests import test_mutants

    test_mutants.start(config, mutants)
