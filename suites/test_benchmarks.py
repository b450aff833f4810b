"""Step-time benchmarks: the candidate against optax's same rule and a memory-bandwidth floor.

Off unless ``--optim-bench[=smoke|full]`` is given. One test per optimizer x workload x figure
(``dispatch``: Python loop of jitted steps; ``compute``: steps inside one lax.scan). Inside a
test the three implementations run interleaved, round by round: pytest-benchmark times ours
(pedantic mode), its ``setup`` (untimed by pytest-benchmark) runs one optax round and one floor
round on our own timer. Per-step times, ratios, GB/s, compile times and the target go into
``benchmark.extra_info`` (and ``--optim-bench-json`` or ``--benchmark-json``). See docs/benchmarks.md.
"""

from __future__ import annotations

import pytest

pytestmark = [
    pytest.mark.optim_family("benchmark"),
    # a donated buffer XLA cannot reuse is a benchmark bug (the step would copy): fail on it
    pytest.mark.filterwarnings("error:Some donated buffers were not usable"),
]

FIGURES = ("dispatch", "compute")


def pytest_generate_tests(metafunc):
    if "bench_case" not in metafunc.fixturenames:
        return
    mode = metafunc.config.getoption("optim_bench", None)
    if mode is None:
        metafunc.parametrize("bench_case", [None], ids=["off"])
        return
    import jax

    from pytest_optim.bench.steps import workloads

    cases = [(w, f) for w in workloads(mode, jax.default_backend()) for f in FIGURES]
    metafunc.parametrize("bench_case", cases, ids=[f"{w.name}-{f}" for w, f in cases])


def test_step_time(optim_candidate, bench_case, benchmark, optim_bench_settings, optim_bench_results,
                   optim_bench_keep_stats):
    if bench_case is None:
        pytest.skip("benchmarks are off: run with --optim-bench (smoke) or --optim-bench=full")
    if not optim_candidate.traceable:
        pytest.skip(f"{optim_candidate.label} is NumPy-style (not traceable): no jitted step to time")
    from pytest_optim.bench import steps as bench

    workload, figure = bench_case
    settings = optim_bench_settings
    spec = optim_candidate.spec
    lr = bench.LEARNING_RATE
    steps = bench.steps_per_round(workload, figure, spec.bytes_per_param, settings.round_s)
    params = bench.make_params(workload)
    grads = bench.make_grads(params)

    runners = {
        "ours": bench.make_runner("ours", optim_candidate.make(lr), params, grads, figure, steps),
        "optax": bench.make_runner("optax", spec.optax_reference(lr), params, grads, figure, steps),
        "floor": bench.make_runner("floor", bench.floor_transform(lr), params, grads, figure, steps),
    }
    del params
    for r in runners.values():
        r.start(warmup_rounds=1)

    flip = [False]

    def others():  # one optax and one floor round, alternating which goes first
        order = ("optax", "floor") if flip[0] else ("floor", "optax")
        flip[0] = not flip[0]
        for name in order:
            runners[name].round()

    benchmark.pedantic(runners["ours"].round, setup=others, rounds=settings.rounds, iterations=1)

    for name, r in runners.items():  # repeated steps must not have recompiled
        assert r.cache_size() == 1, f"{name}: the jitted step was compiled {r.cache_size()} times"

    info = bench.summarize(label=optim_candidate.label, spec=spec, workload=workload,
                           figure=figure, steps=steps, runners=runners)
    if workload.kind == "size" and workload.n_params >= bench.TARGET_SIZE and figure == "dispatch":
        for name in ("ours", "optax"):
            transform = optim_candidate.make(lr) if name == "ours" else spec.optax_reference(lr)
            info[f"{name}_hlo"] = bench.memory_passes(bench.compiled_text(transform, workload), workload.n_params)
    benchmark.extra_info.update(info)
    optim_bench_results.append(info)
    optim_bench_keep_stats(benchmark)  # for --optim-bench-json
