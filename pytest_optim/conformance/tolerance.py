"""Tolerances for comparing a candidate's updates with the float64 oracle, derived not guessed.

Both sides see the *same* gradients (the candidate's, upcast for the oracle), so no error is
amplified by the problem's conditioning: what separates them is rounding inside the update.
With u the unit roundoff of the dtype (eps/2) the relative error of one update is bounded by

* ``OPS * u`` for one evaluation of the update expression: at most ~16 roundings (squares,
  EMA products and sums, two bias corrections, sqrt, add eps, divide, lr product, the cast of
  the result), each contributing at most u (Higham, *Accuracy and Stability*, ch. 3);
* ``3 * u * min(t, 1/(1 - beta))`` for each exponential moving average with decay beta:
  the rounding of beta itself, the rounding errors the EMA keeps (they decay like beta^k, so
  at most u / (1 - beta) of them survive, or t of them after t steps) and the bias correction
  1 - beta^t computed from the rounded beta (relative sensitivity t beta^t/(1 - beta^t) <=
  1/(1 - beta)). This is the term behind optax's known float32 drift: for b2 = 0.999 it is
  3 * 6e-8 * 1000 = 1.8e-4, above the 1.5e-5 reported in docs/conventions.md;
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
    """Relative tolerance on every update of a ``steps``-long trajectory in ``dtype``."""
    u = unit_roundoff(dtype)
    u_scalar = min(u, unit_roundoff("float32"))
    amp = float(OPS)
    scalar_amp = 0.0
    for name in spec.decays:
        memory = 1.0 / max(1.0 - float(hp[name]), 1e-12)
        amp += 3.0 * min(steps, memory)
        scalar_amp += 3.0 * memory
    if spec.accumulates:
        amp += steps
    return u * amp + u_scalar * scalar_amp


def floor(dtype) -> float:
    """Absolute floor of the comparison scale: the smallest normal number of the dtype."""
    return float(_finfo(dtype).tiny)
