"""rmsprop: r <- decay r + (1 - decay) g^2 (r0 = 0); p <- p - lr g/(sqrt(r) + eps)."""

from __future__ import annotations

import numpy as np

from pytest_optim.specs import conventions as c
from pytest_optim.specs.oracle import Oracle, stat
from pytest_optim.specs.record import Alternative, FrameworkNames, Spec, Tuning


class Rmsprop(Oracle):
    """r_t = decay r_{t-1} + (1 - decay) g_t^2 (r_0 = 0); update -lr g/(sqrt(r) + eps).

    Variant ``initial_scale`` = r_0 (optax's ``initial_scale``; autograd's rmsprop starts at 1).
    """

    def _init(self, zeros):
        return [z + self.variant.get("initial_scale", 0.0) for z in zeros]

    def _leaf(self, g, r, t, lr, p):
        rho, eps = self.hp["decay"], self.hp["eps"]
        r = rho * r + (1 - rho) * stat(g * g, self.variant)
        denom = np.sqrt(r + eps) if self.variant.get("eps_inside_sqrt") else np.sqrt(r) + eps
        return -lr * g / denom, r


def first_two_updates(hp, lr, g1, g2):
    rho, eps = hp["decay"], hp["eps"]
    r1 = (1 - rho) * g1**2
    r2 = rho * r1 + (1 - rho) * g2**2
    return -lr * g1 / (np.sqrt(r1) + eps), -lr * g2 / (np.sqrt(r2) + eps)


SPEC = Spec(
    name="rmsprop",
    rule="r <- decay*r + (1-decay)*g^2 (r0 = 0); p <- p - lr*g/(sqrt(r) + eps)",
    paper="Tieleman & Hinton, Coursera lecture 6.5 (2012)",
    defaults={"decay": 0.9, "eps": 1e-8},
    varied={"decay": 0.5, "eps": 0.1},
    oracle=Rmsprop,
    first_two_updates=first_two_updates,
    optax_builder=lambda optax, lr, hp: optax.rmsprop(lr, hp["decay"], hp["eps"], eps_in_sqrt=False),
    optax_call="optax.rmsprop(lr, decay, eps, eps_in_sqrt=False)",
    implementation="optimizers:rmsprop",
    complex_rule="modulus",
    adaptive=True,
    decays=("decay",),
    alternatives=(c.EPS_INSIDE,
                  Alternative("accumulator_starts_at_one", "accumulator initialised to 1 instead of 0: "
                              "r_0 = 1, g/(sqrt(r) + eps)", {"initial_scale": 1.0},
                              "autograd.misc.optimizers.rmsprop (avg_sq_grad = np.ones(len(x))); "
                              "optax.rmsprop(..., initial_scale=1.0, eps_in_sqrt=False)"),
                  c.GLOBAL),
    tuning=Tuning(
        step_family="adaptive",
        workload_lr={"mnist": 1e-3, "cifar10": 1e-3, "imdb": 1e-3},
        thresholds={"mnist": 0.90,  # measured 92.36 %, margin 2.4
                    "cifar10": 0.28,  # measured 34.6 %, margin 6.6
                    "imdb": 0.80},  # measured 84.38 %, margin 4.4
        # at a constant lr RMSprop ends in a limit cycle of size ~lr; eps = lr L makes it gradient
        # descent with step <= 1/L near x* (see checks.convergence_check)
        convergence_eps_per_lr_l=1.0,
    ),
    ranges={"decay": c.DECAY_RANGE, "eps": c.EPS_RANGE},
    bytes_per_param=20,
    target_x_floor=2.5,
    frameworks={
        "torch": FrameworkNames("torch.optim.RMSprop", {"learning_rate": "lr", "decay": "alpha", "eps": "eps"}),
        "keras": FrameworkNames("keras.optimizers.RMSprop", {"learning_rate": "learning_rate", "decay": "rho",
                                                              "eps": "epsilon"}),
    },
)
