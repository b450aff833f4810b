"""adabelief: Zhuang et al., Adam with the EMA of (g - m)^2 in place of g^2."""

from __future__ import annotations

import math

import numpy as np

from pytest_optim.specs import conventions as c
from pytest_optim.specs.oracle import Oracle, correction, stat
from pytest_optim.specs.record import Alternative, Spec, Tuning


class Adabelief(Oracle):
    """Zhuang et al.: s_t = b2 s + (1-b2)(g - m_t)^2 + eps_root; update -lr m_hat/(sqrt(s_hat)+eps).

    Variants: ``single_eps`` (the authors' adabelief-pytorch: one eps, added to the stored s every
    step and again outside the root; eps_root unused); ``rectify`` (adabelief-pytorch's default
    RAdam rectification with degenerated_to_sgd, see ``_rectified``).
    """

    SPREADS = True  # the belief g - m cancels where m is close to g (a small b1): see ``_leaf``

    def _init(self, zeros):
        return [(z.copy(), z.copy(), z.copy()) for z in zeros]  # m, s and w (the cancellation's, below)

    def _leaf(self, g, st, t, lr, p):
        b1, b2 = self.hp["b1"], self.hp["b2"]
        eps = self.hp["eps"]
        eps_root = eps if self.variant.get("single_eps") else self.hp["eps_root"]
        m_prev, s, w = st
        m = b1 * m_prev + (1 - b1) * g
        m_used = m_prev if self.variant.get("belief_uses_previous_m") else m
        belief = g - m_used
        s = b2 * s + (1 - b2) * stat(belief * belief, self.variant)
        # The belief is a difference of nearly equal numbers where m is close to g (b1 -> 0, or
        # gradients that barely change): rounded, it is off by up to k u (|g| + |m|) however small it
        # is, k = 3 min(t, 1/(1 - b1)) for the error m carries (tolerance.py's EMA term) + 2 for
        # forming m and the difference; its square is off by 2 |belief| k u (|g| + |m|) to first
        # order. The EMA s keeps those errors as it keeps the squares, so w, the same EMA of
        # 2 |belief| k (|g| + |m|), bounds s's error per unit of u (first order, Higham ch. 3). It
        # reaches the update through d sqrt(s_hat) = ds_hat / (2 sqrt(s_hat)) and u = -lr m_hat / D,
        # D = sqrt(s_hat) + eps: |du| = |u| d sqrt(s_hat) / D, the element's spread. compare_updates
        # multiplies a spread by rtol = u amp, so it is divided by amp (taken at this step, <= the
        # whole trajectory's: the allowance can only come out larger).
        k = 3.0 * min(t, 1.0 / max(1.0 - b1, 1e-12)) + 2.0
        w = b2 * w + (1 - b2) * 2.0 * np.abs(belief) * k * (np.abs(g) + np.abs(m_used))
        if not self.variant.get("eps_root_in_update_only"):
            s = s + eps_root
        if self.variant.get("rectify"):
            u, adapted = self._rectified(m, s, t, lr, eps)
            if adapted:  # the rectified step divides by sqrt(s) + eps (s not bias-corrected)
                self._spread(u, s, w, eps)
            return u, (m, s, w)
        m_hat = m / correction(b1, t, self.variant, "m")
        c2 = correction(b2, t, self.variant, "v")
        s_hat = s / c2
        if self.variant.get("eps_root_in_update_only"):
            s_hat = s_hat + eps_root
        u = -lr * m_hat / (np.sqrt(s_hat) + eps)
        self._spread(u, s_hat, w / c2, eps)
        return u, (m, s, w)

    def _spread(self, u, s_hat, w_hat, eps):
        """|u| d sqrt(s_hat) / D per unit of rtol; 0 where s_hat is 0 (the belief was exactly 0 at
        every step: b1 = 0, where m = g exactly in any precision and nothing cancels)."""
        from pytest_optim.conformance.tolerance import OPS  # (a lazy import: tolerance imports specs)

        amp = OPS + sum(3.0 * min(self.t, 1.0 / max(1.0 - self.hp[b], 1e-12)) for b in ("b1", "b2"))
        root = np.sqrt(s_hat)
        with np.errstate(divide="ignore", invalid="ignore"):
            spread = np.where(root > 0, np.abs(u) * w_hat / (2.0 * root * (root + eps) * amp), 0.0)
        self.spreads[self._leaf_index] = np.where(np.isfinite(spread), spread, 0.0)

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
            return -lr * step_size * m / (np.sqrt(s) + eps), True
        return -lr * m / (1 - b1**t), False


def first_two_updates(hp, lr, g1, g2):
    b1, b2, eps, er = hp["b1"], hp["b2"], hp["eps"], hp["eps_root"]
    m1 = (1 - b1) * g1
    s1 = (1 - b2) * (g1 - m1) ** 2 + er
    m2 = b1 * m1 + (1 - b1) * g2
    s2 = b2 * s1 + (1 - b2) * (g2 - m2) ** 2 + er
    u1 = -lr * g1 / (np.sqrt(s1 / (1 - b2)) + eps)
    u2 = -lr * (m2 / (1 - b1**2)) / (np.sqrt(s2 / (1 - b2**2)) + eps)
    return u1, u2


SPEC = Spec(
    name="adabelief",
    rule="s <- b2*s + (1-b2)*(g - m_t)^2 + eps_root; p <- p - lr*m_hat/(sqrt(s_hat) + eps)",
    paper="Zhuang et al. (NeurIPS 2020)",
    defaults=dict(b1=0.9, b2=0.999, eps=1e-16, eps_root=1e-16),
    varied=dict(b1=0.5, b2=0.9, eps=1e-3, eps_root=1e-2),
    oracle=Adabelief,
    first_two_updates=first_two_updates,
    optax_builder=lambda optax, lr, hp: optax.adabelief(lr, hp["b1"], hp["b2"], hp["eps"], hp["eps_root"]),
    optax_call="optax.adabelief(lr, b1, b2, eps, eps_root)",
    implementation="optimizers:adabelief",
    complex_rule="modulus",
    adaptive=True,
    decays=("b1", "b2"),
    alternatives=(*c.bias_alternatives(True),
                  Alternative("eps_root_in_update_only", "eps_root added to s_hat in the update, not stored in s",
                              {"eps_root_in_update_only": True}),
                  Alternative("single_eps", "one eps, stored in s every step and added outside the root "
                              "(eps_root ignored): s += eps; m_hat/(sqrt(s_hat) + eps)", {"single_eps": True},
                              "adabelief-pytorch AdaBelief.step: exp_avg_var.add_(eps) in place, then "
                              "/ sqrt(bias_correction2) + eps (0.1.0-0.2.1 with rectify=False); "
                              "torch_optimizer.AdaBelief (jettify/pytorch-optimizer), rectify=False"),
                  Alternative("radam_rectified", "adabelief-pytorch's default RAdam rectification: "
                              "-lr m/(1-b1^t) while N_sma < 5, then -lr r_t sqrt(1-b2^t)/(1-b1^t) "
                              "m/(sqrt(s) + eps) with one eps stored in s",
                              {"rectify": True, "single_eps": True},
                              "adabelief_pytorch.AdaBelief defaults rectify=True, degenerated_to_sgd=True "
                              "(0.1.0-0.2.1, juntang-zhuang/Adabelief-Optimizer pypi_packages)"),
                  Alternative("belief_uses_previous_m", "belief term uses m_(t-1) instead of m_t",
                              {"belief_uses_previous_m": True}),
                  c.GLOBAL),
    tuning=Tuning(
        step_family="adaptive",
        workload_lr={"mnist": 1e-3, "cifar10": 2e-3, "imdb": 2e-3},
        thresholds={"mnist": 0.90,  # measured 92.90 %, margin 2.9
                    "cifar10": 0.30,  # measured 37.1 %, margin 7.1
                    "imdb": 0.82},  # measured 86.12 %, margin 4.1
        convergence_eps_per_lr_l=1.0,  # as adam (see specs/adam.py)
    ),
    ranges={**c.MOMENTS_RANGES, "eps": (1e-16, 1e-1), "eps_root": (0.0, 1e-3)},  # its default eps is 1e-16
    bytes_per_param=28,
    target_x_floor=4.0,
    # not in torch.optim or keras.optimizers; the authors' adabelief-pytorch is checked through the
    # NumPy-style adapter (tests/candidates/numpy_ports.py)
    frameworks={"torch": None, "keras": None},
)
