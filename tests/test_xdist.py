"""pytest -n 2 gives the same verdicts as a serial run (per test, from the JSON report)."""

from __future__ import annotations

import json
import textwrap


def _verdicts(path):
    doc = json.loads(path.read_text())
    return {
        (cand, check["test"]): check["verdict"]
        for cand, entry in doc["candidates"].items()
        for row in entry["families"].values()
        for check in row["checks"]
    }


def test_parallel_and_serial_verdicts_are_identical(pytester):
    pytester.makepyfile(
        mine=textwrap.dedent(
            """
            import optax
            def adam(learning_rate, b1=0.9, b2=0.999, eps=1e-8):
                return optax.adam(learning_rate, b1, b2, eps)
            def nadam_as_adam(learning_rate, b1=0.9, b2=0.999, eps=1e-8):
                return optax.nadam(learning_rate, b1, b2, eps)
            """
        )
    )
    args = ["--optim=mine:adam,mine:nadam_as_adam", "--optim-reference=adam", "-p", "no:randomly",
            "-k", "test_matches_oracle and quadratic_k10 or test_first_two_steps or test_pure or test_dtypes"]
    serial = pytester.runpytest_subprocess(*args, "--optim-report=serial")
    parallel = pytester.runpytest_subprocess(*args, "-n", "2", "--optim-report=parallel")
    assert serial.ret == parallel.ret == 1
    a, b = _verdicts(pytester.path / "serial.json"), _verdicts(pytester.path / "parallel.json")
    assert a == b
    assert "failed" in a.values() and "passed" in a.values()
    assert len(a) >= 12
