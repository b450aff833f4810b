"""The run's seed (``--optim-seed``) and the random streams the conformance checks draw from.

Every random part of a check comes from :func:`rng`, so ``--optim-seed`` reaches all of them and
a run is reproduced by its seed (printed in the header, recorded in the report JSON):

* the problems (problems.py): the quadratics' rotation, linear term and starting point (their
  eigenvalues, hence mu, L and the conditioning, are fixed), the regression data and its noise;
* the gradient sequences of the property checks (properties.py) and of the first-two-steps
  check (checks.py);
* the parameters and gradients of the sharding check (sharding.py), which runs in a subprocess:
  the seed travels there as ``--seed``;
* the examples hypothesis draws in tests/test_hypothesis_oracles.py (``hypothesis.seed``).

Each call site has its own stream id, the constant it was seeded with before the option reached
the checks, so one site's draws never shift another's. ``rng(stream)`` is
``default_rng(SeedSequence([stream, seed]))``: SeedSequence pads its entropy with zeros, so seed 0
gives exactly ``default_rng(stream)`` and the default run draws the numbers it always did (the
documented figures and mutation scores stay as measured). Two sites with the same id (e.g.
quadratic_k10 and the zero-size-leaves gradients, both 0) get the same numbers, as before; they
feed unrelated checks.

Not seeded from here, on purpose: the benchmark inputs (bench/steps.py; their values do not matter for
a step time) and the workloads (workloads/training.py, workloads/models.py: the MNIST/CIFAR-10/IMDB training
setting, whose accuracy bounds were measured at its fixed initialisation and batch order). They
are settings of a measurement, not random parts of a check.

The seed is set once per pytest run from the plugin's ``pytest_configure`` and put back when that
config is unconfigured, so a pytester run inside a test does not leak its seed into the outer run.
Outside pytest it is 0. Values built from seeded data and kept for the process (the problems,
their jitted gradients) are cached per seed with :func:`per_seed_cache`.

Imports nothing but the standard library at load (NumPy when :func:`rng` is first called).
"""

from __future__ import annotations

import functools
from typing import Any, Callable

_SEED = 0


def seed() -> int:
    """The run's ``--optim-seed`` (0 outside a pytest run)."""
    return _SEED


def set_seed(value: int) -> int:
    """Set the seed; returns the previous one."""
    global _SEED
    previous, _SEED = _SEED, int(value)
    return previous


def configure(config: Any) -> None:
    """From ``pytest_configure``: take ``--optim-seed``; the previous seed is back at unconfigure."""
    previous = set_seed(config.getoption("optim_seed"))
    config.add_cleanup(lambda: set_seed(previous))


def rng(stream: int):
    """A NumPy Generator for one call site (``stream``: its own constant id) under the run's seed."""
    import numpy as np

    return np.random.default_rng(np.random.SeedSequence([int(stream), _SEED]))


def per_seed_cache(fn: Callable) -> Callable:
    """Like ``functools.cache``, with the run's seed as part of the key."""

    @functools.lru_cache(maxsize=None)
    def cached(seed_: int, *args, **kwargs):
        return fn(*args, **kwargs)

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        return cached(_SEED, *args, **kwargs)

    wrapper.cache_clear = cached.cache_clear  # type: ignore[attr-defined]
    wrapper.cache_info = cached.cache_info  # type: ignore[attr-defined]
    return wrapper
