"""The plugin seen from the command line: usage errors, exit codes, header, report, hygiene."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

from pytest_optim.compile_mode import FAST_XLA_FLAGS

GOOD = textwrap.dedent(
    """
    import optax
    def adam(learning_rate, b1=0.9, b2=0.999, eps=1e-8):
        return optax.adam(learning_rate, b1, b2, eps)
    """
)


@pytest.mark.parametrize(
    "args, message",
    [
        (["--optim=nosuch"], "unknown optimizer 'nosuch'. Bundled names: sgd, momentum, nesterov"),
        (["--optim=adam,"], "has an empty name"),
        (["--optim=nosuchmod:adam", "--optim-reference=adam"], "cannot import module 'nosuchmod'"),
        (["--optim=mine:nothere", "--optim-reference=adam"], "has no attribute 'nothere'"),
        (["--optim=mine:adam"], "needs --optim-reference=NAME"),
        (["--optim=mine:adam", "--optim-reference=adam_w"], "is not a canonical spec"),
        (["--optim=broken:adam", "--optim-reference=adam"], "importing 'broken' raised ZeroDivisionError"),
        (["--optim=mine:VALUE", "--optim-reference=adam"], "expected a factory"),
        (["--optim=:adam", "--optim-reference=adam"], "expected MODULE:ATTR"),
        (["--optim=sgd", "--optim-reference=adam"], "only applies"),
        (["--optim=sgd", "--optim-report=/proc/nope/report"], "--optim-report=/proc/nope/report: cannot write"),
        (["--optim=sgd", "--optim-seed=minus"], "invalid int value"),
        (["--optim=sgd", "--optim-seed=-1"], "--optim-seed=-1: must be at least 0"),
        (["--optim=sgd", "--optim-timeout=-5"], "--optim-timeout=-5.0: must be at least 0"),
        (["--optim=sgd", "--optim-bench-rounds=0"], "--optim-bench-rounds=0: must be at least 1"),
        (["--optim=sgd", "--optim-bench=huge"], "invalid choice: 'huge'"),
        (["--optim=sgd", "--optim-compile=slow"], "invalid choice: 'slow'"),
        (["--optim=sgd", "--optim-report=out.html"], "unknown report format '.html'"),
        (["--optim=sgd", "--optim-bench-plot=plot.bmpx"], "unknown plot format '.bmpx'"),
        (["--optim=sgd", "--optim-bench-plot=/proc/nope/b.png"], "--optim-bench-plot=/proc/nope/b.png: cannot write"),
        (["--optim=sgd", "--optim-plots=/proc/nope"], "--optim-plots=/proc/nope: cannot write"),
        (["--optim=sgd", "--optim-plots=mine.py"], "--optim-plots=mine.py: is a file"),
        (["--optim=sgd", "--optim-bench-json=a.json", "--benchmark-json=b.json"], "give either --optim-bench-json"),
        (["--optim=sgd", "--optim-require=schedules,warp"], "--optim-require: unknown capability warp"),
        (["--optim-spec=nosuchspec", "--optim=sgd"], "--optim-spec=nosuchspec: importing it raised ModuleNotFoundError"),
        (["--optim-spec=mine", "--optim=sgd"], "--optim-spec=mine: the module defines no SPEC"),
    ],
    ids=["unknown", "empty", "no-module", "no-attr", "no-reference", "bad-reference",
         "import-raises", "not-callable", "malformed", "reference-for-bundled", "report-unwritable",
         "bad-seed", "negative-seed", "negative-timeout", "zero-rounds", "bench-mode", "compile-mode", "report-format",
         "plot-format", "plot-unwritable", "plots-unwritable", "plots-is-file", "two-bench-json",
         "unknown-capability", "spec-no-module", "spec-no-record"],
)
def test_usage_errors_exit_4_with_one_line(pytester, args, message):
    pytester.makepyfile(mine=GOOD + "\nVALUE = 3\n", broken="x = 1 / 0\n")
    result = pytester.runpytest_subprocess(*args)
    assert result.ret == 4
    err = result.stderr.str()
    assert message in err, err
    assert "Traceback" not in err + result.stdout.str()


def test_factory_rejecting_a_keyword_is_named(pytester):
    pytester.makepyfile(mine="def adam(lr, b1=0.9, b2=0.999, eps=1e-8):\n    pass\n")
    result = pytester.runpytest_subprocess("--optim=mine:adam", "--optim-reference=adam")
    assert result.ret == 4
    assert "does not accept keyword(s) learning_rate" in result.stderr.str()


def test_plugin_module_imports_no_jax():
    code = ("import sys, pytest_optim.plugin; "
            "print([m for m in ('jax', 'torch', 'keras', 'optax') if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_public_api_is_lazy_and_every_name_resolves():
    code = ("import sys, pytest_optim as po; before = 'jax' in sys.modules; "
            "missing = [n for n in po.__all__ if getattr(po, n, None) is None]; "
            "print(before, missing, 'jax' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False [] True"  # nothing heavy until a name is used; all resolve


def test_disabled_with_p_no_optim(pytester):
    pytester.makepyfile(test_x="def test_ok():\n    pass\n")
    result = pytester.runpytest_subprocess("-p", "no:optim")
    result.assert_outcomes(passed=1)
    assert "optim:" not in result.stdout.str()


SHOW_COMPILE_MODE = """
import os, jax
def test_mode():
    print("MODE", os.environ.get("XLA_FLAGS"), jax.config.read("jax_disable_most_optimizations"),
          os.environ.get("JAX_DISABLE_MOST_OPTIMIZATIONS"))
"""


@pytest.mark.parametrize("args, flags, disabled, header", [
    ([], " ".join(FAST_XLA_FLAGS), "True 1", "compile fast (jax_disable_most_optimizations, XLA_FLAGS"),
    (["--optim-compile=as-configured"], "None", "False None", "compile as configured"),
    (["--optim-bench=smoke"], "None", "False None", "compile as configured (benchmarks measure run time)"),
], ids=["fast", "as-configured", "benchmarks"])
@pytest.mark.parametrize("parent", ["clean", "fast"])
def test_compile_mode_reaches_jax_and_the_processes_it_starts(pytester, monkeypatch, args, flags, disabled, header,
                                                              parent):
    """--optim-compile=fast (the default) sets JAX's flag and XLA_FLAGS (inherited by xdist workers and
    subprocesses); as-configured, or a benchmark run, compiles as the user configured it, also when
    started by a fast run (whose settings it inherits and takes out)."""
    for name in ("XLA_FLAGS", "JAX_DISABLE_MOST_OPTIMIZATIONS", "PYTEST_OPTIM_FAST_COMPILE"):
        monkeypatch.delenv(name, raising=False)
    if parent == "fast":  # what a fast run leaves to the processes it starts
        monkeypatch.setenv("XLA_FLAGS", " ".join(FAST_XLA_FLAGS))
        monkeypatch.setenv("JAX_DISABLE_MOST_OPTIMIZATIONS", "1")
        monkeypatch.setenv("PYTEST_OPTIM_FAST_COMPILE", " ".join(["JAX_DISABLE_MOST_OPTIMIZATIONS", *FAST_XLA_FLAGS]))
    pytester.makepyfile(test_mode=SHOW_COMPILE_MODE)
    result = pytester.runpytest_subprocess("--optim=sgd", "-s", "test_mode.py", *args)
    result.assert_outcomes(passed=1)
    out = result.stdout.str()
    assert f"MODE {flags} {disabled}" in out and f"optim: {header}" in out, out


def test_compile_mode_uses_only_flags_this_xla_accepts():
    """XLA aborts on a flag it does not know: a flag is used only after a child process started with it."""
    from types import SimpleNamespace

    from pytest_optim.compile_mode import FAST_XLA_FLAGS, _accepted

    no_cache = SimpleNamespace(cache=None)
    assert _accepted(no_cache, list(FAST_XLA_FLAGS))
    assert not _accepted(no_cache, ["--xla_no_such_flag_of_any_release=true"])


@pytest.mark.parametrize("added, options", [
    ("JAX_DISABLE_MOST_OPTIMIZATIONS --xla_cpu_use_fusion_emitters=false --xla_cpu_parallel_codegen_split_count=1",
     {"xla_cpu_use_fusion_emitters": True, "xla_cpu_parallel_codegen_split_count": 32}),
    ("JAX_DISABLE_MOST_OPTIMIZATIONS --xla_cpu_parallel_codegen_split_count=1",  # the user set the other
     {"xla_cpu_parallel_codegen_split_count": 32}),
    ("JAX_DISABLE_MOST_OPTIMIZATIONS", None),  # the user set both XLA flags: they stay theirs
], ids=["fast-run", "user-flag", "user-flags"])
def test_compiled_for_run_time_undoes_only_what_the_fast_run_added(monkeypatch, added, options):
    """A workload's training compiles as configured in a fast run: JAX's flag off while it is
    traced and compiled, and the XLA flags that run added overridden for that program only."""
    import jax
    import jax.numpy as jnp

    from pytest_optim.compile_mode import compiled_for_run_time

    monkeypatch.setenv("PYTEST_OPTIM_FAST_COMPILE", added)
    before = jax.config.read("jax_disable_most_optimizations")
    jax.config.update("jax_disable_most_optimizations", True)
    seen, real_jit = {}, jax.jit

    def recording_jit(fun, **kwargs):
        seen["kw"] = kwargs
        return real_jit(fun, **kwargs)

    monkeypatch.setattr(jax, "jit", recording_jit)
    try:
        def body(x):
            seen["disabled while compiled"] = jax.config.read("jax_disable_most_optimizations")
            return x * 2.0

        out = compiled_for_run_time(body)(jnp.ones(3))  # this XLA compiles it with the override
        assert float(out.sum()) == 6.0
        assert seen["disabled while compiled"] is False
        assert jax.config.read("jax_disable_most_optimizations") is True  # the checks' programs: still fast
        assert seen["kw"].get("compiler_options") == options
    finally:
        jax.config.update("jax_disable_most_optimizations", before)


def test_help_lists_the_optim_group(pytester):
    result = pytester.runpytest_subprocess("--help")
    out = result.stdout.str()
    assert "pytest-optim" in out and "--optim=NAME" in out and "--optim-reference=NAME" in out


def test_third_party_run_from_an_empty_directory_writes_report(pytester):
    """From a directory with no tests: the bundled suites are collected; header, table, report."""
    pytester.makepyfile(mine=GOOD)
    result = pytester.runpytest_subprocess(
        "--optim=mine:adam", "--optim-reference=adam", "--optim-report=out/report",
        "-k", "test_matches_oracle and quadratic_k10 or test_first_two_steps or test_pure",
    )
    assert result.ret == 0, result.stdout.str()[-3000:]
    out = result.stdout.str()
    assert "optim: mine:adam (as adam)" in out
    assert "x64 on, seed 0" in out
    assert "pytest-optim conformance" in out and "mine:adam: PASS" in out
    doc = json.loads((pytester.path / "out" / "report.json").read_text())
    entry = doc["candidates"]["mine:adam"]
    assert entry["failed"] == 0 and entry["passed"] >= 4
    assert "oracle" in entry["families"] and "purity" in entry["families"]
    assert "| oracle |" in (pytester.path / "out" / "report.md").read_text()


def test_ready_made_transform_skips_checks_that_need_a_factory(pytester):
    pytester.makepyfile(mine="import optax\nADAM = optax.adam(0.01)\n")
    result = pytester.runpytest_subprocess(
        "--optim=mine:ADAM", "--optim-reference=adam", "-rs",
        "-k", "test_hyperparameter_honoured and b1 and float64 or test_matches_oracle and quadratic_k10-float64-300steps",
    )
    assert result.ret == 0, result.stdout.str()[-3000:]
    out = result.stdout.str()
    assert "ready-made transform" in out and "pass a factory instead" in out
    result.assert_outcomes(passed=1, skipped=1)


def test_failing_candidate_exits_1_and_names_the_bug(pytester):
    pytester.makepyfile(
        mine=textwrap.dedent(
            """
            import optax
            def rmsprop(learning_rate, decay=0.9, eps=1e-8):
                return optax.rmsprop(learning_rate, decay, eps)  # eps inside the sqrt (optax default)
            """
        )
    )
    result = pytester.runpytest_subprocess(
        "--optim=mine:rmsprop", "--optim-reference=rmsprop", "--optim-report=r",
        "-k", "test_matches_oracle and grad_x1e-06",
    )
    assert result.ret == 1
    out = result.stdout.str()
    assert "first diverging step 1" in out
    assert "[eps_inside_sqrt]" in out
    assert "Traceback" not in out
    assert json.loads((pytester.path / "r.json").read_text())["candidates"]["mine:rmsprop"]["failed"] == 2


def test_candidate_that_raises_fails_its_checks_and_the_rest_runs(pytester):
    pytester.makepyfile(
        mine=textwrap.dedent(
            """
            import optax
            def adam(learning_rate, b1=0.9, b2=0.999, eps=1e-8):
                if b1 != 0.9:
                    raise RuntimeError("only the default b1 is supported")
                return optax.adam(learning_rate, b1, b2, eps)
            """
        )
    )
    result = pytester.runpytest_subprocess(
        "--optim=mine:adam", "--optim-reference=adam", "--optim-report=r",
        "-k", "test_hyperparameter_honoured and b1 and float64 or test_pure",
    )
    assert result.ret == 1
    out = result.stdout.str()
    assert "RuntimeError: only the default b1 is supported" in out
    result.assert_outcomes(passed=1, failed=1)
    assert (pytester.path / "r.json").exists() and (pytester.path / "r.md").exists()


def test_hanging_candidate_fails_that_check_and_the_run_goes_on(pytester):
    pytester.makepyfile(
        mine=textwrap.dedent(
            """
            import time, optax
            def adam(learning_rate, b1=0.9, b2=0.999, eps=1e-8):
                inner = optax.adam(learning_rate, b1, b2, eps)
                def update(g, s, p=None):
                    if b1 != 0.9:
                        time.sleep(600)  # hangs, but only for a non-default b1
                    return inner.update(g, s, p)
                return optax.GradientTransformation(inner.init, update)
            """
        )
    )
    # the limit only has to outlast test_pure (under a second on a 2-core CPU); the sleep is 600 s
    result = pytester.runpytest_subprocess(
        "--optim=mine:adam", "--optim-reference=adam", "--optim-timeout=10", "--optim-report=r",
        "-k", "test_hyperparameter_honoured and b1 and float64 or test_pure",
    )
    assert result.ret == 1
    result.assert_outcomes(passed=1, failed=1)
    doc = json.loads((pytester.path / "r.json").read_text())
    (failure,) = doc["candidates"]["mine:adam"]["families"]["hyperparameters"]["failures"]
    assert "did not finish this check in time" in failure["message"]


def test_wrong_tree_from_candidate_is_one_clear_message(pytester):
    pytester.makepyfile(
        mine=textwrap.dedent(
            """
            import jax, optax
            def adam(learning_rate, b1=0.9, b2=0.999, eps=1e-8):
                inner = optax.adam(learning_rate, b1, b2, eps)
                def update(g, s, p=None):
                    u, s = inner.update(g, s, p)
                    return jax.tree.leaves(u), s  # a list of leaves instead of the gradients' tree
                return optax.GradientTransformation(inner.init, update)
            """
        )
    )
    result = pytester.runpytest_subprocess("--optim=mine:adam", "--optim-reference=adam", "-k", "test_pure")
    assert result.ret == 1
    out = result.stdout.str()
    assert "updates have the wrong tree structure" in out and "Traceback" not in out


FAULTY = textwrap.dedent(
    """
    import jax, jax.numpy as jnp, optax
    def _wrap(fault):
        def factory(learning_rate, b1=0.9, b2=0.999, eps=1e-8):
            inner = optax.adam(learning_rate, b1, b2, eps)
            def update(g, s, p=None):
                u, s = inner.update(g, s, p)
                return jax.tree.map(fault, u), s
            return optax.GradientTransformation(inner.init, update)
        return factory
    nan = _wrap(lambda u: u * jnp.nan)
    inf = _wrap(lambda u: u / 0.0)
    f16 = _wrap(lambda u: u.astype(jnp.float16))
    def no_methods(learning_rate, b1=0.9, b2=0.999, eps=1e-8):
        return {"learning_rate": learning_rate}  # not a transform
    """
)


@pytest.mark.parametrize(
    "fault, message, failed",
    [("nan", "got nan, the float64 oracle says -0 (non-finite update)", 1),
     ("inf", "(non-finite update)", 1),
     ("f16", "update leaf ['b'] has dtype float16 but the gradient is float32 (step 1)", 1),
     ("no_methods", "returned dict, which has no callable init; expected an object with init(params)", 2)],
    ids=["nan", "inf", "wrong-dtype", "not-a-transform"],
)
def test_faulty_updates_fail_that_check_with_a_message_and_the_report_is_whole(pytester, fault, message, failed):
    pytester.makepyfile(mine=FAULTY)
    result = pytester.runpytest_subprocess(
        f"--optim=mine:{fault}", "--optim-reference=adam", "--optim-report=r",
        "-k", "test_zero_gradients and float32 or test_no_recompilation",
    )
    assert result.ret == 1
    result.assert_outcomes(passed=2 - failed, failed=failed)
    out = result.stdout.str()
    assert message in out and "Traceback" not in out
    doc = json.loads((pytester.path / "r.json").read_text())
    summary = doc["candidates"][f"mine:{fault}"]
    assert (summary["passed"], summary["failed"]) == (2 - failed, failed)
    assert "FAIL" in (pytester.path / "r.md").read_text()


def test_interrupted_run_keeps_the_previous_report(pytester):
    args = ["--optim=sgd", "--optim-report=r", "-k", "test_pure or test_dtypes_preserved", "-p", "no:randomly"]
    assert pytester.runpytest_subprocess(*args).ret == 0
    before = (pytester.path / "r.json").read_bytes(), (pytester.path / "r.md").read_bytes()
    pytester.makepyfile(ctrl_c="def pytest_runtest_call(item):\n    raise KeyboardInterrupt\n")
    second = pytester.runpytest_subprocess(*args, "-p", "ctrl_c")
    assert second.ret == pytest.ExitCode.INTERRUPTED
    assert "run interrupted; r left as it was" in second.stdout.str()
    assert ((pytester.path / "r.json").read_bytes(), (pytester.path / "r.md").read_bytes()) == before


def test_third_party_bench_json_is_atomic_and_survives_an_interrupted_run(pytester, monkeypatch):
    # under an outer `pytest -n 2` the worker's variable would make pytest-benchmark disable itself
    monkeypatch.delenv("PYTEST_XDIST_WORKER", raising=False)
    # a third-party candidate gets the same benchmarks, summary table and JSON as a bundled one
    pytester.makepyfile(mine=GOOD)
    args = ["--optim=mine:adam", "--optim-reference=adam", "--optim-bench=smoke", "--optim-bench-rounds=1",
            "--optim-bench-json=b.json", "-k", "test_step_time and n1e3 and dispatch", "-p", "no:randomly"]
    first = pytester.runpytest_subprocess(*args)
    assert first.ret == 0, first.stdout.str()
    first.stdout.fnmatch_lines(["*pytest-optim benchmarks*", "*vs optax*x floor*", "mine:adam*n1e3*dispatch*"])
    doc = json.loads((pytester.path / "b.json").read_text())
    (bench,) = doc["benchmarks"]
    assert doc["machine_info"] and bench["extra_info"]["optimizer"] == "mine:adam"
    assert bench["extra_info"]["spec"] == "adam" and bench["extra_info"]["ours_vs_optax"] > 0
    before = (pytester.path / "b.json").read_bytes()
    # a second run interrupted (Ctrl-C) half-way keeps the first run's file as it was
    pytester.makepyfile(ctrl_c="def pytest_runtest_call(item):\n    raise KeyboardInterrupt\n")
    second = pytester.runpytest_subprocess(*args, "-p", "ctrl_c")
    assert second.ret == pytest.ExitCode.INTERRUPTED
    assert (pytester.path / "b.json").read_bytes() == before
    assert not list(pytester.path.glob(".b.json.*"))


def test_optim_seed_changes_the_data_not_the_verdicts(pytester):
    """--optim-seed reaches the random parts of the checks (problem data, test gradients) and a
    correct candidate gets the same verdicts under another seed."""
    import numpy as np

    from pytest_optim import seeding

    from pytest_optim.conformance import problems
    from pytest_optim.verdicts import differences, verdicts

    previous = seeding.set_seed(0)
    try:
        # seed 0 draws the numbers the checks used before the option reached them
        assert np.array_equal(seeding.rng(7).standard_normal(5), np.random.default_rng(7).standard_normal(5))
        lin0, quad0 = problems.get("linear_regression"), problems.get("quadratic_k1e4")
        seeding.set_seed(7)
        lin7, quad7 = problems.get("linear_regression"), problems.get("quadratic_k1e4")
        assert problems.get("linear_regression") is lin7  # cached per seed
        seeding.set_seed(0)
        assert problems.get("linear_regression") is lin0
    finally:
        seeding.set_seed(previous)
    assert not np.allclose(lin0.minimizer, lin7.minimizer) and lin0.L != lin7.L  # other data
    assert not np.allclose(quad0.x0, quad7.x0) and not np.allclose(quad0.extra["Q"], quad7.extra["Q"])
    np.testing.assert_array_equal(quad0.extra["eigenvalues"], quad7.extra["eigenvalues"])  # same conditioning
    assert (quad7.mu, quad7.L) == (quad0.mu, quad0.L) == (1e-4, 1.0)

    # about 20 checks using problems, property gradients, and the first-two-steps gradients
    checks = ("test_matches_oracle and quadratic_k10 and 300steps or test_first_two_steps or "
              "test_closed_form and float64 or test_zero_gradients or test_permutation or "
              "test_gradient_scale or test_dtypes_preserved")
    reports = {}
    for seed in (0, 7):
        result = pytester.runpytest_subprocess("--optim=sgd,adam", f"--optim-seed={seed}", f"--optim-report=r{seed}",
                                               "-k", checks, "-p", "no:randomly")
        assert result.ret == 0, result.stdout.str()[-3000:]
        assert f"x64 on, seed {seed}" in result.stdout.str()
        doc = json.loads((pytester.path / f"r{seed}.json").read_text())
        assert doc["seed"] == seed
        reports[seed] = doc
    a, b = verdicts(pytester.path / "r0.json"), verdicts(pytester.path / "r7.json")
    assert len(a) >= 18 and set(a.values()) == {"passed"}
    assert differences(a, b) == []

    def ratios(doc):
        return {(cand, check["test"]): (check.get("result") or {}).get("worst_ratio")
                for cand, entry in doc["candidates"].items()
                for row in entry["families"].values() for check in row["checks"]}

    # the measured errors moved with the data: the seed reached the checks in the run
    r0, r7 = ratios(reports[0]), ratios(reports[7])
    for key in (("adam", "test_matches_oracle[adam-quadratic_k10-float32-300steps]"),  # problems
                ("sgd", "test_closed_form_iterates[sgd-quadratic_k1e4-float64-100]"),
                ("adam", "test_first_two_steps[adam-float32]"),  # checks.py's gradients
                ("adam", "test_zero_gradients[adam-float32]")):  # properties.py's gradients
        assert r0[key] is not None and r0[key] != r7[key], key
