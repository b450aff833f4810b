"""Analytic answers: closed-form iterates, first steps, linear rates, convergence to x*."""

import pytest

from pytest_optim.conformance.checks import closed_form_check, convergence_check, first_steps_check

pytestmark = pytest.mark.optim_family("analytic")

# GD on quadratics: x_k = x* + (I - eta A)^k (x0 - x*); heavy ball / Nesterov per eigen-direction.
CLOSED_FORM = [("quadratic_k10", "float64", 100), ("quadratic_k1e4", "float64", 100), ("quadratic_k10", "float32", 100)]


@pytest.mark.optim_specs("sgd", "momentum", "nesterov")
@pytest.mark.parametrize("problem,dtype,steps", CLOSED_FORM)
def test_closed_form_iterates(optim_candidate, problem, dtype, steps, optim_x64, optim_record):
    optim_x64(dtype)
    optim_record(closed_form_check(optim_candidate, problem, dtype, steps))


@pytest.mark.optim_specs("sgd", "momentum", "nesterov")
def test_linear_rate_at_optimal_tuning(optim_candidate, optim_x64, optim_record):
    optim_x64("float64")
    steps = optim_candidate.spec.tuning.rate_steps  # rate^steps ~ 1e-9: well above float64 rounding
    optim_record(closed_form_check(optim_candidate, "quadratic_k10", "float64", steps, optimal=True))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_first_two_steps(optim_candidate, dtype, optim_x64, optim_record):
    optim_x64(dtype)
    optim_record(first_steps_check(optim_candidate, dtype))


# Each rule at the settings under which it provably settles at x* (its record's tuning: a constant
# learning rate, and eps = lr L for rules that otherwise keep leaving x*; see convergence_check).
@pytest.mark.optim_family("convergence")
@pytest.mark.parametrize("problem", ["quadratic_k10", "linear_regression", "logistic_regression"])
def test_converges_to_minimizer(optim_candidate, problem, optim_x64, optim_record):
    optim_x64("float64")
    optim_record(convergence_check(optim_candidate, problem, 1500))
