"""Tolerances for comparing a candidate's updates with the float64 oracle, derived not guessed.

Both sides see the *same* gradients (the candidate's, upcast for the oracle), so no error is
amplified by the problem's conditioning: what separates them is rounding inside the update.
With u the unit roundoff of the dtype (eps/2) the relative error of one update is bounded by

* ``OPS * u`` for one evaluation of the update expression: at most ~16 roundings (squares,
  EMA products and sums, two bias corrections, sqrt, add eps, divide, lr product, the cast of
  the result), each contributing at most u (Higham, *Accuracy and Stability*, ch. 3), plus the
  record's ``extra_ops`` for rules with more arithmetic per element (a norm or a matrix product
  over n terms: about n more, Higham's gamma_n), and ``u_scalar`` times the record's
  ``scalar_condition(hp)`` for a step-size factor that is an ill-conditioned closed form;
* ``3 * u * min(t, 1/(1 - beta))`` for each exponential moving average with decay beta:
  the rounding of beta itself, the rounding errors the EMA keeps (they decay like beta^k, so
  at most u / (1 - beta) of them survive, or t of them after t steps) and the bias correction
  1 - beta^t computed from the rounded beta (relative sensitivity t beta^t/(1 - beta^t) <=
  1/(1 - beta)). This is the term behind optax's known float32 drift: for b2 = 0.999 it is
  3 * 6e-8 * 1000 = 1.8e-4, above the 1.5e-5 reported in docs/conventions.md;
  A decay that changes with the step (Adafactor's 1 - t^-c) has the memory its record's
  ``decay_memory`` gives;
* ``u * t`` for a running sum of t positive terms (AdaGrad's accumulator; recursive summation).

The scale of the comparison for each element is the largest |oracle update| it has had so far
(errors an EMA carries are relative to its history, not to a value that may be cancelling
to zero now), plus the dtype's smallest normal number so exact zeros compare exactly.

Hyperparameter scalars (beta, 1 - beta^t, lr) are assumed to be computed in at least float32,
as optax and the bundled set do; that is what makes a bfloat16 Adam work at all (0.999 rounds
to 1.0 in bfloat16).
"""

from __future__ import annotations

import numpy as np

from pytest_optim.specs import Spec

OPS = 16


def _finfo(dtype):
    import ml_dtypes  # knows bfloat16 as well as NumPy's own float types

    return ml_dtypes.finfo(ml_dtypes.bfloat16 if str(dtype) == "bfloat16" else np.dtype(dtype))


def unit_roundoff(dtype) -> float:
    return float(_finfo(dtype).eps) / 2


def update_rtol(spec: Spec, hp: dict[str, float], dtype: str, steps: int) -> float:
    """Relative tolerance on every update of a ``steps``-long trajectory in ``dtype``.

    In a port run (``spec.compared_with``) the expected side is an implementation run in float64,
    which rounds too: |candidate - reference| <= |candidate - exact| + |reference - exact|, so its
    own float64 bound is added.
    """
    rtol = _rule_rtol(spec, hp, dtype, steps)
    if spec.compared_with:
        rtol += _rule_rtol(spec, hp, "float64", steps)
    return rtol


def with_reference(spec: Spec, resolution, floor_: float):
    """The parameters' rounding allowance (runner.resolution) with a port run's reference added.

    A reference seen only through its own float64 parameters (a torch class: new - old) rounds
    each of its writes by u64 max(|p_t|, |p_t+1|), as the candidate's by u max(...) in its dtype:
    the allowance W u max(...) becomes W (u + u64) max(...), a factor 1 + u64 / u. The dtype is
    the comparison's, known from its ``floor`` (bfloat16 shares float32's smallest normal; the
    smaller u, float32's, is taken: the larger factor).
    """
    if not spec.compared_in_place or resolution is None:
        return resolution
    units = [unit_roundoff(d) for d in ("float64", "float32", "float16") if floor(d) == floor_]
    factor = 1.0 + unit_roundoff("float64") / (min(units) if units else unit_roundoff("float64"))
    return [[r * factor for r in step] for step in resolution]


def _rule_rtol(spec: Spec, hp: dict[str, float], dtype: str, steps: int) -> float:
    u = unit_roundoff(dtype)
    u_scalar = min(u, unit_roundoff("float32"))
    amp = float(OPS) + float(spec.extra_ops)
    scalar_amp = 0.0
    for name in spec.decays:
        memory = 1.0 / max(1.0 - float(hp[name]), 1e-12)
        amp += 3.0 * min(steps, memory)
        scalar_amp += 3.0 * memory
    if spec.decay_memory is not None:
        memory = float(spec.decay_memory({**spec.defaults, **hp}, steps))
        amp += 3.0 * min(steps, memory)
        scalar_amp += 3.0 * memory
    if spec.accumulates:
        amp += steps
    if spec.scalar_condition is not None:
        scalar_amp += float(spec.scalar_condition({**spec.defaults, **hp}))
    return u * amp + u_scalar * scalar_amp


def floor(dtype) -> float:
    """Absolute floor of the comparison scale: the smallest normal number of the dtype."""
    return float(_finfo(dtype).tiny)
