"""The candidate inside what a JAX training loop wraps around it: checkpoints, optax.inject_hyperparams,
optax.MultiSteps, optax.multi_transform with frozen leaves, complex parameters
(pytest_optim/conformance/composition.py; docs/checks.md)."""

import pytest

from pytest_optim.conformance import composition as C


@pytest.mark.optim_family("checkpoint")
def test_checkpoint_round_trip(optim_candidate, optim_record):
    optim_record(C.checkpoint_round_trip(optim_candidate, "float32"))


@pytest.mark.optim_family("inject_hyperparams")
@pytest.mark.optim_capability("inject_hyperparams")
def test_inject_hyperparams(optim_candidate, optim_x64, optim_record):
    optim_x64("float64")
    optim_record(C.inject_hyperparams(optim_candidate))


@pytest.mark.optim_family("multi_steps")
@pytest.mark.optim_capability("multi_steps")
def test_multi_steps_equals_mean_gradient(optim_candidate, optim_x64, optim_record):
    optim_x64("float64")
    optim_record(C.multi_steps(optim_candidate))


@pytest.mark.optim_family("frozen")
def test_multi_transform_frozen_leaves(optim_candidate, optim_record):
    optim_record(C.frozen_leaves(optim_candidate, "float32"))


@pytest.mark.optim_family("frozen")
def test_zero_gradient_leaves(optim_candidate, optim_record):
    optim_record(C.zero_gradient_leaves(optim_candidate, "float32"))


@pytest.mark.optim_family("complex")
@pytest.mark.optim_capability("complex")
def test_complex_parameters(optim_candidate, optim_x64, optim_record):
    optim_x64("float64")
    optim_record(C.complex_parameters(optim_candidate))
