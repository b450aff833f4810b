"""Mutation score: every deliberately buggy candidate fails through the CLI, every correct one passes.

The candidates and what must be concluded about each are in tests/candidates/manifest.py. They run
exactly as a user's would: `pytest --optim=MODULE:ATTR,... --optim-reference=NAME --optim-report=R`
in a fresh subprocess in an empty directory, one run per kind (correct, diagnosed, other buggy) with
every spec's candidates together as ``MODULE:ATTR@SPEC``, spread over 2 workers; each test below
then reads the verdict for one candidate from the report.

Speed: the subprocesses set JAX_DISABLE_MOST_OPTIMIZATIONS=1 (XLA compiles ~1.5x faster; the
verdicts do not depend on it: every tolerance is derived for any correct evaluation order).
Correct candidates run every check. Buggy ones whose diagnosis is asserted run the checks that
compare with the float64 oracle (NON_DIAGNOSING lists the others); the other buggy ones run
everything with --optim-fail-fast (they stop at their first failed check). Measured on the
2-core CI machine: every check for every candidate took 49 min (45 min CPU); the 21 diagnosed
bugs alone went from about 21 to 8 min CPU with the oracle-only selection.
"""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path

import pytest

from tests.candidates.manifest import CANDIDATES

ROOT = Path(__file__).resolve().parent.parent
KEY = re.compile(r"\[([a-z][a-z0-9_]*)\]")  # a convention's key, as a failure names it: [torch_nadam]
# Checks that compare with something other than the float64 oracle and so never name a known
# convention ([eps_inside_sqrt], ...). A diagnosed bug skips them: what is asserted of it is the
# diagnosis, which any oracle comparison may give (the mixed-dtype tree check gives
# [global_statistics], for instance).
NON_DIAGNOSING = ("test_sharded_parameters_on_4_devices", "test_vmap_matches_loop", "test_jit_matches_eager",
                  "test_scan_matches_eager", "test_pure", "test_no_recompilation", "test_converges_to_minimizer",
                  "test_matches_optax", "test_trains", "test_linear_rate_at_optimal_tuning")
DIAGNOSING_CHECKS = f"not ({' or '.join(NON_DIAGNOSING)})"


def _target(c, wrappers: list[str]) -> str:
    """NumPy-style classes are wrapped with the documented adapter in a small generated module."""
    if c.adapter != "numpy":
        return c.target
    module, attr = c.target.split(":")
    name = f"wrapped_{len(wrappers)}"
    wrappers.append(
        f"from {module} import {attr} as _{name}\n"
        f"{name} = numpy_optimizer(_{name}, rename={c.rename!r})\n"
    )
    return f"numpy_wrappers:{name}"


@pytest.fixture(scope="session")
def mutation_reports(tmp_path_factory):
    """Run the CLI per spec and kind over its candidates; {target: (report entry, exit status, output tail)}."""
    workdir = tmp_path_factory.mktemp("mutants")
    wrappers: list[str] = []
    targets = {c.key: _target(c, wrappers) for c in CANDIDATES}
    (workdir / "numpy_wrappers.py").write_text(
        "from pytest_optim.candidates.numpy_style import numpy_optimizer\n" + "".join(wrappers)
    )
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), str(workdir)]),
               JAX_DISABLE_MOST_OPTIMIZATIONS="1")
    results = {}
    import subprocess

    env.pop("PYTEST_OPTIM_DATA_SOURCE", None)  # the workloads are not part of the mutation score
    empty_data = workdir / "no-data"
    # One run per kind, every spec's candidates together (MODULE:ATTR@SPEC), spread over 2 workers.
    kinds = {
        "correct": ([c for c in CANDIDATES if c.expect == "pass"], []),
        "diagnosed": ([c for c in CANDIDATES if c.expect == "fail" and c.diagnosis], ["-k", DIAGNOSING_CHECKS]),
        "quick": ([c for c in CANDIDATES if c.expect == "fail" and not c.diagnosis], ["--optim-fail-fast"]),
    }
    for kind, (group, extra) in kinds.items():
        report = workdir / f"report-{kind}"
        labels = {c.key: f"{targets[c.key]}@{c.reference}" for c in group}
        cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-n", "2",
               f"--optim={','.join(labels.values())}", f"--optim-report={report}",
               f"--optim-data-dir={empty_data}", "-W", "ignore", *extra]
        proc = subprocess.run(cmd, cwd=workdir, env=env, capture_output=True, text=True, timeout=3000)
        output = proc.stdout[-3000:] + proc.stderr[-2000:]
        doc = json.loads(Path(f"{report}.json").read_text())
        for c in group:
            results[c.key] = (doc["candidates"].get(labels[c.key]), proc.returncode, output)
    return results


# All mutation tests share one session fixture: keep them on one xdist worker (--dist loadgroup).
pytestmark = pytest.mark.xdist_group("mutants")


@pytest.mark.parametrize("cand", [c for c in CANDIDATES if c.expect == "fail"], ids=lambda c: f"{c.target.split('.')[-1]}@{c.reference}")
def test_buggy_candidate_is_caught(cand, mutation_reports):
    entry, code, output = mutation_reports[cand.key]
    assert entry is not None, output
    assert code == 1, f"exit status {code}, expected 1 (checks failed)\n{output}"
    assert entry["failed"] > 0, f"{cand.target} ({cand.bug}) slipped through every check"
    if cand.diagnosis:
        messages = " ".join(f["message"] for fam in entry["families"].values() for f in fam["failures"])
        assert f"[{cand.diagnosis}]" in messages, (
            f"{cand.target}: failed, but no failure names the known alternative [{cand.diagnosis}]:\n{messages[:2000]}"
        )
    if cand.only:  # a real library: nothing it does not follow is ever named, and both dtypes name it
        named = {dtype: set() for dtype in ("float32", "float64")}
        for fam in entry["families"].values():
            for f in fam["failures"]:
                keys = set(KEY.findall(f["message"].partition("the candidate matches instead:")[2]))
                assert keys <= {cand.diagnosis}, f"{cand.target}: {f['test']} names {keys}:\n{f['message']}"
                for dtype in named:
                    if dtype in f["test"] or f", {dtype}," in f["message"]:
                        named[dtype] |= keys
        assert all(cand.diagnosis in keys for keys in named.values()), named


@pytest.mark.parametrize("cand", [c for c in CANDIDATES if c.expect == "pass"], ids=lambda c: f"{c.target.split('.')[-1]}@{c.reference}")
def test_correct_candidate_passes(cand, mutation_reports):
    entry, _, output = mutation_reports[cand.key]
    assert entry is not None, output
    failures = [f"{fam}: {f['test']}: {f['message'][:400]}" for fam, row in entry["families"].items() for f in row["failures"]]
    assert entry["failed"] == 0, f"{cand.target} ({cand.style}) is correct but failed:\n" + "\n".join(failures)
    assert entry["passed"] > 20
