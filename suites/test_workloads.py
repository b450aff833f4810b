"""Real workloads: every optimizer under test trains an MLP on MNIST, a small CNN on the
CIFAR-10 subset and mean-pooled embeddings (sum / sqrt(length)) on IMDB reviews (``pytest_optim.workloads.training``).

Per optimizer x dataset:

* ``test_trains``: no NaN/inf in the loss or gradient norm, the loss decreases (mean of the last
  tenth of the steps below the mean of the first tenth) and the final test accuracy is above a
  threshold measured from real runs (the measured value and the margin are written beside it);
* ``test_matches_optax_on_model``: the first K steps on the model, with the optax reference of the
  spec fed the same gradients (computed at the candidate's parameters on the same batches), agree
  within the derived tolerance of the optax check (2x ``tolerance.update_rtol`` for float32 and K).

The data come through tensorflow-datasets; without them these tests are skipped with one line
saying how to get them (see docs/workloads.md).
"""

import numpy as np
import pytest

from pytest_optim.outcomes import CandidateError, CheckFailure
from pytest_optim.conformance.checks import Result

pytestmark = pytest.mark.optim_family("workloads")

DATASETS = ["mnist", "cifar10", "imdb"]
FIXTURES = {"mnist": "mnist_workload", "cifar10": "cifar10_workload", "imdb": "imdb_workload"}

# The test-accuracy thresholds (measured accuracy minus a margin) and learning rates of the
# CI-sized workloads are in each spec's record (``spec.tuning``).


def _fail(candidate, what: str, message: str) -> CheckFailure:
    return CheckFailure(f"[workloads] {candidate.label} (spec {candidate.reference}) — {what}\n  {message}")


@pytest.mark.parametrize("dataset", DATASETS)
def test_trains(optim_candidate, dataset, request, optim_workload_run, optim_record):
    workload = request.getfixturevalue(FIXTURES[dataset])
    run = optim_workload_run(optim_candidate, workload)
    s = workload.settings
    what = (f"{workload.title} ({workload.notes}), {s.model}, batch {s.batch_size}, {s.epochs} epochs, "
            f"lr={run.learning_rate:g}, {run.losses.size} steps")
    if not run.finite:
        bad = int(np.argmax(~(np.isfinite(run.losses) & np.isfinite(run.grad_norms))))
        raise _fail(optim_candidate, what, f"non-finite loss or gradient at step {bad + 1} "
                                           f"(loss {run.losses[bad]:g}, |g| {run.grad_norms[bad]:g})")
    n = max(1, run.losses.size // 10)
    first, last = float(run.losses[:n].mean()), float(run.losses[-n:].mean())
    if not last < first:
        raise _fail(optim_candidate, what, f"the loss did not decrease: mean of the first {n} steps "
                                           f"{first:.4g}, of the last {n} steps {last:.4g}")
    from pytest_optim.workloads import training as workloads

    threshold = workloads.threshold(optim_candidate.spec, dataset, request.config.getoption("optim_full"))
    curve = ", ".join(f"{100 * a:.1f}" for a in run.test_accuracy)
    if run.accuracy < threshold:
        raise _fail(optim_candidate, what, f"test accuracy {100 * run.accuracy:.2f}% is below the threshold "
                                           f"{100 * threshold:.1f}% (accuracy per evaluation: {curve})")
    optim_record(Result(
        "workloads", True, threshold / run.accuracy,
        f"{workload.title}: test accuracy {100 * run.accuracy:.2f}% (threshold {100 * threshold:.1f}%), loss "
        f"{first:.3f} -> {last:.3f}, lr={run.learning_rate:g}, {run.losses.size} steps in {run.seconds:.1f}s",
        {"dataset": workload.name, "accuracy": run.accuracy, "threshold": threshold,
         "learning_rate": run.learning_rate, "steps": int(run.losses.size), "seconds": run.seconds,
         "loss_first": first, "loss_last": last},
    ))


@pytest.mark.parametrize("dataset", DATASETS)
def test_matches_optax_on_model(optim_candidate, dataset, request, optim_record):
    import jax
    import jax.numpy as jnp

    from pytest_optim.conformance import tolerance

    from pytest_optim.workloads import training as workloads
    from pytest_optim.conformance.checks import replay_scan
    from pytest_optim.conformance.compare import compare_updates
    from pytest_optim.conformance.runner import leaf_paths

    workload = request.getfixturevalue(FIXTURES[dataset])
    spec = optim_candidate.spec
    hp, note = {}, ""
    if not spec.optax_exact:  # compared where the two conventions are one rule (see checks.optax_check)
        hp = dict(spec.optax_exact_at)
        note = f" at {', '.join(f'{k}={v:g}' for k, v in hp.items())} ({spec.optax_note})"
    lr = workloads.learning_rate(spec, workload.name, request.config.getoption("optim_full"))
    steps = workload.settings.equivalence_steps
    what = f"{workload.title}, {workload.settings.model}, first {steps} steps, lr={lr:g}{note}"
    try:
        transform = optim_candidate.make(lr, **hp)
        _, grads, updates = workload.gradient_trace(transform, steps, traceable=optim_candidate.traceable)
    except CandidateError as exc:
        raise _fail(optim_candidate, what, str(exc)) from None
    except Exception as exc:  # noqa: BLE001 - the candidate's failure, in one line
        raise _fail(optim_candidate, what, f"training raised {type(exc).__name__}: {exc}") from None
    params0 = workload.init(0)
    treedef = jax.tree.structure(params0)
    grads_seq = [jax.tree.unflatten(treedef, [jnp.asarray(g) for g in gs]) for gs in grads]
    expected, _ = replay_scan(spec.optax_reference(lr, **hp), grads_seq, params0)
    full_hp = {**spec.defaults, **hp}
    rtol = 2 * tolerance.update_rtol(spec, full_hp, "float32", steps)
    cmp = compare_updates(updates, expected, leaf_paths(params0), rtol, tolerance.floor("float32"))
    if not cmp.passed:
        raise _fail(optim_candidate, what, cmp.describe(spec.optax_call))
    optim_record(Result("workloads", True, cmp.worst_ratio, f"{what}: {cmp.describe()}",
                        {"dataset": workload.name, "exact": spec.optax_exact, "steps": steps}))
