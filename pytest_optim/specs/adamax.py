"""adamax: Kingma & Ba's infinity-norm variant, u <- max(b2 u, |g| + eps); p <- p - lr m_hat/u."""

from __future__ import annotations

import numpy as np

from pytest_optim.specs import conventions as c
from pytest_optim.specs.adam import KERAS_NAMES, TORCH_NAMES
from pytest_optim.specs.oracle import Oracle, correction
from pytest_optim.specs.record import Alternative, FrameworkNames, Spec, Tuning


class Adamax(Oracle):
    """Kingma & Ba section 7.1: u_t = max(b2 u_{t-1}, |g_t| + eps); update -lr m_hat / u."""

    def _init(self, zeros):
        return [(z.copy(), z.copy()) for z in zeros]

    def _leaf(self, g, s, t, lr, p):
        b1, b2, eps = self.hp["b1"], self.hp["b2"], self.hp["eps"]
        m, u = s
        m = b1 * m + (1 - b1) * g
        if self.variant.get("keras_adamax"):  # u = max(b2 u, |g|); divide by (u + eps)
            u = np.maximum(b2 * u, np.abs(g))
            return -lr * (m / correction(b1, t, self.variant, "m")) / (u + eps), (m, u)
        u = np.maximum(b2 * u, np.abs(g) + eps)
        return -lr * (m / correction(b1, t, self.variant, "m")) / u, (m, u)


def first_two_updates(hp, lr, g1, g2):
    b1, b2, eps = hp["b1"], hp["b2"], hp["eps"]
    m_hat2 = (b1 * g1 + g2) / (1 + b1)
    u1 = np.abs(g1) + eps
    u2 = np.maximum(b2 * u1, np.abs(g2) + eps)
    return -lr * g1 / u1, -lr * m_hat2 / u2


SPEC = Spec(
    name="adamax",
    rule="u <- max(b2*u, |g| + eps); p <- p - lr*(m/(1-b1^t))/u",
    paper="Kingma & Ba, section 7.1 (ICLR 2015)",
    defaults=dict(c.MOMENTS),
    varied=dict(c.MOMENTS_VARIED),
    oracle=Adamax,
    first_two_updates=first_two_updates,
    optax_builder=lambda optax, lr, hp: optax.adamax(lr, hp["b1"], hp["b2"], hp["eps"]),
    optax_call="optax.adamax(lr, b1, b2, eps)",
    implementation="optimizers:adamax",
    complex_rule="modulus",
    adaptive=True,
    decays=("b1",),
    alternatives=(*c.bias_alternatives(False),
                  Alternative("keras_adamax", "Keras adamax: u = max(b2 u, |g|), divide by (u + eps)",
                              {"keras_adamax": True}, "keras.optimizers.Adamax")),
    tuning=Tuning(
        step_family="adaptive",
        workload_lr={"mnist": 2e-3, "cifar10": 4e-3, "imdb": 4e-3},
        thresholds={"mnist": 0.89,  # measured 92.08 %, margin 3.1
                    "cifar10": 0.30,  # measured 36.7 %, margin 6.7
                    "imdb": 0.81},  # measured 85.20 %, margin 4.2
    ),
    ranges=dict(c.MOMENTS_RANGES),
    bytes_per_param=28,
    target_x_floor=3.4,
    frameworks={
        "torch": FrameworkNames("torch.optim.Adamax", TORCH_NAMES),
        "keras": FrameworkNames("keras.optimizers.Adamax", KERAS_NAMES),
    },
)
