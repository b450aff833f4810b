"""The workload checks behind suites/test_workloads.py: a candidate trains, and matches optax on the model.

Each returns a ``Result`` or raises ``CheckFailure`` (``conformance.checks.failure``: the one
failure text) or ``NotApplicable`` (a record with no setting for this workload; a port run, which
has no optax reference).
"""

from __future__ import annotations

import numpy as np

from pytest_optim.conformance.checks import Result, failure, port_run
from pytest_optim.outcomes import CandidateError, NotApplicable

FAMILY = "workloads"


def setting(spec, dataset: str, full: bool) -> tuple[float, float]:
    """The record's (learning rate, accuracy threshold) for this workload, or NotApplicable."""
    from pytest_optim.workloads import training

    try:
        return training.learning_rate(spec, dataset, full), training.threshold(spec, dataset, full)
    except KeyError:
        raise NotApplicable(f"the {spec.name} record has no learning rate and accuracy threshold for the "
                            f"{dataset} workload (its tuning.workload_lr / tuning.thresholds)") from None


def trains_check(candidate, workload, run, threshold: float) -> Result:
    """No NaN/inf, the loss decreases (last tenth below first tenth) and the accuracy reaches ``threshold``."""
    s = workload.settings
    what = (f"{workload.title} ({workload.notes}), {s.model}, batch {s.batch_size}, {s.epochs} epochs, "
            f"lr={run.learning_rate:g}, {run.losses.size} steps")
    if not run.finite:
        bad = int(np.argmax(~(np.isfinite(run.losses) & np.isfinite(run.grad_norms))))
        raise failure(candidate, FAMILY, what, f"non-finite loss or gradient at step {bad + 1} "
                                               f"(loss {run.losses[bad]:g}, |g| {run.grad_norms[bad]:g})")
    n = max(1, run.losses.size // 10)
    first, last = float(run.losses[:n].mean()), float(run.losses[-n:].mean())
    if not last < first:
        raise failure(candidate, FAMILY, what, f"the loss did not decrease: mean of the first {n} steps "
                                               f"{first:.4g}, of the last {n} steps {last:.4g}")
    curve = ", ".join(f"{100 * a:.1f}" for a in run.test_accuracy)
    if run.accuracy < threshold:
        raise failure(candidate, FAMILY, what, f"test accuracy {100 * run.accuracy:.2f}% is below the threshold "
                                               f"{100 * threshold:.1f}% (accuracy per evaluation: {curve})")
    return Result(
        FAMILY, True, threshold / run.accuracy,
        f"{workload.title}: test accuracy {100 * run.accuracy:.2f}% (threshold {100 * threshold:.1f}%), loss "
        f"{first:.3f} -> {last:.3f}, lr={run.learning_rate:g}, {run.losses.size} steps in {run.seconds:.1f}s",
        {"dataset": workload.name, "accuracy": run.accuracy, "threshold": threshold,
         "learning_rate": run.learning_rate, "steps": int(run.losses.size), "seconds": run.seconds,
         "loss_first": first, "loss_last": last},
    )


def optax_on_model_check(candidate, workload, lr: float) -> Result:
    """The first K steps on the model vs the spec's optax reference fed the same gradients.

    Computed at the candidate's own parameters on the same batches; the tolerance is the optax
    check's (2x ``tolerance.update_rtol`` for float32 and K steps). Where optax is only an
    approximate reference, both run at ``spec.optax_exact_at`` (see ``checks.optax_check``).
    """
    import jax
    import jax.numpy as jnp

    from pytest_optim.conformance import tolerance
    from pytest_optim.conformance.runner import replay_scan
    from pytest_optim.conformance.compare import compare_updates, oracle_updates, with_allowances
    from pytest_optim.conformance.runner import leaf_paths
    from pytest_optim.specs.oracle import reports_allowances

    spec = candidate.spec
    if spec.optax_builder is None:
        raise NotApplicable(port_run(spec, "optax"))
    hp, note = {}, ""
    if not spec.optax_exact:
        hp = dict(spec.optax_exact_at)
        note = f" at {', '.join(f'{k}={v:g}' for k, v in hp.items())} ({spec.optax_note})"
    steps = workload.settings.equivalence_steps
    what = f"{workload.title}, {workload.settings.model}, first {steps} steps, lr={lr:g}{note}"
    try:
        transform = candidate.make(lr, **hp)
        _, grads, updates = workload.gradient_trace(transform, steps, traceable=candidate.traceable)
    except CandidateError as exc:
        raise failure(candidate, FAMILY, what, str(exc)) from None
    except Exception as exc:  # noqa: BLE001 - the candidate's failure, in one line
        raise failure(candidate, FAMILY, what, f"training raised {type(exc).__name__}: {exc}") from None
    params0 = workload.init(0)
    treedef = jax.tree.structure(params0)
    grads_seq = [jax.tree.unflatten(treedef, [jnp.asarray(g) for g in gs]) for gs in grads]
    expected, _ = replay_scan(spec.optax_reference(lr, **hp), grads_seq, params0)
    full = {**spec.defaults, **hp}
    if reports_allowances(spec):  # sign margins, spreads, matrix leaves: the oracle's, for the same inputs
        p = [np.asarray(x, np.float64) for x in jax.tree.leaves(params0)]
        before = []
        for u in updates:
            before.append(p)
            p = [a + np.asarray(b, np.float64).reshape(a.shape) for a, b in zip(p, u)]
        expected = with_allowances(expected, oracle_updates(spec, full, [[np.asarray(x, np.float64) for x in g]
                                                                         for g in grads], [lr] * steps, params=before))
    rtol = 2 * tolerance.update_rtol(spec, full, "float32", steps)
    cmp = compare_updates(updates, expected, leaf_paths(params0), rtol, tolerance.floor("float32"))
    if not cmp.passed:
        raise failure(candidate, FAMILY, what, cmp.describe(spec.optax_call))
    return Result(FAMILY, True, cmp.worst_ratio, f"{what}: {cmp.describe()}",
                  {"dataset": workload.name, "exact": spec.optax_exact, "steps": steps})
