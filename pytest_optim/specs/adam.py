"""adam: Kingma & Ba's Algorithm 1, p <- p - lr m_hat/(sqrt(v_hat) + eps)."""

from __future__ import annotations

import numpy as np

from pytest_optim.specs import conventions as c
from pytest_optim.specs.oracle import Oracle, correction, stat
from pytest_optim.specs.record import Alternative, FrameworkNames, Spec, Tuning


class Adam(Oracle):
    """Kingma & Ba Algorithm 1: update -lr m_hat / (sqrt(v_hat) + eps)."""

    def _init(self, zeros):
        return [(z.copy(), z.copy()) for z in zeros]

    def _moments(self, g, s):
        b1, b2 = self.hp["b1"], self.hp["b2"]
        m, v = s
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * stat(g * g, self.variant)
        return m, v

    def _leaf(self, g, s, t, lr, p):
        b1, b2, eps = self.hp["b1"], self.hp["b2"], self.hp["eps"]
        m, v = self._moments(g, s)
        if self.variant.get("eps_hat"):  # TF/Keras: bias corrections folded into the step size
            step = lr * np.sqrt(1 - b2**t) / (1 - b1**t)
            return -step * m / (np.sqrt(v) + eps), (m, v)
        m_hat = self._m_hat(m, g, t)
        v_hat = v / correction(b2, t, self.variant, "v")
        denom = np.sqrt(v_hat + eps) if self.variant.get("eps_inside_sqrt") else np.sqrt(v_hat) + eps
        return -lr * m_hat / denom, (m, v)

    def _m_hat(self, m, g, t):
        return m / correction(self.hp["b1"], t, self.variant, "m")


def first_two_updates(hp, lr, g1, g2):
    b1, b2, eps = hp["b1"], hp["b2"], hp["eps"]
    m_hat2 = (b1 * g1 + g2) / (1 + b1)  # bias-corrected: m_hat_1 = g1, m_hat_2 = (b1 g1 + g2)/(1 + b1)
    v_hat2 = (b2 * g1**2 + g2**2) / (1 + b2)
    return -lr * g1 / (np.abs(g1) + eps), -lr * m_hat2 / (np.sqrt(v_hat2) + eps)


# Keyword names shared by the Adam family in PyTorch (betas tuple) and Keras (beta_1, epsilon).
TORCH_NAMES = {"learning_rate": "lr", ("b1", "b2"): "betas", "eps": "eps"}
KERAS_NAMES = {"learning_rate": "learning_rate", "b1": "beta_1", "b2": "beta_2", "eps": "epsilon"}
# eps = lr L in the convergence check: Adam-type rules with eps = 1e-8 at a constant lr keep
# leaving x* after they arrive (v decays, the step grows; nadam was unsettled for 8-12 of 20
# seeds); eps = lr L makes each of them gradient descent with step <= 1/L near x*.
CONVERGENCE_EPS_PER_LR_L = 1.0

SPEC = Spec(
    name="adam",
    rule="m_hat/(sqrt(v_hat) + eps) with bias-corrected EMAs of g and g^2",
    paper="Kingma & Ba, Algorithm 1 (ICLR 2015)",
    defaults=dict(c.MOMENTS),
    varied=dict(c.MOMENTS_VARIED),
    oracle=Adam,
    first_two_updates=first_two_updates,
    optax_builder=lambda optax, lr, hp: optax.adam(lr, hp["b1"], hp["b2"], hp["eps"]),
    optax_call="optax.adam(lr, b1, b2, eps)",
    implementation="optimizers:adam",
    complex_rule="modulus",
    adaptive=True,
    decays=("b1", "b2"),
    alternatives=(c.EPS_INSIDE, *c.bias_alternatives(True),
                  Alternative("eps_hat", "TF/Keras 'eps-hat' Adam: lr*sqrt(1-b2^t)/(1-b1^t)*m/(sqrt(v)+eps)",
                              {"eps_hat": True}, "tf.keras Adam (optax #571, tensorflow #35102)"),
                  c.GLOBAL),
    tuning=Tuning(
        step_family="adaptive",
        workload_lr={"mnist": 1e-3, "cifar10": 2e-3, "imdb": 2e-3},
        thresholds={"mnist": 0.90,  # measured 92.57 %, margin 2.6
                    "cifar10": 0.30,  # measured 37.0 %, margin 7
                    "imdb": 0.82},  # measured 86.04 %, margin 4
        full_workload_lr={"mnist": 1e-3}, full_thresholds={"mnist": 0.97},
        convergence_eps_per_lr_l=CONVERGENCE_EPS_PER_LR_L,
    ),
    ranges=dict(c.MOMENTS_RANGES),
    bytes_per_param=28,  # read p, g, m, v; write p, m, v
    target_x_floor=3.4,
    frameworks={
        "torch": FrameworkNames("torch.optim.Adam", TORCH_NAMES),
        "keras": FrameworkNames("keras.optimizers.Adam", KERAS_NAMES),
    },
)
