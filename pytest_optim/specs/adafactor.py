"""adafactor: Shazeer & Stern, "Adafactor: adaptive learning rates with sublinear memory cost" (ICML 2018).

Canonical form: Algorithms 4 (a matrix) and 5 (a vector) with the paper's sections 7-9:

* beta2_t = 1 - t^(-decay_rate) (section 7.2, decay_rate 0.8; beta2_1 = 0, so no bias correction);
* a factored second moment for every leaf of rank >= 2: R_t = beta2_t R + (1 - beta2_t) mean_rows(G^2 + eps),
  C_t = beta2_t C + (1 - beta2_t) mean_cols(G^2 + eps), V_hat = R_t C_t / mean(R_t) (means instead of the
  paper's sums: the same V_hat, R C / (1'R) with sums, as torch's docstring notes); an unfactored
  V_t = beta2_t V + (1 - beta2_t)(G^2 + eps) for vectors and scalars;
* U = G / sqrt(V_hat), update clipping U_hat = U / max(1, RMS(U)/clipping_threshold) (section 6);
* the relative step (section 8): alpha_t = max(eps2, RMS(X_{t-1})) rho_t with eps2 = 1e-3.

The learning rate. The harness always passes one, so it is rho_t, the relative step size, exactly as
optax.adafactor uses a float ``learning_rate`` (optax/_src/alias.py: scale_by_factored_rms ->
clip_by_block_rms -> scale_by_learning_rate -> scale_by_param_block_rms(min_scale=1e-3)): the
update is -lr_t max(1e-3, RMS(p)) U_hat. The paper's own rho_t = min(1e-2, 1/sqrt(t)) is then one
schedule among others. torch.optim.Adafactor and keras.optimizers.Adafactor cap the given lr by the
paper's schedule instead, rho_t = min(lr, 1/sqrt(t)) (torch/optim/_adafactor.py
``rho_t = min(lr, 1 / (step_float**0.5))``; keras/src/optimizers/adafactor.py ``rho_t =
ops.minimum(lr, 1 / ops.sqrt(local_step))``, computed whether or not relative_step is set): the
alternative ``relative_step_cap``. It differs from the canonical rule once 1/sqrt(t) < lr, i.e. after
1/lr^2 steps (400 at the checks' lr 0.05: only the 2000-step regime sees it).

Which leaves are factored. The paper factors every matrix, so the canonical default of optax's
``min_dim_size_to_factor`` is 1.0 (a leaf of rank >= 2 is factored when its second-largest
dimension is >= this, optax/_src/factorized.py ``_factored_dims``; 1.0 factors every leaf of rank
>= 2 that is not empty). optax's own default, 128, is a memory heuristic (nothing below 128 x 128
saves memory worth having); at 128 nothing in the harness's problems would be factored, so the
matrix regime (matrix_least_squares, a (6, 4) kernel) and the (2, 2) kernels of the nested problems
would never exercise the factored rule. 128 is the varied value, and the alternative
``unfactored`` is what a candidate that keeps optax's 128 (or factors nothing) computes. optax
factors the two largest axes; torch, Keras and transformers the last two (torch ``grad.dim() > 1``
with means over dims -1, -2; keras ``len(var.shape) >= 2``, axes -1, -2; transformers
``len(grad_shape) >= 2``). For rank 2 these are the same axes, and V_hat is symmetric in the two, so
torch's (out, in) layout and JAX's (in, out) give the same numbers; they differ only for rank >= 3
leaves, which no problem here has.

Fixed parts of the rule, not hyperparameters: optax's booleans ``factored=True`` and
``multiply_by_parameter_scale=True`` (the paper's rule; turning either off is a different rule: the
alternatives ``unfactored`` and ``no_parameter_scale``), eps2 = 1e-3 (optax fixes it too), and
``decay_offset = 0`` (a step offset for fine-tuning; a varied offset makes t - offset <= 0 and
t^-0.8 undefined on the first steps).

Optional parts, as optax spells them: ``momentum`` (0.0: none, the paper's beta1 = 0) is an EMA
(no debiasing) of the clipped, lr- and parameter-scaled update (optax ``ema(momentum,
debias=False)`` after the scale; tensor2tensor and transformers do the same, see transformers
#34506); ``weight_decay_rate`` (0.0: none) adds -wd p, not multiplied by the learning rate (optax
``add_decayed_weights`` after the scale). torch decays by lr wd p (``param.mul_(1 - lr *
weight_decay)``), transformers by the scaled step size lr max(eps2, RMS(p)) wd p
(``p_data_fp32.add_(p_data_fp32, alpha=-weight_decay * lr)`` with lr from ``_get_lr``).
"""

from __future__ import annotations

import math

import numpy as np

from pytest_optim.specs.oracle import Oracle
from pytest_optim.specs.record import Alternative, FrameworkNames, Spec, Tuning

EPS2 = 1e-3  # the paper's epsilon_2, the floor of the parameter scale (optax: scale_by_param_block_rms min_scale)
TORCH_EPS1_FLOAT32 = float(np.finfo(np.float32).eps)  # torch's eps=(None, ...) on float32 parameters


def factored_dims(shape, min_dim_size_to_factor):
    """(d1, d0): the second-largest and the largest axis of a leaf of rank >= 2 whose second-largest
    dimension is >= min_dim_size_to_factor; None otherwise (optax's ``_factored_dims``)."""
    if len(shape) < 2:
        return None
    order = np.argsort(shape, kind="stable")
    if shape[order[-2]] < min_dim_size_to_factor:
        return None
    return int(order[-2]), int(order[-1])


def _rms(x):
    return math.sqrt(float(np.mean(x * x))) if x.size else float("nan")


class Adafactor(Oracle):
    """Algorithms 4/5 of Shazeer & Stern with the relative step, update clipping and beta2_t = 1 - t^-c.

    update = -rho_t max(1e-3, RMS(p)) U / max(1, RMS(U)/d), rho_t the given learning rate, U = G/sqrt(V_hat).

    Variants: ``unfactored`` (V per element for every leaf: optax's default min_dim_size_to_factor=128
    on leaves below 128, factored=False); ``relative_step`` (rho_t = min(lr, 1/sqrt(t)): torch, Keras);
    ``clip_inverted`` (U / min(1, RMS(U)/d)); ``no_parameter_scale`` (step lr U_hat); ``momentum_on_gradient``
    (the EMA of G replaces G before normalising); ``decay_times_lr`` (-lr wd p: torch);
    ``decay_times_scaled_lr`` (-lr max(eps2, RMS(p)) wd p: transformers); ``torch_eps`` (no eps in G^2;
    V_hat = R C / max(mean(R), eps1) clamped at eps1^2, eps1 = float32 machine eps: torch's eps=(None, .)).
    """

    def _init(self, zeros):
        out = []
        for z in zeros:
            dims = None if self.variant.get("unfactored") else factored_dims(z.shape, self.hp["min_dim_size_to_factor"])
            if dims is None:
                out.append({"dims": None, "v": z.copy(), "m": z.copy(), "g": z.copy()})
            else:
                d1, d0 = dims
                out.append({"dims": dims, "r": np.mean(z, axis=d0), "c": np.mean(z, axis=d1), "m": z.copy(),
                            "g": z.copy()})
        return out

    def _leaf(self, g, st, t, lr, p):
        if p is None:
            raise ValueError("adafactor's step is scaled by RMS(p): the oracle needs the parameters")
        hp, var = self.hp, self.variant
        mom, wd, d = hp["momentum"], hp["weight_decay_rate"], hp["clipping_threshold"]
        st = dict(st)
        beta = 1.0 - float(t) ** (-hp["decay_rate"])
        x = g
        if var.get("momentum_on_gradient"):
            st["g"] = mom * st["g"] + (1 - mom) * g
            x = st["g"]
        torch_eps = var.get("torch_eps")
        sq = x * x + (0.0 if torch_eps else hp["eps"])
        if st["dims"] is not None:
            d1, d0 = st["dims"]
            st["r"] = beta * st["r"] + (1 - beta) * np.mean(sq, axis=d0)
            st["c"] = beta * st["c"] + (1 - beta) * np.mean(sq, axis=d1)
            r_mean = np.mean(st["r"], axis=d1 if d1 < d0 else d1 - 1, keepdims=True) if st["r"].size else st["r"]
            if torch_eps:
                r_mean = np.maximum(r_mean, TORCH_EPS1_FLOAT32)
            v_hat = np.expand_dims(st["r"] / r_mean, d0) * np.expand_dims(st["c"], d1)
        else:
            st["v"] = beta * st["v"] + (1 - beta) * sq
            v_hat = st["v"]
        if torch_eps:
            v_hat = np.maximum(v_hat, TORCH_EPS1_FLOAT32**2)
        u = x / np.sqrt(v_hat)
        rms_u = _rms(u)
        if var.get("clip_inverted"):
            u = u / min(1.0, rms_u / d)
        else:
            u = u / max(1.0, rms_u / d)
        rho = min(lr, 1.0 / math.sqrt(t)) if var.get("relative_step") else lr
        scale = 1.0 if var.get("no_parameter_scale") else max(EPS2, _rms(p))
        step = rho * scale * u
        if mom and not var.get("momentum_on_gradient"):
            st["m"] = mom * st["m"] + (1 - mom) * step
            step = st["m"]
        if var.get("decay_times_lr"):
            decay = lr * wd * p
        elif var.get("decay_times_scaled_lr"):
            decay = rho * scale * wd * p
        else:
            decay = wd * p
        return -(step + decay), st


def first_two_updates(hp, lr, g1, g2, p1=None, p2=None, shapes=None):
    """By hand: the first two updates of leaves of ``shapes`` (one leaf of g1's shape by default), given as
    flat vectors g1, g2 (or one array), from parameters p1 and then p2 (0 unless given).

    A vector or scalar is unfactored; a matrix (n, m) is factored when min(n, m) >= min_dim_size_to_factor:
    step 1 (beta2_1 = 0) V_hat = r c'/mean(r) with r, c the row and column means of G1^2 + eps; step 2
    r2 = b r + (1 - b) rowmean(G2^2 + eps), likewise c2, b = 1 - 2^-c. U = G/sqrt(V_hat) is clipped to
    RMS <= d over the leaf and scaled by lr max(1e-3, RMS(p)) of the leaf.
    """
    g1, g2 = np.asarray(g1, np.float64), np.asarray(g2, np.float64)
    shapes = [g1.shape] if shapes is None else [tuple(s) for s in shapes]
    p1 = np.zeros(g1.shape) if p1 is None else np.asarray(p1, np.float64)
    p2 = np.zeros(g1.shape) if p2 is None else np.asarray(p2, np.float64)
    if len(shapes) == 1 and shapes[0] == g1.shape:
        return _two_steps(hp, lr, g1, g2, p1.reshape(g1.shape), p2.reshape(g1.shape))
    out1, out2, start = [], [], 0
    for shape in shapes:
        n = int(np.prod(shape, dtype=int))
        cut = lambda v: np.ravel(v)[start:start + n].reshape(shape)  # noqa: E731
        u1, u2 = _two_steps(hp, lr, cut(g1), cut(g2), cut(p1), cut(p2))
        out1.append(np.ravel(u1))
        out2.append(np.ravel(u2))
        start += n
    return np.concatenate(out1), np.concatenate(out2)


def _two_steps(hp, lr, g1, g2, p1, p2):
    c, eps, d, mom, wd = hp["decay_rate"], hp["eps"], hp["clipping_threshold"], hp["momentum"], hp["weight_decay_rate"]
    b = 1.0 - 2.0 ** (-c)
    q1, q2 = g1**2 + eps, g2**2 + eps
    if g1.ndim == 2 and min(g1.shape) >= hp["min_dim_size_to_factor"]:
        r1, c1 = q1.mean(axis=1), q1.mean(axis=0)
        r2, c2 = b * r1 + (1 - b) * q2.mean(axis=1), b * c1 + (1 - b) * q2.mean(axis=0)
        v1, v2 = np.outer(r1, c1) / r1.mean(), np.outer(r2, c2) / r2.mean()
    else:
        v1 = q1  # beta2_1 = 1 - 1 = 0
        v2 = b * q1 + (1 - b) * q2

    def step(g, v, p):
        u = g / np.sqrt(v)
        return lr * max(EPS2, np.sqrt(np.mean(p * p))) * u / max(1.0, np.sqrt(np.mean(u * u)) / d)

    s1, s2 = step(g1, v1, p1), step(g2, v2, p2)
    m1 = (1 - mom) * s1
    m2 = mom * m1 + (1 - mom) * s2
    return -(m1 + wd * p1), -(m2 + wd * p2)


def decay_memory(hp, steps):
    """EMA memory of beta2_t = 1 - t^-c over ``steps`` steps: 1/(1 - beta2_t) = t^c, largest at t = steps.

    The rounding errors V_t keeps are weighted by prod_j beta2_j over later steps; summed over a run
    they are at most sum_k w_k k^c <= steps^c (w_k the EMA's weights, summing to 1 as beta2_1 = 0),
    and one rounding of beta2_t (float32 in optax, ``_decay_rate_pow``) moves 1 - beta2_t by u t^c
    relative. As tolerance.py's 3 u min(t, 1/(1 - beta)) with 1/(1 - beta) = steps^c (no bias
    correction here: that third of the budget covers the third factored EMA, mean(R), of V_hat).
    """
    return float(steps) ** float(hp["decay_rate"])


def _optax(optax, lr, hp):
    mom, wd = hp["momentum"], hp["weight_decay_rate"]
    return optax.adafactor(
        lr, min_dim_size_to_factor=hp["min_dim_size_to_factor"], decay_rate=hp["decay_rate"], decay_offset=0,
        multiply_by_parameter_scale=True, clipping_threshold=hp["clipping_threshold"],
        momentum=None if mom == 0 else mom, dtype_momentum=None,  # the momentum in the parameters' dtype
        weight_decay_rate=None if wd == 0 else wd, eps=hp["eps"], factored=True,
    )


_TORCH = "torch.optim.Adafactor (torch/optim/_adafactor.py, torch 2.13)"
_KERAS = "keras.optimizers.Adafactor (keras/src/optimizers/adafactor.py, Keras 3.15)"

# A spec field that does not exist yet is passed once the lead adds it (see the module's report):

SPEC = Spec(
    name="adafactor",
    rule="V_hat = R C/mean(R) (rank >= 2) or EMA of G^2 + eps, beta2_t = 1 - t^-0.8; "
         "p <- p - lr*max(1e-3, RMS(p))*U/max(1, RMS(U)/d), U = G/sqrt(V_hat)",
    paper="Shazeer & Stern, Algorithms 4/5 with sections 6-9 (ICML 2018)",
    defaults=dict(min_dim_size_to_factor=1.0, decay_rate=0.8, clipping_threshold=1.0, eps=1e-30, momentum=0.0,
                  weight_decay_rate=0.0),
    varied=dict(min_dim_size_to_factor=128.0, decay_rate=0.5, clipping_threshold=2.0, eps=1e-2, momentum=0.9,
                weight_decay_rate=0.1),
    oracle=Adafactor,
    first_two_updates=first_two_updates,
    optax_builder=_optax,
    optax_call="optax.adafactor(lr, min_dim_size_to_factor, decay_rate, clipping_threshold=..., momentum=None if 0, "
               "weight_decay_rate=None if 0, eps=..., dtype_momentum=None)",
    implementation="optimizers.adafactor:adafactor",
    optax_exact=False,
    optax_note="optax computes beta2_t = 1 - t^-decay_rate in float32 even under x64 (factorized._decay_rate_pow: "
               "jnp.array(i + 1, jnp.float32)), ~1e-7 relative in float64 runs; compared at decay_rate=0 "
               "(beta2_t = 0 exactly: every other part of the rule, factoring, clipping, parameter scale)",
    optax_exact_at={"decay_rate": 0.0},
    adaptive=True,
    # beta2_t = 1 - t^-decay_rate is not a constant decay: its memory t^0.8 is ``decay_memory``, which
    # the tolerance model reads once the record has that field; ``decays`` would read decay_rate=0.8
    # itself as a beta (memory 5), far too small.
    decays=(),
    granularity="matrix",
    # Reductions over a leaf, per update (n = the leaf's size; the checks' largest leaf is the
    # (4, 6) kernel of matrix_least_squares, n = 24; the property checks' layouts are <= 12): the
    # row and column means of G^2 (m - 1 and n/m - 1 additions), mean(R) (n/m - 1), RMS(U) (n - 1, halved
    # by the sqrt) and RMS(p) (the same), each term's rounding bounded by Higham's gamma_(n-1):
    # <= 3 n in all = 72. The EMA with beta2_t = 1 - t^-decay_rate has the memory ``decay_memory``.
    extra_ops=72.0,
    alternatives=(
        Alternative("unfactored", "second moment not factored: V = EMA of G^2 + eps per element for every leaf",
                    {"unfactored": True},
                    "optax.adafactor's default min_dim_size_to_factor=128 on any leaf below 128 x 128; factored=False"),
        Alternative("relative_step_cap", "relative step capped by lr: rho_t = min(lr, 1/sqrt(t))",
                    {"relative_step": True},
                    f"{_TORCH}: rho_t = min(lr, 1/step**0.5); {_KERAS}: rho_t = minimum(lr, 1/sqrt(t))"),
        Alternative("clip_inverted", "update clipping inverted: U / min(1, RMS(U)/d) (scales small updates up to RMS d)",
                    {"clip_inverted": True},
                    "timm AdafactorBigVision before PR #2790 (huggingface/pytorch-image-models); kozistr/pytorch_optimizer "
                    "AdaFactor: get_rms(update).div_(clip_threshold).clamp_max_(1.0)"),
        Alternative("no_parameter_scale", "step not scaled by max(eps2, RMS(p)): p <- p - lr U_hat",
                    {"no_parameter_scale": True},
                    "optax multiply_by_parameter_scale=False; transformers Adafactor(scale_parameter=False)"),
        Alternative("momentum_on_gradient", "momentum on the gradient before normalising: m = b1 m + (1-b1) G, U = m/sqrt(V_hat)",
                    {"momentum_on_gradient": True},
                    "Adam-style first moment; tensor2tensor, optax and transformers average the clipped lr-scaled "
                    "update instead (transformers #34506)"),
        Alternative("decay_times_lr", "weight decay multiplied by the learning rate: -lr wd p", {"decay_times_lr": True},
                    f"{_TORCH}: param.mul_(1 - lr * weight_decay); Keras's weight_decay (lr * wd * p)"),
        Alternative("decay_times_scaled_lr", "weight decay multiplied by the scaled step size: -lr max(eps2, RMS(p)) wd p",
                    {"decay_times_scaled_lr": True},
                    "transformers Adafactor: p_data_fp32.add_(p_data_fp32, alpha=-weight_decay * lr), lr from _get_lr"),
        Alternative("torch_eps", "eps1 not added to G^2: V_hat = R C/max(mean(R), eps1), clamped at eps1^2 "
                    "(eps1 = float32 machine epsilon)", {"torch_eps": True},
                    f"{_TORCH} with its default eps=(None, 1e-3) on float32 parameters"),
    ),
    tuning=Tuning(
        step_family="adaptive",
        workload_lr={"mnist": 1e-2, "cifar10": 1e-2, "imdb": 1e-2},  # the paper's rho_t cap
        thresholds={"mnist": 0.89,  # measured 91.48 %, margin 2.5
                    "cifar10": 0.29,  # measured 33.80 %, margin 4.8
                    "imdb": 0.82},  # measured 85.26 %, margin 3.3
        convergence_eps_per_lr_l=1.0,
    ),
    ranges={"min_dim_size_to_factor": (1.0, 128.0), "decay_rate": (0.5, 1.0), "clipping_threshold": (1.0, 10.0),
            "eps": (1e-30, 1e-3), "momentum": (0.0, 0.99), "weight_decay_rate": (0.0, 0.1)},
    # 1e7 flat vector (unfactored): pass 1 reads p, g, v and writes v (RMS(U), RMS(p) reduced on the way),
    # pass 2 reads p, g, v and writes p: 32 B. No element's update can be written before RMS(U) of the
    # whole leaf is known, so two passes are the least (a factored leaf: ~24 B, read g; read g, p; read g, p, write p).
    bytes_per_param=32,
    target_x_floor=4.0,
    frameworks={
        # beta2_decay = -decay_rate and eps = (eps1, eps2) with another eps1 placement cannot be renamed onto
        # optax's keywords; torch factors every leaf of rank >= 2 and has no momentum
        "torch": FrameworkNames("torch.optim.Adafactor", {"learning_rate": "lr", "clipping_threshold": "d",
                                                          "weight_decay_rate": "weight_decay", "decay_rate": None,
                                                          "eps": None, "min_dim_size_to_factor": None,
                                                          "momentum": None}),
        "keras": FrameworkNames("keras.optimizers.Adafactor", {"learning_rate": "learning_rate",
                                                               "clipping_threshold": "clip_threshold",
                                                               "eps": "epsilon_1", "weight_decay_rate": "weight_decay",
                                                               "decay_rate": None, "min_dim_size_to_factor": None,
                                                               "momentum": None}),
    },
    decay_memory=decay_memory,
)
