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

import pytest

from pytest_optim.workloads import checks

pytestmark = pytest.mark.optim_family("workloads")

DATASETS = ["mnist", "cifar10", "imdb"]
FIXTURES = {"mnist": "mnist_workload", "cifar10": "cifar10_workload", "imdb": "imdb_workload"}

# The test-accuracy thresholds (measured accuracy minus a margin) and learning rates of the
# CI-sized workloads are in each spec's record (``spec.tuning``).


@pytest.mark.parametrize("dataset", DATASETS)
def test_trains(optim_candidate, dataset, request, optim_workload_run, optim_record):
    _, threshold = checks.setting(optim_candidate.spec, dataset, request.config.getoption("optim_full"))
    workload = request.getfixturevalue(FIXTURES[dataset])
    optim_record(checks.trains_check(optim_candidate, workload, optim_workload_run(optim_candidate, workload), threshold))


@pytest.mark.parametrize("dataset", DATASETS)
def test_matches_optax_on_model(optim_candidate, dataset, request, optim_record):
    lr, _ = checks.setting(optim_candidate.spec, dataset, request.config.getoption("optim_full"))
    workload = request.getfixturevalue(FIXTURES[dataset])
    optim_record(checks.optax_on_model_check(optim_candidate, workload, lr))
