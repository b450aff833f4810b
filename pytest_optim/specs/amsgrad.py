"""amsgrad: Adam with the running maximum of the raw second moment (Reddi, Kale & Kumar, ICLR 2018).

Canonical form, as torch.optim.Adam(amsgrad=True) and keras.optimizers.Adam(amsgrad=True) compute it:

    m_t = b1 m + (1 - b1) g,  v_t = b2 v + (1 - b2) g^2,  v_max_t = max(v_max_{t-1}, v_t)
    p <- p - lr (m_t/(1 - b1^t)) / (sqrt(v_max_t/(1 - b2^t)) + eps)

torch/optim/adam.py: ``torch.maximum(max_exp_avg_sqs[i], exp_avg_sq, out=...)``, then
``denom = max_exp_avg_sqs[i].sqrt() / bias_correction2_sqrt + eps``. Keras's Adam.update_step takes
``ops.maximum(v_hat, v)`` of the raw v and folds both corrections into alpha (eps-hat form).

Why not the paper's Algorithm 2 (m_t = b1t m + (1 - b1t) g, v_hat_t = max(v_hat_{t-1}, v_t),
x <- x - alpha_t m_t/sqrt(v_hat_t)): it has no eps (so a zero first gradient gives 0/0), no bias
corrections, and a theory-only decaying b1t and alpha/sqrt(t). Every library adds eps. The two most
used implementations, PyTorch and Keras, define AMSGrad as "Adam with amsgrad=True", i.e. Adam's
bias-corrected step with the max of the raw v. Anyone who ports AMSGrad from them expects this
form. With this form amsgrad reduces to Adam exactly while v_t is non-decreasing. The paper's form
(with eps, constant b1) is the alternative ``no_bias_correction``. optax.amsgrad(...,
bias_correction_mu=False, bias_correction_nu=False) computes it.

optax.amsgrad (0.2.8, transform.scale_by_amsgrad) takes the max of the *bias-corrected*
v_hat_t = v_t/(1 - b2^t) by default: ``max_of_bias_corrected`` (optax #1389). Its flags
bias_correction_mu / bias_correction_nu (from PR #1423) give the paper's form or m_hat/(sqrt(max v) + eps)
(``no_bias_correction_v`` here). No setting gives torch's form, so optax is inexact here. The two agree
while v_t/(1 - b2^t) is non-decreasing, and exactly at b2 = 0 (v = g^2, no correction).
PyTorch's docs up to 2.5 described optax's form, against PyTorch's own code (pytorch #142323,
fixed by PR #142351). No code follows those docs, so they add no convention.
"""

from __future__ import annotations

import numpy as np

from pytest_optim.specs import conventions as c
from pytest_optim.specs.adam import KERAS_NAMES, TORCH_NAMES
from pytest_optim.specs.oracle import Oracle, correction, stat
from pytest_optim.specs.record import Alternative, FrameworkNames, Spec, Tuning


class Amsgrad(Oracle):
    """update -lr m_hat / (sqrt(max_{s<=t} v_s / (1 - b2^t)) + eps).

    Variants: ``max_of_bias_corrected`` (optax: max of v_s/(1 - b2^s), no correction afterwards);
    ``eps_hat`` (Keras: lr sqrt(1-b2^t)/(1-b1^t) m/(sqrt(v_max) + eps)); ``no_max`` (plain Adam);
    the bias-correction, eps_inside_sqrt and global_statistics variants shared with adam.
    """

    def _init(self, zeros):
        return [(z.copy(), z.copy(), z.copy()) for z in zeros]

    def _leaf(self, g, s, t, lr, p):
        b1, b2, eps = self.hp["b1"], self.hp["b2"], self.hp["eps"]
        m, v, v_max = s
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * stat(g * g, self.variant)
        c2 = correction(b2, t, self.variant, "v")
        if self.variant.get("no_max"):
            v_max, v_hat = v, v / c2
        elif self.variant.get("max_of_bias_corrected"):
            v_max = np.maximum(v_max, v / c2)
            v_hat = v_max
        else:
            v_max = np.maximum(v_max, v)
            v_hat = v_max / c2
        state = (m, v, v_max)
        if self.variant.get("eps_hat"):
            step = lr * np.sqrt(1 - b2**t) / (1 - b1**t)
            return -step * m / (np.sqrt(v_max) + eps), state
        m_hat = m / correction(b1, t, self.variant, "m")
        denom = np.sqrt(v_hat + eps) if self.variant.get("eps_inside_sqrt") else np.sqrt(v_hat) + eps
        return -lr * m_hat / denom, state


def first_two_updates(hp, lr, g1, g2):
    b1, b2, eps = hp["b1"], hp["b2"], hp["eps"]
    v1 = (1 - b2) * g1**2
    v2 = b2 * v1 + (1 - b2) * g2**2
    m_hat2 = (b1 * g1 + g2) / (1 + b1)
    v_hat2 = np.maximum(v1, v2) / (1 - b2**2)  # the max of the raw v, then corrected with 1 - b2^2
    return -lr * g1 / (np.abs(g1) + eps), -lr * m_hat2 / (np.sqrt(v_hat2) + eps)


def _bias_alternatives():
    """specs/conventions.py's bias alternatives, with the paper named where it is one of them."""
    out = []
    for alt in c.bias_alternatives(True):
        if alt.key == "no_bias_correction":
            alt = Alternative(alt.key, "no bias correction (Reddi et al.'s Algorithm 2 with eps): "
                              "m/(sqrt(max v) + eps)", alt.variant,
                              "the paper; optax.amsgrad(bias_correction_mu=False, bias_correction_nu=False)")
        elif alt.key == "no_bias_correction_v":
            alt = Alternative(alt.key, "max of the raw v, not bias-corrected: m_hat/(sqrt(max v) + eps)",
                              alt.variant, "optax.amsgrad(bias_correction_nu=False)")
        out.append(alt)
    return tuple(out)


SPEC = Spec(
    name="amsgrad",
    rule="m_hat/(sqrt(v_max/(1 - b2^t)) + eps), v_max = running max of Adam's raw v (torch/Keras form)",
    paper="Reddi, Kale & Kumar, Algorithm 2 (ICLR 2018), with Adam's bias corrections and eps as torch/Keras",
    defaults=dict(c.MOMENTS),
    varied=dict(c.MOMENTS_VARIED),
    oracle=Amsgrad,
    first_two_updates=first_two_updates,
    optax_builder=lambda optax, lr, hp: optax.amsgrad(lr, hp["b1"], hp["b2"], hp["eps"]),
    optax_call="optax.amsgrad(lr, b1, b2, eps)",
    optax_exact=False,
    optax_note=("optax.amsgrad takes the max of the bias-corrected v_hat (optax #1389); torch/Keras (the canonical "
                "form) the max of the raw v, corrected afterwards. They coincide while v_t/(1-b2^t) does not "
                "decrease, and at b2 = 0"),
    optax_exact_at={"b2": 0.0},
    implementation="optimizers.amsgrad:amsgrad",
    adaptive=True,
    decays=("b1", "b2"),
    alternatives=(
        Alternative("max_of_bias_corrected", "optax form: max of the bias-corrected v_hat, not of the raw v: "
                    "m_hat/(sqrt(max_s v_s/(1-b2^s)) + eps)", {"max_of_bias_corrected": True},
                    "optax.amsgrad / scale_by_amsgrad default (optax #1389); torch <= 2.5 docs (pytorch #142323)"),
        Alternative("eps_hat", "TF/Keras 'eps-hat' step: lr*sqrt(1-b2^t)/(1-b1^t)*m/(sqrt(max v)+eps)",
                    {"eps_hat": True}, "keras.optimizers.Adam(amsgrad=True) (Adam.update_step)"),
        Alternative("no_max", "plain Adam: the running max is never used", {"no_max": True},
                    "torch.optim.Adam / keras Adam with amsgrad=False (the default)"),
        *_bias_alternatives(), c.EPS_INSIDE, c.GLOBAL,
    ),
    tuning=Tuning(
        step_family="adaptive",
        workload_lr={"mnist": 1e-3, "cifar10": 2e-3, "imdb": 2e-3},
        thresholds={"mnist": 0.90,  # measured 92.61 %, margin 2.6
                    "cifar10": 0.30,  # measured 37.5 %, margin 7.5
                    "imdb": 0.82},  # measured 86.02 %, margin 4.0
        convergence_eps_per_lr_l=1.0,  # as adam (see specs/adam.py)
    ),
    ranges=dict(c.MOMENTS_RANGES),
    bytes_per_param=36,  # read p, g, m, v, v_max; write p, m, v, v_max
    target_x_floor=4.4,  # the compiled step makes 13 memory passes (as optax.amsgrad), the floor 3: 4.33x
    frameworks={
        "torch": FrameworkNames("torch.optim.Adam", TORCH_NAMES, fixed={"amsgrad": True}),
        "keras": FrameworkNames("keras.optimizers.Adam", KERAS_NAMES, fixed={"amsgrad": True}),
    },
)
