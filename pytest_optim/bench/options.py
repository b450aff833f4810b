"""Command-line options of the bench suites (added to the one `optim` group)."""

import pytest


def add_options(group: pytest.OptionGroup) -> None:
    group.addoption(
        "--optim-bench", metavar="smoke|full", nargs="?", const="smoke", default=None,
        choices=("smoke", "full"),
        help="run the step-time benchmarks (suites/test_benchmarks.py; skipped otherwise). "
        "'smoke' (the default when given bare): 1e3 and 1e4 parameters, 3 rounds, for CI; "
        "'full': 1e3..1e7 parameters (1e8 on GPU), a 100-leaf pytree and three model shapes. "
        "Write it as --optim-bench=full (a bare --optim-bench swallows a following path).",
    )
    group.addoption(
        "--optim-bench-rounds", metavar="N", type=int, default=None,
        help="timed rounds per benchmark, each interleaving ours/optax/floor (default: smoke 3, full 11).",
    )
    group.addoption(
        "--optim-bench-json", metavar="PATH", default=None,
        help="at the end of the run, write the step-time benchmarks as pytest-benchmark's JSON (machine "
        "and commit info, every timing, our ratios in extra_info) to PATH atomically: an "
        "interrupted run (Ctrl-C) leaves the previous PATH intact, unlike --benchmark-json (which "
        "pytest-benchmark 4 empties when the run starts and 5 overwrites with the partial run). "
        "Not together with --benchmark-json.",
    )
    group.addoption(
        "--optim-bench-plot", metavar="PATH", default=None,
        help="write a plot of steps/s against parameter count (ours vs optax, per optimizer) to PATH "
        "(needs matplotlib; .png/.pdf/.svg).",
    )
