"""sgd: plain gradient descent, p <- p - lr g (Robbins & Monro, 1951)."""

from __future__ import annotations

from pytest_optim.specs.oracle import Oracle
from pytest_optim.specs.record import FrameworkNames, Spec, Tuning


class Sgd(Oracle):
    def _leaf(self, g, s, t, lr, p):
        return -lr * g, s


def first_two_updates(hp, lr, g1, g2):
    return -lr * g1, -lr * g2


SPEC = Spec(
    name="sgd",
    rule="p <- p - lr*g",
    paper="Robbins & Monro (1951)",
    defaults={},
    varied={},
    oracle=Sgd,
    first_two_updates=first_two_updates,
    optax_builder=lambda optax, lr, hp: optax.sgd(lr),
    optax_call="optax.sgd(lr)",
    implementation="optimizers:sgd",
    complex_rule="linear",
    tuning=Tuning(
        step_family="gd",
        # CI-sized workloads (docs/workloads.md): lr from short sweeps; threshold = measured test
        # accuracy (seed 0, CPU, float32) minus the margin in the comment.
        workload_lr={"mnist": 0.25, "cifar10": 0.1, "imdb": 0.3},
        thresholds={"mnist": 0.89,  # measured 91.75 %, margin 2.75 points
                    "cifar10": 0.27,  # measured 33.0 %, margin 6
                    "imdb": 0.62},  # measured 68.02 %, margin 6 (evaluations move by ~2 points)
        # --optim-full: seed 001's setting (lr 0.01) and test accuracy minus 1 point
        full_workload_lr={"mnist": 0.01}, full_thresholds={"mnist": 0.962},
        rate_steps=200,  # rate (1 - mu/L)^steps ~ 1e-9 at kappa = 10: well above float64 rounding
    ),
    ranges={},
    bytes_per_param=12,  # read p, g; write p
    target_x_floor=1.05,
    frameworks={
        "torch": FrameworkNames("torch.optim.SGD", {"learning_rate": "lr"}),
        "keras": FrameworkNames("keras.optimizers.SGD", {"learning_rate": "learning_rate"}, {"momentum": 0.0}),
    },
)
