"""Option values checked at start-up: a bad value is one usage error (exit 4) before any check runs,
not a traceback or a lost report/plot at the end of a long run."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

from pytest_optim.outcomes import UsageError

# Formats pytest-optim writes. The plot list is the subset of matplotlib's formats that we
# document; matplotlib itself is only imported when the plot is drawn.
REPORT_SUFFIXES = ("", ".json", ".md")
PLOT_SUFFIXES = (".png", ".pdf", ".svg")


def check_all(config: pytest.Config) -> None:
    """Raise ``pytest.UsageError`` for the first bad option value."""
    _at_least(config, "optim_seed", "--optim-seed", 0, "a seed for NumPy/JAX, e.g. --optim-seed=0")
    _at_least(config, "optim_timeout", "--optim-timeout", 0, "seconds per check, 0 to disable")
    _at_least(config, "optim_bench_rounds", "--optim-bench-rounds", 1, "the number of timed rounds, e.g. 11")
    report = config.getoption("optim_report", None)
    if report:
        suffix = Path(report).suffix
        if suffix not in REPORT_SUFFIXES and suffix[1:].isalpha():
            raise pytest.UsageError(
                f"--optim-report={report}: unknown report format '{suffix}'; the report is written as "
                f"PATH.json and PATH.md, so give PATH, PATH.json or PATH.md")
        from pytest_optim.reporting.report import report_paths

        writable("--optim-report", report, report_paths(report)[0].parent)
    bench_json = config.getoption("optim_bench_json", None)
    if bench_json:
        writable("--optim-bench-json", bench_json, Path(bench_json).parent)
    plot = config.getoption("optim_bench_plot", None)
    if plot:
        if Path(plot).suffix.lower() not in PLOT_SUFFIXES:
            raise pytest.UsageError(
                f"--optim-bench-plot={plot}: unknown plot format '{Path(plot).suffix}'; "
                f"use one of {', '.join(PLOT_SUFFIXES)}")
        writable("--optim-bench-plot", plot, Path(plot).parent)
    cache = jax_cache_dir(config)
    if cache:
        if Path(cache).exists() and not Path(cache).is_dir():
            raise pytest.UsageError(f"--optim-jax-cache={cache}: is a file; give a directory for JAX's compilation cache")
        writable("--optim-jax-cache", cache, Path(cache))
    plots = config.getoption("optim_plots", None)
    if plots:
        if Path(plots).exists() and not Path(plots).is_dir():
            raise pytest.UsageError(f"--optim-plots={plots}: is a file; give a directory to write the plots into")
        writable("--optim-plots", plots, Path(plots))


def kwargs(config: pytest.Config) -> dict:
    """--optim-kwargs parsed: a JSON object of constructor keywords (UsageError otherwise)."""
    import json

    value = config.getoption("optim_kwargs", None)
    if not value:
        return {}
    try:
        out = json.loads(value)
    except json.JSONDecodeError as exc:
        raise UsageError(f"--optim-kwargs={value}: not JSON ({exc.msg} at column {exc.colno}); "
                         "expected an object such as '{\"foreach\": true}'") from None
    if not isinstance(out, dict):
        raise UsageError(f"--optim-kwargs={value}: expected a JSON object of keyword: value, got {type(out).__name__}")
    return out


def hyperparameters(config: pytest.Config) -> dict:
    """--optim-hp parsed: NAME=VALUE,... as floats (UsageError otherwise)."""
    from pytest_optim.specs.reference import parse_hp

    value = config.getoption("optim_hp", None)
    try:
        return parse_hp(value)
    except ValueError as exc:
        raise UsageError(f"--optim-hp={value}: {exc}; expected NAME=VALUE[,NAME=VALUE...], e.g. b1=0.9,eps=1e-8") from None


def jax_cache_dir(config: pytest.Config) -> str | None:
    """--optim-jax-cache, else the ini value optim_jax_cache (relative to the rootdir), else None."""
    value = config.getoption("optim_jax_cache", None)
    if value:
        return value
    ini = config.getini("optim_jax_cache")
    return str(config.rootpath / ini) if ini else None


def _at_least(config: pytest.Config, dest: str, flag: str, low: float, what: str) -> None:
    value = config.getoption(dest, None)
    if value is not None and value < low:
        raise pytest.UsageError(f"{flag}={value}: must be at least {low}; expected {what}")


def writable(flag: str, value: str, folder: Path) -> None:
    """Create ``folder`` if needed and prove a file can be written in it."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".optim-write-check"):
            pass
    except OSError as exc:
        raise pytest.UsageError(
            f"{flag}={value}: cannot write to {folder} ({exc.strerror or exc}); choose a writable path"
        ) from None
