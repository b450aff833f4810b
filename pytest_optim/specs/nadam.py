"""nadam: Dozat's Nesterov-accelerated Adam with a constant b1 (optax's form)."""

from __future__ import annotations

import numpy as np

from pytest_optim.specs import conventions as c
from pytest_optim.specs.adam import CONVERGENCE_EPS_PER_LR_L, KERAS_NAMES, TORCH_NAMES, Adam
from pytest_optim.specs.oracle import correction
from pytest_optim.specs.record import Alternative, FrameworkNames, Spec, Tuning


class Nadam(Adam):
    """Dozat's NAdam with constant b1 (optax's form).

    Variant ``momentum_decay`` = psi switches on Dozat's momentum schedule
    mu_t = b1 (1 - 0.5 * 0.96**(t psi)), bias-corrected by the running product of the mu's:
    m_hat = mu_{t+1} m / (1 - prod_{k<=t+1} mu_k) + (1 - mu_t) g / (1 - prod_{k<=t} mu_k).
    PyTorch's NAdam has psi = momentum_decay = 4e-3, Keras 3's Nadam psi = 1 (0.96**t).
    ``mu_product_dtype = "float32"`` keeps the running product in float32 as torch.optim.NAdam
    does by default (its ``mu_product`` state is a tensor of the default scalar dtype, float32
    unless torch.set_default_dtype(torch.float64); mu itself is a Python float).
    """

    def _m_hat(self, m, g, t):
        if "momentum_decay" in self.variant:
            return self._scheduled_m_hat(m, g, t)
        b1 = self.hp["b1"]
        return b1 * m / correction(b1, t + 1, self.variant, "m") + (1 - b1) * g / correction(
            b1, t, self.variant, "m"
        )

    def _mu(self, k: int) -> float:
        return self.hp["b1"] * (1.0 - 0.5 * 0.96 ** (k * self.variant["momentum_decay"]))

    def _mu_product(self, t: int) -> float:
        """prod_{k<=t} mu_k, advanced once per step (the leaves of one step share it)."""
        cache = self.__dict__.setdefault("_mu_products", [1.0])
        while len(cache) <= t:
            prod, mu = cache[-1], self._mu(len(cache))
            if self.variant.get("mu_product_dtype") == "float32":
                prod = float(np.float32(np.float32(prod) * np.float32(mu)))  # torch: float32 tensor *= Python float
            else:
                prod = prod * mu
            cache.append(prod)
        return cache[t]

    def _scheduled_m_hat(self, m, g, t):
        mu, mu_next = self._mu(t), self._mu(t + 1)
        prod = self._mu_product(t)
        return mu_next * m / (1 - prod * mu_next) + (1 - mu) * g / (1 - prod)


def first_two_updates(hp, lr, g1, g2):
    b1, b2, eps = hp["b1"], hp["b2"], hp["eps"]
    # m_hat_t = b1 m_t/(1-b1^(t+1)) + (1-b1) g_t/(1-b1^t) with m_1 = (1-b1) g1
    n1 = b1 * (1 - b1) * g1 / (1 - b1**2) + g1
    m2 = (1 - b1) * (b1 * g1 + g2)
    n2 = b1 * m2 / (1 - b1**3) + (1 - b1) * g2 / (1 - b1**2)
    v_hat2 = (b2 * g1**2 + g2**2) / (1 + b2)
    return -lr * n1 / (np.abs(g1) + eps), -lr * n2 / (np.sqrt(v_hat2) + eps)


_TORCH_NADAM = ("PyTorch NAdam momentum schedule mu_t = b1(1 - 0.5*0.96^(0.004 t)), "
                "bias-corrected by the running product of mu")
_TORCH_NADAM_SEEN = ("torch.optim.NAdam (torch/optim/nadam.py _single_tensor_nadam, torch 2.13, momentum_decay=4e-3; "
                     "mu_product in the default scalar dtype, float32 unless torch.set_default_dtype(torch.float64)); "
                     "optax PR #719")

SPEC = Spec(
    name="nadam",
    rule="b1*m/(1-b1^(t+1)) + (1-b1)*g/(1-b1^t), over sqrt(v_hat) + eps (constant b1)",
    paper="Dozat, ICLR workshop (2016)",
    defaults=dict(c.MOMENTS),
    varied=dict(c.MOMENTS_VARIED),
    oracle=Nadam,
    first_two_updates=first_two_updates,
    optax_builder=lambda optax, lr, hp: optax.nadam(lr, hp["b1"], hp["b2"], hp["eps"]),
    optax_call="optax.nadam(lr, b1, b2, eps)",
    implementation="optimizers:nadam",
    complex_rule="modulus",
    adaptive=True,
    decays=("b1", "b2"),
    alternatives=(c.EPS_INSIDE, *c.bias_alternatives(True),
                  # torch keeps the running product in float32 (its default scalar dtype) and
                  # a port may keep it in float64: one convention, two precisions, one label
                  *(Alternative("torch_nadam", _TORCH_NADAM, {"momentum_decay": 4e-3, **precision}, _TORCH_NADAM_SEEN)
                    for precision in ({"mu_product_dtype": "float32"}, {})),
                  Alternative("keras_nadam", "Keras Nadam momentum schedule mu_t = b1(1 - 0.5*0.96^t), "
                              "bias-corrected by the running product of mu", {"momentum_decay": 1.0},
                              "keras.optimizers.Nadam (keras/src/optimizers/nadam.py, Keras 3.15.1: "
                              "u_t = beta_1*(1 - 0.5*0.96**t), _u_product in the variable's dtype)"),
                  c.GLOBAL),
    tuning=Tuning(
        step_family="adaptive",
        workload_lr={"mnist": 1e-3, "cifar10": 2e-3, "imdb": 2e-3},
        thresholds={"mnist": 0.90,  # measured 92.63 %, margin 2.6
                    "cifar10": 0.31,  # measured 38.6 %, margin 7.6
                    "imdb": 0.82},  # measured 86.06 %, margin 4.1
        convergence_eps_per_lr_l=CONVERGENCE_EPS_PER_LR_L,
    ),
    ranges=dict(c.MOMENTS_RANGES),
    bytes_per_param=28,
    target_x_floor=3.7,
    frameworks={
        "torch": FrameworkNames("torch.optim.NAdam", TORCH_NAMES),
        "keras": FrameworkNames("keras.optimizers.Nadam", KERAS_NAMES),
    },
)
