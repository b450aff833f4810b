"""pytest -n 2 gives the same verdicts as a serial run: every conformance suite, per check."""

from __future__ import annotations

import textwrap

from pytest_optim.verdicts import differences, main, verdicts


def test_parallel_and_serial_verdicts_are_identical_for_every_suite(pytester, monkeypatch):
    pytester.makepyfile(
        mine=textwrap.dedent(
            """
            import optax
            def nadam_as_adam(learning_rate, b1=0.9, b2=0.999, eps=1e-8):
                return optax.nadam(learning_rate, b1, b2, eps)
            """
        )
    )
    # No dataset: the workload checks are n/a in both runs (the data layer has its own tests).
    monkeypatch.delenv("PYTEST_OPTIM_DATA_SOURCE", raising=False)
    args = ["--optim=mine:nadam_as_adam", "--optim-reference=adam", "-p", "no:randomly",
            f"--optim-data-dir={pytester.path / 'no-data'}"]
    serial = pytester.runpytest_subprocess(*args, "--optim-report=serial")
    parallel = pytester.runpytest_subprocess(*args, "-n", "2", "--optim-report=parallel")
    assert serial.ret == parallel.ret == 1
    a, b = verdicts(pytester.path / "serial.json"), verdicts(pytester.path / "parallel.json")
    assert differences(a, b) == []
    assert main([str(pytester.path / "serial.json"), str(pytester.path / "parallel.json")]) == 0
    # one check of each suite is there, and all three verdicts occur (NAdam is not Adam)
    checks = {test.split("[")[0] for _, test in a}
    assert {"test_matches_oracle", "test_matches_optax", "test_first_two_steps", "test_pure",
            "test_sharded_parameters_on_4_devices", "test_trains"} <= checks
    assert {"passed", "failed", "n/a"} <= set(a.values())
    assert len(a) >= 50


def test_verdict_comparison_lists_differences(tmp_path, capsys):
    import json

    def report(name, verdict):
        doc = {"candidates": {"adam": {"families": {"oracle": {"checks": [
            {"test": "test_oracle.py::test_matches_oracle[adam-x]", "verdict": verdict}]}}}}}
        (tmp_path / name).write_text(json.dumps(doc))
        return str(tmp_path / name)

    assert main([report("a.json", "passed"), report("b.json", "failed")]) == 1
    assert "adam test_oracle.py::test_matches_oracle[adam-x]: passed vs failed" in capsys.readouterr().out
