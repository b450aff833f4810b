"""Float64 NumPy oracles: the papers' update rules, written independently of any JAX code.

An oracle sees one list of gradient leaves per step (already upcast to float64) and returns
the update to *add* to the parameters. Every rule is elementwise, so leaves are handled one
at a time and the pytree structure never matters here.

Each oracle takes ``variant`` keywords that switch on one known alternative convention
(eps inside the sqrt, dampened momentum, missing bias correction, ...). The canonical rule is
the one with no variant; the alternatives exist so that the diagnoser can say *which*
convention a candidate implements when it does not implement the canonical one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

Leaves = list[np.ndarray]


@dataclass
class Oracle:
    """Base: ``step(grads, lr)`` advances the internal float64 state and returns updates."""

    hp: dict[str, float]
    variant: dict[str, Any] = field(default_factory=dict)
    t: int = 0  # number of updates already made

    def init(self, leaves: Leaves) -> None:
        self.state = self._init([np.zeros(np.shape(x), np.float64) for x in leaves])

    def step(self, grads: Leaves, lr: float) -> Leaves:
        self.t += 1
        out = []
        for i, g in enumerate(grads):
            g = np.asarray(g, np.float64)
            u, self.state[i] = self._leaf(g, self.state[i], self.t, lr)
            out.append(u)
        return out

    def _init(self, zeros: Leaves) -> list:
        return [None for _ in zeros]

    def _leaf(self, g, s, t, lr):  # pragma: no cover - abstract
        raise NotImplementedError


def _stat(x: np.ndarray, variant: dict) -> np.ndarray:
    """Elementwise statistic, or (a bug) its mean over the whole leaf."""
    if variant.get("global_statistics"):
        return np.full_like(x, x.mean() if x.size else 0.0)
    return x


class Sgd(Oracle):
    def _leaf(self, g, s, t, lr):
        return -lr * g, s


class Momentum(Oracle):
    """v_t = mu v_{t-1} + g_t (v_0 = 0); update -lr v_t, or -lr (g_t + mu v_t) for Nesterov."""

    nesterov = False

    def _init(self, zeros):
        return [z.copy() for z in zeros]

    def _leaf(self, g, v, t, lr):
        mu = self.hp["momentum"]
        d = self.variant.get("dampening", 0.0)
        nesterov = self.variant.get("nesterov", self.nesterov)
        if self.variant.get("lr_in_velocity"):  # Keras: v = mu v + lr g; p -= v (or lr g + mu v)
            v = mu * v + lr * g
            return -(lr * g + mu * v if nesterov else v), v
        if self.variant.get("first_step_buffer") and t == 1:
            v = g.copy()  # PyTorch: the buffer is initialised to g on the first step
        else:
            v = mu * v + (1 - d) * g
        direction = g + mu * v if nesterov else v
        return -lr * direction, v


class Nesterov(Momentum):
    nesterov = True


class Adagrad(Oracle):
    """r_t = r_{t-1} + g_t^2 (r_0 = initial_accumulator_value); update -lr g/(sqrt(r) + eps)."""

    def _init(self, zeros):
        if self.variant.get("zero_initial_accumulator"):  # r_0 = 0 whatever initial_accumulator_value says
            return [z.copy() for z in zeros]
        return [z + self.hp["initial_accumulator_value"] for z in zeros]

    def _leaf(self, g, r, t, lr):
        eps = self.hp["eps"]
        r = r + _stat(g * g, self.variant)
        if self.variant.get("optax_adagrad"):  # eps inside, zero where the accumulator is 0
            safe = np.where(r > 0, r, 1.0)
            return np.where(r > 0, -lr * g / np.sqrt(safe + eps), 0.0), r
        if self.variant.get("eps_inside_sqrt"):
            return -lr * g / np.sqrt(r + eps), r
        return -lr * g / (np.sqrt(r) + eps), r


class Rmsprop(Oracle):
    """r_t = decay r_{t-1} + (1 - decay) g_t^2 (r_0 = 0); update -lr g/(sqrt(r) + eps).

    Variant ``initial_scale`` = r_0 (optax's ``initial_scale``; autograd's rmsprop starts at 1).
    """

    def _init(self, zeros):
        return [z + self.variant.get("initial_scale", 0.0) for z in zeros]

    def _leaf(self, g, r, t, lr):
        rho, eps = self.hp["decay"], self.hp["eps"]
        r = rho * r + (1 - rho) * _stat(g * g, self.variant)
        denom = np.sqrt(r + eps) if self.variant.get("eps_inside_sqrt") else np.sqrt(r) + eps
        return -lr * g / denom, r


def _correction(beta: float, t: int, variant: dict, which: str) -> float:
    """1 - beta**t, or one of the known mistakes (none, off by one for one or both moments)."""
    if variant.get(f"no_bias_correction_{which}") or variant.get("no_bias_correction"):
        return 1.0
    return 1.0 - beta ** (t + variant.get("bias_offset", 0) + variant.get(f"bias_offset_{which}", 0))


class Adam(Oracle):
    """Kingma & Ba Algorithm 1: update -lr m_hat / (sqrt(v_hat) + eps)."""

    def _init(self, zeros):
        return [(z.copy(), z.copy()) for z in zeros]

    def _moments(self, g, s):
        b1, b2 = self.hp["b1"], self.hp["b2"]
        m, v = s
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * _stat(g * g, self.variant)
        return m, v

    def _leaf(self, g, s, t, lr):
        b1, b2, eps = self.hp["b1"], self.hp["b2"], self.hp["eps"]
        m, v = self._moments(g, s)
        if self.variant.get("eps_hat"):  # TF/Keras: bias corrections folded into the step size
            step = lr * np.sqrt(1 - b2**t) / (1 - b1**t)
            return -step * m / (np.sqrt(v) + eps), (m, v)
        m_hat = self._m_hat(m, g, t)
        v_hat = v / _correction(b2, t, self.variant, "v")
        denom = np.sqrt(v_hat + eps) if self.variant.get("eps_inside_sqrt") else np.sqrt(v_hat) + eps
        return -lr * m_hat / denom, (m, v)

    def _m_hat(self, m, g, t):
        return m / _correction(self.hp["b1"], t, self.variant, "m")


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
        return b1 * m / _correction(b1, t + 1, self.variant, "m") + (1 - b1) * g / _correction(
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


class Adamax(Oracle):
    """Kingma & Ba section 7.1: u_t = max(b2 u_{t-1}, |g_t| + eps); update -lr m_hat / u."""

    def _init(self, zeros):
        return [(z.copy(), z.copy()) for z in zeros]

    def _leaf(self, g, s, t, lr):
        b1, b2, eps = self.hp["b1"], self.hp["b2"], self.hp["eps"]
        m, u = s
        m = b1 * m + (1 - b1) * g
        if self.variant.get("keras_adamax"):  # u = max(b2 u, |g|); divide by (u + eps)
            u = np.maximum(b2 * u, np.abs(g))
            return -lr * (m / _correction(b1, t, self.variant, "m")) / (u + eps), (m, u)
        u = np.maximum(b2 * u, np.abs(g) + eps)
        return -lr * (m / _correction(b1, t, self.variant, "m")) / u, (m, u)


class Adabelief(Oracle):
    """Zhuang et al.: s_t = b2 s + (1-b2)(g - m_t)^2 + eps_root; update -lr m_hat/(sqrt(s_hat)+eps).

    Variants: ``single_eps`` (the authors' adabelief-pytorch: one eps, added to the stored s every
    step and again outside the root; eps_root unused); ``rectify`` (adabelief-pytorch's default
    RAdam rectification with degenerated_to_sgd, see ``_rectified``).
    """

    def _init(self, zeros):
        return [(z.copy(), z.copy()) for z in zeros]

    def _leaf(self, g, st, t, lr):
        b1, b2 = self.hp["b1"], self.hp["b2"]
        eps = self.hp["eps"]
        eps_root = eps if self.variant.get("single_eps") else self.hp["eps_root"]
        m_prev, s = st
        m = b1 * m_prev + (1 - b1) * g
        belief = g - (m_prev if self.variant.get("belief_uses_previous_m") else m)
        s = b2 * s + (1 - b2) * _stat(belief * belief, self.variant)
        if not self.variant.get("eps_root_in_update_only"):
            s = s + eps_root
        if self.variant.get("rectify"):
            return self._rectified(m, s, t, lr, eps), (m, s)
        m_hat = m / _correction(b1, t, self.variant, "m")
        s_hat = s / _correction(b2, t, self.variant, "v")
        if self.variant.get("eps_root_in_update_only"):
            s_hat = s_hat + eps_root
        return -lr * m_hat / (np.sqrt(s_hat) + eps), (m, s)

    def _rectified(self, m, s, t, lr, eps):
        """adabelief-pytorch (0.1.0-0.2.x) with rectify=True, degenerated_to_sgd=True.

        N_sma = N_sma_max - 2 t b2^t/(1 - b2^t), N_sma_max = 2/(1 - b2) - 1. While N_sma < 5 (the
        first 5 steps for b2 = 0.999) the step is SGD with momentum, -lr m/(1 - b1^t); then
        -lr r_t sqrt(1 - b2^t)/(1 - b1^t) m/(sqrt(s) + eps), s not bias-corrected. Same operation
        order as the original, so that the N_sma >= 5 test falls the same way.
        """
        b1, b2 = self.hp["b1"], self.hp["b2"]
        beta2_t = b2**t
        n_sma_max = 2 / (1 - b2) - 1
        n_sma = n_sma_max - 2 * t * beta2_t / (1 - beta2_t)
        if n_sma >= 5:
            step_size = math.sqrt(
                (1 - beta2_t) * (n_sma - 4) / (n_sma_max - 4) * (n_sma - 2) / n_sma * n_sma_max / (n_sma_max - 2)
            ) / (1 - b1**t)
            return -lr * step_size * m / (np.sqrt(s) + eps)
        return -lr * m / (1 - b1**t)


ORACLES: dict[str, Callable[..., Oracle]] = {
    "sgd": Sgd,
    "momentum": Momentum,
    "nesterov": Nesterov,
    "adagrad": Adagrad,
    "rmsprop": Rmsprop,
    "adam": Adam,
    "adamax": Adamax,
    "nadam": Nadam,
    "adabelief": Adabelief,
}


def run_oracle(
    name: str,
    hp: dict[str, float],
    grads: list[Leaves],
    lrs: list[float],
    variant: dict | None = None,
) -> list[Leaves]:
    """Updates of the ``name`` rule for a given sequence of gradients (one list of leaves per step)."""
    oracle = ORACLES[name](hp={k: float(v) for k, v in hp.items()}, variant=dict(variant or {}))
    oracle.init(grads[0])
    # alternatives such as an off-by-one bias correction divide by zero at step 1: that is their
    # (inf) answer, not a warning for the user
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        return [oracle.step(g, lr) for g, lr in zip(grads, lrs)]
