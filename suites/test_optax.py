"""optax equivalence: the candidate and optax's implementation of its spec, fed the same gradients.

Exact rows are compared at the spec's defaults; approximate rows (adagrad: optax puts eps inside
the sqrt) at the record's ``optax_exact_at`` (eps=0), where both conventions compute the same rule,
and are labelled approximate (see optax_check).
"""

import pytest

from pytest_optim.conformance.checks import Regime, optax_check

pytestmark = pytest.mark.optim_family("optax")

REGIMES = [Regime("quadratic_k10", "float32", 200), Regime("logistic_regression", "float64", 200)]


@pytest.mark.parametrize("regime", REGIMES, ids=lambda r: r.id)
def test_matches_optax(optim_candidate, regime, optim_x64, optim_record):
    optim_x64(regime.dtype)
    optim_record(optax_check(optim_candidate, regime))
