"""Oracle equivalence: every step of a trajectory against the float64 rule fed the same gradients.

The table is the check: problem x dtype x steps (x hyperparameters, gradient scale, schedule).
"""

import pytest

from pytest_optim.conformance.checks import Regime, oracle_check
from pytest_optim.conformance.problems import MATRIX_PROBLEMS, PROBLEM_NAMES

pytestmark = pytest.mark.optim_family("oracle")

# 300 steps on every problem, in float32 and float64 (x64), default hyperparameters.
TRAJECTORIES = [Regime(p, dtype, steps=300) for p in PROBLEM_NAMES for dtype in ("float32", "float64")]

# Tiny gradients (x1e-6): where eps placement, eps-hat and similar conventions become visible.
TINY = [Regime("quadratic_k10", dtype, steps=50, grad_scale=1e-6) for dtype in ("float32", "float64")]

# A long trajectory: 2000 steps, where bias corrections have fully decayed and sums grow.
LONG = [Regime("linear_regression", "float64", steps=2000)]


@pytest.mark.parametrize("regime", TRAJECTORIES + TINY + LONG, ids=lambda r: r.id)
def test_matches_oracle(optim_candidate, regime, optim_x64, optim_record):
    optim_x64(regime.dtype)
    optim_record(oracle_check(optim_candidate, regime))


# A dense layer's (in, out) = (4, 6) kernel beside its bias, for rules that look at a leaf as a whole (a
# trust ratio, a factored second moment, an orthogonalised matrix): 300 steps, both dtypes.
MATRIX = [Regime(p, dtype, steps=300) for p in MATRIX_PROBLEMS for dtype in ("float32", "float64")]


@pytest.mark.optim_applies(lambda candidate, params: candidate.spec.granularity != "element")
@pytest.mark.parametrize("regime", MATRIX, ids=lambda r: r.id)
def test_matches_oracle_on_matrices(optim_candidate, regime, optim_x64, optim_record):
    optim_x64(regime.dtype)
    optim_record(oracle_check(optim_candidate, regime))
