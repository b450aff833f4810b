"""Mutation score: every deliberately buggy candidate fails through the CLI, every correct one passes.

The candidates and what must be concluded about each are in tests/candidates/manifest.py. They run
exactly as a user's would: `pytest --optim=MODULE:ATTR@SPEC,... --optim-report=R` in fresh
subprocesses in an empty directory, one CLI session per CPU running side by side, each over whole
specs (see _shares); each test below then reads the verdict for one candidate from the reports.

Speed: the session compiles with --optim-compile=fast, the plugin's default (XLA compiles about
twice as fast; the verdicts do not depend on it: every tolerance is derived for any correct
evaluation order). Correct candidates run every check. Buggy ones whose diagnosis is asserted run the checks that
compare with the float64 oracle (NON_DIAGNOSING lists the others) until one names it; the other
buggy ones stop at their first failed check (SELECTION_PLUGIN does both inside each session:
all of a candidate's checks run in one process, so the first failure ends them all). JAX's
compilation cache, when the outer run has one (this repository's ini), is inherited and shared
by the sessions. Measured on the 2-core CI machine: docs/timings.md.
"""

from __future__ import annotations

import json
import os
import re
import sys
import time
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
                  "test_matches_optax", "test_matches_optax_on_model", "test_trains",
                  "test_linear_rate_at_optimal_tuning", "test_checkpoint_round_trip", "test_inject_hyperparams",
                  "test_multi_steps_equals_mean_gradient", "test_multi_transform_frozen_leaves",
                  "test_complex_parameters")


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


# The per-kind selection inside the one CLI session, as a plugin (-p) of that session: diagnosed
# bugs skip the checks that cannot name a convention and stop at their first failure that names
# the expected one (all run for an `only` candidate); the other bugs stop at their first failed
# check (as --optim-fail-fast does, for those candidates only). Correct ones run everything.
SELECTION_PLUGIN = """
import json, os

import pytest

KINDS = json.loads(os.environ["MUTATION_KINDS"])
NON_DIAGNOSING = set(json.loads(os.environ["MUTATION_NON_DIAGNOSING"]))
DIAGNOSES = json.loads(os.environ["MUTATION_DIAGNOSES"])  # label -> the key one failure must name
done = set()  # candidates whose verdict (and diagnosis) is settled: their other checks are skipped


def _label(item):
    callspec = getattr(item, "callspec", None)
    candidate = callspec.params.get("optim_candidate") if callspec is not None else None
    return getattr(candidate, "label", None)


def pytest_collection_modifyitems(config, items):
    drop = [i for i in items if KINDS.get(_label(i)) == "diagnosed" and i.originalname in NON_DIAGNOSING]
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = [i for i in items if i not in set(drop)]


def pytest_runtest_setup(item):
    label = _label(item)
    if label in done:
        pytest.skip(f"not run: {label} has failed a check (naming its diagnosis, where one is asserted)")


def pytest_runtest_logreport(report):
    if not report.failed:
        return
    for label in (v for k, v in report.user_properties if k == "optim_candidate"):
        key = DIAGNOSES.get(label)
        if KINDS.get(label) == "quick" or (key is not None and f"[{key}]" in report.longreprtext):
            done.add(label)
"""


def _kind(c) -> str:
    if c.expect == "pass":
        return "correct"
    return "diagnosed" if c.diagnosis else "quick"


@pytest.fixture(scope="session")
def mutation_reports(tmp_path_factory, request):
    """Run the CLI over the selected candidates; {key: (report entry, exit status, output tail)}.

    Only the candidates whose tests are selected run (``-k lion`` runs lion's). Once per test run,
    not per xdist worker: the first worker to get here runs it under a file lock in the directory
    all workers share, the others wait and read its result. (An ``xdist_group`` cannot do this with
    pytest >= 9.2 and pytest-xdist 3.8: xdist tags the group onto ``item._nodeid``, which pytest 9.2
    no longer reads, so the group is silently ignored and every worker that got one of these tests
    ran the whole score.) Started in the background instead, beside the run's other tests, it made
    the run slower (25 min 50 s against 24 min 23 s on 2 cores: both are CPU-bound).
    """
    keys = {item.callspec.params["cand"].key for item in request.session.items
            if item.nodeid.startswith("tests/test_mutants.py::")}
    candidates = [c for c in CANDIDATES if c.key in keys]
    if not os.environ.get("PYTEST_XDIST_WORKER"):  # one process: nothing to share
        return _run_mutation_score(tmp_path_factory.mktemp("mutants"), candidates)
    import fcntl

    shared = tmp_path_factory.getbasetemp().parent
    done = shared / "mutation-score.json"
    with open(shared / "mutation-score.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if not done.exists():
                results = _run_mutation_score(tmp_path_factory.mktemp("mutants"), candidates)
                done.write_text(json.dumps(results))
            return {key: tuple(value) for key, value in json.loads(done.read_text()).items()}
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _sessions() -> int:
    """One CLI session per CPU (at most 4): each runs its share of the candidates in one process."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cpus = os.cpu_count() or 1
    return max(1, min(4, cpus))


def _shares(cands: list, n: int) -> list[list]:
    """The candidates in ``n`` groups, whole specs to a group: a candidate's checks all run in one
    process (a buggy one stops at its first failure there, not once per worker as under xdist) and
    a spec's shared work (its optax reference, the oracle's compiled problems) is done once.
    Balanced by a rough cost: a correct candidate runs every check, a buggy one about a third.
    With fewer specs than sessions (``-k lion``) the candidates are spread one by one instead."""
    whole_specs = len({c.reference for c in cands}) >= n
    by_spec: dict[str, list] = {}
    for c in cands:
        by_spec.setdefault(c.reference if whole_specs else c.key, []).append(c)
    cost = lambda group: sum(3 if c.expect == "pass" else 1 for c in group)  # noqa: E731
    groups: list[list] = [[] for _ in range(n)]
    for _, members in sorted(by_spec.items(), key=lambda kv: (-cost(kv[1]), kv[0])):
        min(groups, key=cost).extend(members)
    return [g for g in groups if g]


def _run_mutation_score(workdir: Path, candidates: list | None = None, sessions: int | None = None) -> dict:
    wrappers: list[str] = []
    cands = CANDIDATES if candidates is None else candidates
    targets = {c.key: _target(c, wrappers) for c in cands}
    (workdir / "numpy_wrappers.py").write_text(
        "from pytest_optim.candidates.numpy_style import numpy_optimizer\n" + "".join(wrappers)
    )
    (workdir / "mutation_selection.py").write_text(SELECTION_PLUGIN)
    labels = {c.key: f"{targets[c.key]}@{c.reference}" for c in cands}
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), str(workdir)]),
               MUTATION_KINDS=json.dumps({labels[c.key]: _kind(c) for c in cands}),
               MUTATION_NON_DIAGNOSING=json.dumps(NON_DIAGNOSING),
               # a diagnosed bug stops at its first failure that names the diagnosis, unless `only`
               # asks that no failure of it, in either dtype, names anything else (then all run)
               MUTATION_DIAGNOSES=json.dumps({labels[c.key]: c.diagnosis for c in cands
                                              if _kind(c) == "diagnosed" and not c.only}))
    env.pop("PYTEST_OPTIM_DATA_SOURCE", None)  # the workloads are not part of the mutation score
    for name in [k for k in env if k.startswith("PYTEST_XDIST_")]:  # this worker's, not the session's
        env.pop(name)
    import subprocess

    runs = []
    for i, share in enumerate(_shares(cands, sessions or _sessions())):
        report, log = workdir / f"report-{i}", workdir / f"session-{i}.log"
        cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist",
               "-p", "mutation_selection", f"--optim={','.join(labels[c.key] for c in share)}",
               f"--optim-report={report}", f"--optim-data-dir={workdir / 'no-data'}", "-W", "ignore"]
        with open(log, "w") as out:  # a file, not a pipe: nothing blocks while another session runs
            runs.append((share, report, log, subprocess.Popen(cmd, cwd=workdir, env=env, stdout=out,
                                                               stderr=subprocess.STDOUT, text=True)))
    results, deadline = {}, time.monotonic() + 3000
    try:
        for share, report, log, proc in runs:
            code = proc.wait(timeout=max(1.0, deadline - time.monotonic()))
            output = log.read_text()[-5000:]
            if not Path(f"{report}.json").exists():  # the session never ran its checks (a usage error, exit 4)
                raise RuntimeError(f"the mutation-score session wrote no report (exit status {code}):\n{output}")
            doc = json.loads(Path(f"{report}.json").read_text())
            results.update({c.key: (doc["candidates"].get(labels[c.key]), code, output) for c in share})
    finally:  # a timeout or a session without a report: the others do not run on unseen
        for *_, proc in runs:
            if proc.poll() is None:
                proc.kill()
    return results


# All mutation tests share one session fixture, computed once per run (see mutation_reports).


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
