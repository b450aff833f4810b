"""Fixtures of the bench suites. Imports nothing heavy at load time.

Registered as a plugin by ``pytest_optim.plugin``: besides the fixtures it prints the
benchmark summary table at the end of the run and writes the optional plot and
``--optim-bench-json``.
"""

from __future__ import annotations

import json
import math

import pytest

BENCH_RESULTS = pytest.StashKey[list]()
BENCH_STATS = pytest.StashKey[list]()  # pytest-benchmark's public ``benchmark.stats`` of each benchmark
BENCH_JSON_NOTE = pytest.StashKey[tuple]()  # (message, colour) for the end-of-run summary
DEFAULT_ROUNDS = {"smoke": 3, "full": 11}
ROUND_SECONDS = {"smoke": 0.004, "full": 0.02}  # target length of one timed round


class BenchSettings:
    """What ``--optim-bench*`` asked for; ``mode`` is None when benchmarks are off."""

    def __init__(self, config: pytest.Config):
        self.mode = config.getoption("optim_bench", None)
        rounds = config.getoption("optim_bench_rounds", None)
        self.rounds = rounds if rounds else DEFAULT_ROUNDS.get(self.mode or "smoke")
        self.round_s = ROUND_SECONDS.get(self.mode or "smoke")
        self.plot = config.getoption("optim_bench_plot", None)

    @property
    def on(self) -> bool:
        return self.mode is not None


@pytest.fixture(scope="session")
def optim_bench_settings(request) -> BenchSettings:
    """Benchmark mode, rounds and round length (from --optim-bench, --optim-bench-rounds)."""
    return BenchSettings(request.config)


@pytest.fixture(scope="session")
def optim_bench_results(request) -> list:
    """Session list of every benchmark's extra_info (for the summary table and the plot)."""
    return request.config.stash.setdefault(BENCH_RESULTS, [])


@pytest.fixture
def optim_bench_keep_stats(request):
    """Call with the test's pytest-benchmark fixture once it has timed: its public ``stats`` go
    into ``--optim-bench-json`` (nothing is kept when benchmarking is disabled: ``stats`` is None)."""

    def keep(bench_fixture) -> None:
        stats = getattr(bench_fixture, "stats", None)
        if stats is not None:
            request.config.stash.setdefault(BENCH_STATS, []).append(stats)

    return keep


# -- end of run: --optim-bench-json ----------------------------------------------------------------


def _json_default(obj):
    """What json cannot encode (test parameters such as a Candidate), as pytest-benchmark's own
    --benchmark-json writes it."""
    return f"UNSERIALIZABLE[{obj!r}]"


def bench_json_document(config: pytest.Config, benchmarks: list) -> dict:
    """pytest-benchmark's JSON document for ``benchmarks`` (its ``stats`` objects), built with its
    documented hooks only, as --benchmark-json would: machine and commit info, every timing."""
    hook = config.hook
    machine_info = hook.pytest_benchmark_generate_machine_info(config=config)
    hook.pytest_benchmark_update_machine_info(config=config, machine_info=machine_info)
    commit_info = hook.pytest_benchmark_generate_commit_info(config=config)
    hook.pytest_benchmark_update_commit_info(config=config, commit_info=commit_info)
    doc = hook.pytest_benchmark_generate_json(
        config=config, benchmarks=benchmarks, include_data=True, machine_info=machine_info, commit_info=commit_info,
    )
    hook.pytest_benchmark_update_json(config=config, benchmarks=benchmarks, output_json=doc)
    return doc


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Write --optim-bench-json atomically once the run is over; an interrupted run (Ctrl-C)
    leaves the previous file byte for byte."""
    config = session.config
    path = config.getoption("optim_bench_json", None)
    if not path:
        return
    if exitstatus == pytest.ExitCode.INTERRUPTED:
        config.stash[BENCH_JSON_NOTE] = (f"benchmark JSON: run interrupted; {path} left as it was", "yellow")
        return
    benchmarks = config.stash.get(BENCH_STATS, [])
    if not benchmarks:
        if not hasattr(config, "workerinput"):  # an xdist worker says nothing; its controller does
            config.stash[BENCH_JSON_NOTE] = (
                f"benchmark JSON NOT written to {path}: no benchmark was timed (none selected, "
                "--benchmark-disable, or disabled by pytest-benchmark under xdist)", "yellow")
        return
    from pytest_optim import atomic

    try:
        doc = bench_json_document(config, benchmarks)
        atomic.write_text(path, json.dumps(doc, ensure_ascii=True, indent=4, default=_json_default))
    except Exception as exc:  # noqa: BLE001 - reported in the summary like a failed plot
        config.stash[BENCH_JSON_NOTE] = (f"benchmark JSON NOT written ({type(exc).__name__}: {exc})", "red")
    else:
        config.stash[BENCH_JSON_NOTE] = (f"benchmark JSON written to {path}", "")


# -- end of run: the summary table and the plot --------------------------------------------------


def _fmt_t(s: float) -> str:
    if s is None or not math.isfinite(s):
        return "-"
    if s < 1e-3:
        return f"{s * 1e6:.2f}us"
    return f"{s * 1e3:.3f}ms"


def _fmt_x(x, digits=2) -> str:
    return "-" if x is None or not math.isfinite(x) else f"{x:.{digits}f}"


def summary_lines(results: list[dict]) -> list[str]:
    """The end-of-run table: one row per benchmark (optimizer x workload x figure)."""
    if not results:
        return []
    lines = [f"device: {results[0]['device']} (backend {results[0]['backend']}), float32, "
             "ratios = median of per-round ratios (ours/optax/floor interleaved)"]
    head = (f"{'optimizer':<12} {'workload':<12} {'figure':<8} {'params':>9} {'ours/step':>10} "
            f"{'optax/step':>10} {'floor/step':>10} {'vs optax':>8} {'x floor':>7} {'optax x fl':>10} "
            f"{'GB/s':>6} {'target':>10} {'compile':>8}")
    lines += [head, "-" * len(head)]
    order = {"dispatch": 0, "compute": 1}
    for r in sorted(results, key=lambda r: (order.get(r["figure"], 2), r["optimizer"], r["workload_kind"] != "size",
                                            r["n_params"], r["workload"])):
        target = ""
        if "target_x_floor" in r:
            target = f"<={r['target_x_floor']:.2f} {'ok' if r['target_x_floor_met'] else 'MISS'}"
        if not r.get("target_vs_optax_met", True):
            target = (target + " >optax").strip()
        lines.append(
            f"{r['optimizer'][:12]:<12} {r['workload']:<12} {r['figure']:<8} {r['n_params']:>9} "
            f"{_fmt_t(r['ours_step_s']):>10} {_fmt_t(r['optax_step_s']):>10} {_fmt_t(r['floor_step_s']):>10} "
            f"{_fmt_x(r['ours_vs_optax']):>8} {_fmt_x(r['ours_x_floor']):>7} {_fmt_x(r['optax_x_floor']):>10} "
            f"{_fmt_x(r['ours_gbps'], 1):>6} {target:>10} {r['ours_compile_s']:>7.2f}s"
        )
    return lines


def pytest_terminal_summary(terminalreporter, exitstatus, config: pytest.Config) -> None:
    results = config.stash.get(BENCH_RESULTS, [])
    if results:
        terminalreporter.write_sep("=", "pytest-optim benchmarks: step time per optimizer step")
        for line in summary_lines(results):
            terminalreporter.write_line(line)
    plot = config.getoption("optim_bench_plot", None)
    if results and plot:
        try:
            from pytest_optim.bench.plot import write_plot

            write_plot(results, plot)
            terminalreporter.write_line(f"benchmark plot written to {plot}")
        except Exception as exc:  # noqa: BLE001 - a failed plot must not hide the table
            terminalreporter.write_line(f"benchmark plot NOT written ({type(exc).__name__}: {exc})")
    note = config.stash.get(BENCH_JSON_NOTE, None)  # set by pytest_sessionfinish, which runs first
    if note is not None:
        message, colour = note
        terminalreporter.write_line(message, **({colour: True} if colour else {}))
