"""adadelta: Zeiler's Algorithm 1, the update Δx = -RMS[Δx]_{t-1}/RMS[g]_t g scaled by learning_rate.

Zeiler, "ADADELTA: an adaptive learning rate method", arXiv 1212.5701 (2012), Algorithm 1, with
RMS[y]_t = sqrt(E[y^2]_t + eps):

    E[g^2]_t  = rho E[g^2]_{t-1} + (1 - rho) g_t^2
    Δx_t      = -sqrt(E[Δx^2]_{t-1} + eps) / sqrt(E[g^2]_t + eps) * g_t
    E[Δx^2]_t = rho E[Δx^2]_{t-1} + (1 - rho) Δx_t^2
    x_{t+1}   = x_t + lr * Δx_t

Canonical form, and why. The paper has no learning rate (lr = 1 is the paper). optax, PyTorch and
Keras 3 all multiply the update by lr *after* it has been accumulated into E[Δx^2] (the paper's
unscaled Δx is accumulated, as Algorithm 1 says); so does this record. Read in:

* optax 0.2.8 ``optax.adadelta`` (optax/_src/alias.py) = chain(add_decayed_weights,
  ``scale_by_adadelta(rho, eps)``, ``scale_by_learning_rate(learning_rate)``);
  ``scale_by_adadelta`` (optax/_src/transform.py) accumulates e_x from its own (unscaled, not yet
  negated) output, the lr and the sign are applied by the next link. Defaults rho=0.9, eps=1e-6.
  Its default ``learning_rate=None`` makes ``scale_by_learning_rate`` the identity (transform.py:
  ``if learning_rate is None: return base.identity()``), so ``optax.adadelta()`` returns
  +RMS[Δx]/RMS[g] g, not negated: gradient *ascent* (alternative ``optax_lr_none`` below);
  optax's own alias_test.py skips its convergence check for adadelta with learning_rate None.
* torch 2.13 ``torch.optim.Adadelta`` (torch/optim/adadelta.py, _single_tensor_adadelta):
  lr=1.0, rho=0.9, eps=1e-6; std = sqrt(square_avg + eps), delta = sqrt(acc_delta + eps)/std*grad,
  acc_delta accumulates that delta, then param.add_(delta, alpha=-lr). The same rule.
* Keras 3.15 ``keras.optimizers.Adadelta`` (keras/src/optimizers/adadelta.py): learning_rate=0.001,
  rho=0.95, epsilon=1e-7; rms(x) = sqrt(x + epsilon) on both sides, accumulated_delta_var
  accumulates the unscaled delta_var, then variable += lr * delta_var. The same rule (other
  defaults only).

Conventions that differ (alternatives): lr inside the accumulated delta (climin, and the rejected
keras-team/keras PR #11532), eps outside the square roots, the learning rate ignored (the paper's
lr = 1, e.g. a port of Chainer's AdaDelta, which has no lr), and optax's learning_rate=None.

Not ``adaptive`` for the gradient-scale check: the numerator RMS[Δx] starts at sqrt(eps) and is
made of past updates, not of gradients, so eps sets the unit of the step (the first update is
-lr sqrt(eps/((1-rho) g^2 + eps)) g ~ -lr sqrt(eps/(1-rho)) sign(g)). The update is invariant to
scaling the gradients only while eps is negligible beside E[g^2] in the denominator; no value of
eps makes that exact: at eps = 0 every update is 0 (and 0/0 for a zero gradient).
"""

from __future__ import annotations

import numpy as np

from pytest_optim.specs.oracle import Oracle, stat
from pytest_optim.specs.record import Alternative, FrameworkNames, Spec, Tuning


class Adadelta(Oracle):
    """Zeiler Algorithm 1, update lr * Δx_t with the unscaled Δx_t accumulated into E[Δx^2].

    Variants: ``lr_in_delta`` (lr multiplies Δx before it is accumulated: E[Δx^2] holds (lr Δx)^2);
    ``eps_outside_sqrt`` (RMS[y] = sqrt(E[y^2]) + eps on both sides); ``ignore_lr`` (lr never
    applied: the paper's lr = 1); ``unnegated`` (+Δx: the update not negated).
    """

    def _init(self, zeros):
        return [(z.copy(), z.copy()) for z in zeros]

    def _rms(self, x):
        eps = self.hp["eps"]
        return np.sqrt(x) + eps if self.variant.get("eps_outside_sqrt") else np.sqrt(x + eps)

    def _leaf(self, g, s, t, lr, p):
        rho = self.hp["rho"]
        e_g, e_x = s
        e_g = rho * e_g + (1 - rho) * stat(g * g, self.variant)
        delta = self._rms(e_x) / self._rms(e_g) * g  # the step before its sign: Δx_t = -delta
        if self.variant.get("ignore_lr"):
            lr = 1.0
        if self.variant.get("lr_in_delta"):
            delta = lr * delta
            step = delta
        else:
            step = lr * delta
        e_x = rho * e_x + (1 - rho) * delta * delta
        return (step if self.variant.get("unnegated") else -step), (e_g, e_x)


def first_two_updates(hp, lr, g1, g2):
    rho, eps = hp["rho"], hp["eps"]
    a1 = (1 - rho) * g1**2 + eps  # E[g^2]_1 + eps
    u1 = -lr * np.sqrt(eps / a1) * g1
    # E[Δx^2]_1 + eps = (1 - rho) eps g1^2 / a1 + eps = eps ((1 - rho) g1^2 + a1) / a1
    num2 = eps * ((1 - rho) * g1**2 + a1) / a1
    den2 = rho * (1 - rho) * g1**2 + (1 - rho) * g2**2 + eps  # E[g^2]_2 + eps
    return u1, -lr * np.sqrt(num2 / den2) * g2


def _optax(optax, lr, hp):
    return optax.adadelta(lr, rho=hp["rho"], eps=hp["eps"])


SPEC = Spec(
    name="adadelta",
    rule="E[g^2] <- rho E[g^2] + (1-rho) g^2; d = sqrt(E[dx^2] + eps)/sqrt(E[g^2] + eps) g; "
         "E[dx^2] <- rho E[dx^2] + (1-rho) d^2; p <- p - lr d",
    paper="Zeiler, Algorithm 1 (arXiv 1212.5701, 2012); lr = 1 is the paper",
    defaults={"rho": 0.9, "eps": 1e-6},
    varied={"rho": 0.5, "eps": 1e-3},
    oracle=Adadelta,
    first_two_updates=first_two_updates,
    optax_builder=_optax,
    optax_call="optax.adadelta(lr, rho, eps)",
    implementation="optimizers.adadelta:adadelta",
    adaptive=False,  # see the module docstring: eps sets the step's unit, eps = 0 makes every update 0
    decays=("rho",),
    # E[Δx^2] feeds on its own past: a relative error in it is carried forward with factor
    # (rho + (1 - rho) g^2/(E[g^2] + eps)) E[Δx^2]_{t-1}/E[Δx^2]_t <= 1, i.e. not decayed once
    # E[Δx^2] >> eps: its roundings add up like a running sum's
    accumulates=True,
    alternatives=(
        Alternative("lr_in_delta", "lr inside the accumulated delta: E[dx^2] accumulates (lr d)^2, "
                    "p <- p - lr d with d = sqrt(E[dx^2] + eps)/sqrt(E[g^2] + eps) g (the same rule at lr = 1)",
                    {"lr_in_delta": True},
                    "climin.Adadelta (BRML/climin climin/adadelta.py: step_rate multiplies the step "
                    "before sms accumulates it); proposed for Keras in keras-team/keras PR #11532 (closed)"),
        Alternative("eps_outside_sqrt", "eps outside the square roots: (sqrt(E[dx^2]) + eps)/(sqrt(E[g^2]) + eps) g",
                    {"eps_outside_sqrt": True}, "RMS written as in Adam, sqrt(v) + eps"),
        Alternative("learning_rate_ignored", "learning rate ignored: the paper's lr = 1, p <- p - d",
                    {"ignore_lr": True},
                    "a port of chainer.optimizers.AdaDelta (no learning rate: param -= dx); "
                    "d2l.ai's adadelta"),
        Alternative("optax_lr_none", "optax.adadelta(learning_rate=None): lr ignored and the update not "
                    "negated, p <- p + d (gradient ascent)", {"ignore_lr": True, "unnegated": True},
                    "optax.adadelta's default learning_rate=None: scale_by_learning_rate(None) is the identity "
                    "(optax/_src/transform.py), so nothing flips the sign"),
    ),
    tuning=Tuning(
        # near x* (E[g^2], E[dx^2] << eps) the update is lr g: gradient descent with step lr, stable
        # at the problem's GD learning rate (1/L; lr = 1 on the quadratics is the paper's)
        step_family="gd",
        # lr = 1: the paper's rule and torch's default (lr = 3 measured 94.11 / 38.90 / 81.46 %)
        workload_lr={"mnist": 1.0, "cifar10": 1.0, "imdb": 1.0},
        thresholds={"mnist": 0.90,  # measured 93.01 %, margin 3.0
                    "cifar10": 0.29,  # measured 36.3 %, margin 7.3
                    "imdb": 0.75},  # measured 79.50 %, margin 4.5
    ),
    ranges={"rho": (0.0, 0.999), "eps": (1e-12, 1e-1)},
    bytes_per_param=28,  # read p, g, E[g^2], E[dx^2]; write p, E[g^2], E[dx^2]: 7 x 4 bytes
    target_x_floor=4.8,  # HLO: 14 passes (4.67x the floor in bytes); XLA:CPU keeps r = (E[dx^2]+eps)/(E[g^2]+eps)
    frameworks={
        "torch": FrameworkNames("torch.optim.Adadelta", {"learning_rate": "lr", "rho": "rho", "eps": "eps"}),
        "keras": FrameworkNames("keras.optimizers.Adadelta", {"learning_rate": "learning_rate", "rho": "rho",
                                                               "eps": "epsilon"}),
    },
)
