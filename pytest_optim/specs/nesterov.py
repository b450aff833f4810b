"""nesterov: Sutskever et al.'s Nesterov momentum, v <- mu v + g; p <- p - lr (g + mu v)."""

from __future__ import annotations

from pytest_optim.specs import conventions as c
from pytest_optim.specs.momentum import Momentum
from pytest_optim.specs.record import Alternative, FrameworkNames, Spec, Tuning


class Nesterov(Momentum):
    nesterov = True


def first_two_updates(hp, lr, g1, g2):
    mu = hp["momentum"]
    v1, v2 = g1, mu * g1 + g2
    return -lr * (g1 + mu * v1), -lr * (g2 + mu * v2)


SPEC = Spec(
    name="nesterov",
    rule="v <- mu*v + g; p <- p - lr*(g + mu*v)",
    paper="Nesterov (1983); Sutskever et al. (ICML 2013)",
    defaults={"momentum": 0.9},
    varied={"momentum": 0.5},
    oracle=Nesterov,
    first_two_updates=first_two_updates,
    optax_builder=lambda optax, lr, hp: optax.sgd(lr, momentum=hp["momentum"], nesterov=True),
    optax_call="optax.sgd(lr, momentum, nesterov=True)",
    implementation="optimizers:nesterov",
    complex_rule="linear",
    decays=("momentum",),
    alternatives=(c.DAMPENED, c.FIRST_STEP,
                  Alternative("heavy_ball_instead", "plain heavy-ball momentum, no look-ahead", {"nesterov": False})),
    schedule_equivalents=(c.LR_IN_VELOCITY,),
    tuning=Tuning(
        step_family="momentum",
        workload_lr={"mnist": 0.05, "cifar10": 0.02, "imdb": 0.1},
        thresholds={"mnist": 0.90,  # measured 92.79 %, margin 2.8
                    "cifar10": 0.31,  # measured 38.3 %, margin 7.3
                    "imdb": 0.70},  # measured 75.68 %, margin 5.7
        full_workload_lr={"mnist": 0.01}, full_thresholds={"mnist": 0.972},
        rate_steps=55,  # (1 - 1/sqrt(kappa))^55 ~ 1e-9 at kappa = 10
    ),
    ranges={"momentum": (0.0, 0.99)},
    bytes_per_param=20,
    target_x_floor=2.5,
    frameworks={
        "torch": FrameworkNames("torch.optim.SGD", {"learning_rate": "lr", "momentum": "momentum"},
                                {"nesterov": True}),
        "keras": FrameworkNames("keras.optimizers.SGD", {"learning_rate": "learning_rate", "momentum": "momentum"},
                                {"nesterov": True}),
    },
)
