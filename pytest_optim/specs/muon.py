"""muon: momentum orthogonalised by a Newton-Schulz iteration on each 2-D leaf; Adam (Nesterov) elsewhere.

Sources read (and what each computes):

* Keller Jordan, "Muon: an optimizer for hidden layers in neural networks" (blog, 2024) and
  github.com/KellerJordan/Muon ``muon.py`` (HEAD 857d1ad, 2025-07): ``zeropower_via_newtonschulz5``:
  X = G.bfloat16(), transposed when rows > cols, X / (||X||_F + 1e-7), then 5 times
  A = X X^T, B = b A + c A A, X = a X + B X with (a, b, c) = (3.4445, -4.7750, 2.0315);
  ``muon_update``: ``momentum.lerp_(grad, 1 - beta)`` (an EMA, m = beta m + (1 - beta) g),
  Nesterov ``grad.lerp_(momentum, beta)`` = (1 - beta) g + beta m, no bias correction; the update
  scaled by sqrt(max(1, rows/cols)) of torch's (out, in) weight; decoupled decay p *= 1 - lr wd.
  Before 2025-02 (commit 28c793b and earlier) the buffer was heavy-ball, ``buf.mul_(momentum).add_(g)``,
  Nesterov ``g.add(buf, alpha=momentum)``; the same direction up to the factor (1 - beta), so it
  differs only through eps. ``MuonWithAuxAdam`` runs plain Adam (betas (0.9, 0.95), eps 1e-10) on the
  non-matrix parameters.
* Liu et al., "Muon is scalable for LLM training" (arXiv 2502.16982; MoonshotAI/Moonlight
  ``examples/toy_train.py``): heavy-ball Nesterov as Jordan's early code, X / (||X||_F + 1e-7), and the
  update scaled by 0.2 sqrt(max(A, B)) ("match RMS AdamW").
* optax 0.2.8 ``optax/contrib/_muon.py``: ``muon(learning_rate, ns_coeffs=(3.4445, -4.7750, 2.0315),
  ns_steps=5, beta=0.95, eps=1e-8, weight_decay=0.0, weight_decay_mask=None, mu_dtype=None, *,
  nesterov=True, adaptive=False, preconditioning='frobenius', adam_b1=0.9, adam_b2=0.999,
  adam_eps_root=0.0, adam_weight_decay=0.0, adam_learning_rate=None, muon_weight_dimension_numbers=None,
  consistent_rms=None)``. ``scale_by_muon``: m = beta m + (1 - beta) g (``update_moment``), Nesterov
  mu_hat = beta bc(m, t + 1) + (1 - beta) bc(g, t) with bc(x, k) = x/(1 - beta^k) (NAdam's form;
  nesterov=False: bc(m, t)); ``orthogonalize_via_newton_schulz``: transposes when rows > cols (the
  quintic satisfies f(X^T) = f(X)^T, so this changes only rounding and cost), X / (||X||_F + eps), 5
  iterations as above; ``scale_by_shape``: sqrt(max(1, fan_out/fan_in)) with fan_in = shape[0] (the
  reduction axis of JAX's (in, out) kernel), or sqrt(max(fan_in, fan_out)) consistent_rms;
  ``add_decayed_weights(weight_decay)``; ``scale_by_learning_rate``. Leaves that are not 2-D go to
  ``optax.adamw(learning_rate, b1=adam_b1, b2=adam_b2, eps=eps, eps_root=adam_eps_root,
  weight_decay=adam_weight_decay, nesterov=nesterov)``: with the defaults, NAdam with the *same* eps.
* torch 2.13 ``torch/optim/_muon.py``: ``Muon(params, lr=1e-3, weight_decay=0.1, momentum=0.95,
  nesterov=True, ns_coefficients=(3.4445, -4.7750, 2.0315), eps=1e-7, ns_steps=5, adjust_lr_fn=None)``;
  the constructor raises ValueError for any parameter that is not 2-D; EMA buffer and Nesterov lerp as
  Jordan's; the NS iteration in **bfloat16**, normalised by ``norm().clamp(min=eps)`` (max(||X||, eps),
  not ||X|| + eps); lr scaled by sqrt(max(1, A/B)) ("original") or 0.2 sqrt(max(A, B))
  ("match_rms_adamw") with (A, B) = param.shape[:2], torch's (out, in); p *= 1 - lr wd.
* Keras 3.15 ``keras/src/optimizers/muon.py``: heavy-ball m = beta m + g, Nesterov g + beta m, NS eps
  fixed at 1e-7 (X / (||X|| + 1e-7)), update scaled by 0.2 sqrt(max(A, B)) (``rms_rate=0.2``); non-2-D
  leaves (and names containing "embedding") get Keras's eps-hat Adam, no Nesterov.

Canonical form: optax.contrib.muon's, not the blog's. The blog writes the rule for one matrix only
(and its code runs it in bfloat16, with torch's layout); a JAX user ports from optax, whose muon is
the JAX reference and handles every leaf of a pytree. So: optax's keyword names and defaults (beta 0.95,
eps 1e-8 used by the Frobenius normalisation *and* by the Adam of the other leaves, weight_decay 0,
adam_b1 0.9, adam_b2 0.999), optax's bias-corrected Nesterov combination, optax's (in, out) reading of
the shape scale, and NAdam on leaves that are not 2-D. ns_coeffs and ns_steps are part of the rule
(fixed at the standard quintic and 5 steps; hyperparameters here are floats, and a loop count is not);
nesterov=True, preconditioning='frobenius', consistent_rms=None, adam_eps_root=0,
adam_weight_decay=0 are fixed too. Every other convention above is an ``Alternative``.

The transposition question. Orthogonalising the transpose is the same polynomial: NS(X^T) = NS(X)^T
exactly, so an implementation that works on torch's (out, in) layout orthogonalises correctly. What
differs is the shape scale: torch's sqrt(max(1, A/B)) with (A, B) = (out, in) equals optax's
sqrt(max(1, fan_out/fan_in)); the same formula applied to a JAX (in, out) array is sqrt(max(1, in/out)),
which differs wherever in != out ([transposed_layout]): sqrt(1.5) instead of 1 on the harness's (6, 4)
kernel, nothing on the (2, 2) kernel of the quadratics.

The quintic does not converge to U V^T (its fixed-point region leaves singular values in about
[0.68, 1.2]), so the oracle runs the same five polynomial steps in float64, never an SVD; an
exact polar factor is the alternative [svd_polar].
"""

from __future__ import annotations

import math

import numpy as np

from pytest_optim.specs.oracle import Oracle
from pytest_optim.specs.record import Alternative, FrameworkNames, Spec, Tuning

NS_COEFFS = (3.4445, -4.7750, 2.0315)  # Jordan's quintic, optax's _DEFAULT_NS_COEFFS, torch's DEFAULT_A/B/C
NS_STEPS = 5
CUBIC = (1.5, -0.5, 0.0)  # the classic Newton-Schulz iteration X <- 1.5 X - 0.5 X X^T X


def newton_schulz(x: np.ndarray, eps: float, coeffs=NS_COEFFS, steps: int = NS_STEPS, norm: str = "frobenius",
                  polar: str = "ns") -> np.ndarray:
    """The orthogonalisation of one matrix, in float64: X/(||X||_F + eps), then ``steps`` quintic steps.

    Works on the wide orientation (rows <= cols) as Jordan and optax do; the polynomial commutes with
    transposition, so this is the same function of x.
    """
    x = np.asarray(x, np.float64)
    tall = x.shape[0] > x.shape[1]
    if tall:
        x = x.T
    if polar == "svd":  # an exact polar factor U V^T, not the quintic
        if x.size == 0:
            out = np.zeros_like(x)
        else:
            u, s, vt = np.linalg.svd(x, full_matrices=False)
            out = (u * (s > 0)) @ vt
        return out.T if tall else out
    fro = float(np.sqrt(np.sum(x * x)))
    if norm == "clamp":  # torch.optim.Muon: X / max(||X||_F, eps)
        x = x / max(fro, eps)
    elif norm == "spectral":  # optax preconditioning='spectral': X / (||X||_2 + eps)
        x = x / ((np.linalg.norm(x, 2) if x.size else 0.0) + eps)
    else:
        x = x / (fro + eps)
    a, b, c = coeffs
    for _ in range(steps):
        gram = x @ x.T
        x = a * x + (b * gram + c * gram @ gram) @ x
    return x.T if tall else x


def shape_scale(shape, variant) -> float:
    """optax scale_by_shape on JAX's (in, out) kernel: sqrt(max(1, fan_out/fan_in)), or a convention."""
    rows, cols = shape
    if variant.get("match_rms"):  # Moonlight, torch adjust_lr_fn="match_rms_adamw", Keras rms_rate=0.2
        return 0.2 * math.sqrt(max(rows, cols))
    if variant.get("transposed_layout"):  # torch's sqrt(max(1, A/B)) applied to an (in, out) array
        return math.sqrt(max(1.0, rows / cols)) if cols else 1.0
    return math.sqrt(max(1.0, cols / rows)) if rows else 1.0


class Muon(Oracle):
    """optax.contrib.muon at nesterov=True, preconditioning='frobenius', consistent_rms=None.

    2-D leaves: m = beta m + (1 - beta) g; mu_hat = beta m/(1 - beta^(t+1)) + (1 - beta) g/(1 - beta^t);
    O = NS5(mu_hat) (X/(||X||_F + eps), then the quintic five times); update -lr (s O + wd p) with
    s = sqrt(max(1, cols/rows)). Other leaves: NAdam (optax.adamw nesterov=True) with b1 = adam_b1,
    b2 = adam_b2, the same eps and no decay.

    Variants: ``uncorrected`` (Jordan/torch EMA, Nesterov (1 - beta) g + beta m, no bias correction),
    ``heavy_ball`` (m = beta m + g, Nesterov g + beta m), ``no_nesterov`` (mu_hat = m/(1 - beta^t)),
    ``transposed_layout``, ``match_rms``, ``norm`` ("clamp" | "spectral"), ``polar`` ("svd"),
    ``coeffs`` (other NS coefficients), ``plain_adam`` (Adam without Nesterov on the other leaves).
    """

    def _init(self, zeros):
        return [(z.copy(), z.copy()) for z in zeros]

    def _leaf(self, g, s, t, lr, p):
        if g.ndim == 2:
            return self._matrix(g, s, t, lr, p)
        return self._adam(g, s, t, lr)

    def _matrix(self, g, s, t, lr, p):
        beta, eps, wd = self.hp["beta"], self.hp["eps"], self.hp["weight_decay"]
        v = self.variant
        m, _ = s
        if v.get("heavy_ball"):
            m = beta * m + g
            mu_hat = m if v.get("no_nesterov") else g + beta * m
        elif v.get("uncorrected"):
            m = beta * m + (1 - beta) * g
            mu_hat = m if v.get("no_nesterov") else (1 - beta) * g + beta * m
        else:
            m = beta * m + (1 - beta) * g
            if v.get("no_nesterov"):
                mu_hat = m / (1 - beta**t)
            else:
                mu_hat = beta * m / (1 - beta ** (t + 1)) + (1 - beta) * g / (1 - beta**t)
        o = newton_schulz(mu_hat, eps, v.get("coeffs", NS_COEFFS), NS_STEPS, v.get("norm", "frobenius"),
                          v.get("polar", "ns"))
        direction = shape_scale(g.shape, v) * o
        if wd:
            if p is None:
                raise ValueError("muon with weight_decay depends on the parameters: the oracle needs them")
            direction = direction + wd * p
        return -lr * direction, (m, s[1])

    def _adam(self, g, s, t, lr):
        b1, b2, eps = self.hp["adam_b1"], self.hp["adam_b2"], self.hp["eps"]
        m, v = s
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        if self.variant.get("plain_adam"):
            m_hat = m / (1 - b1**t)
        else:  # Nesterov as optax's scale_by_adam(nesterov=True): NAdam with a constant b1
            m_hat = b1 * m / (1 - b1 ** (t + 1)) + (1 - b1) * g / (1 - b1**t)
        return -lr * m_hat / (np.sqrt(v / (1 - b2**t)) + eps), (m, v)


def _quintic_of_singular_values(s: np.ndarray) -> np.ndarray:
    a, b, c = NS_COEFFS
    for _ in range(NS_STEPS):
        s = a * s + b * s**3 + c * s**5
    return s


def _first_two_leaf(hp, lr, g1, g2):
    """By hand, with zero parameters: NAdam for a vector; for a matrix, the quintic on the singular values.

    A matrix X = U S V^T goes to U q(S) V^T under the matrix iteration (X X^T X = U S^3 V^T), q the
    scalar quintic applied five times to each singular value of X/(||X||_F + eps): an SVD here, the matrix
    products in the oracle. Step 1: mu_hat = (1 + 2 beta)/(1 + beta) g1. Step 2: m2 = (1 - beta)(beta g1 +
    g2), mu_hat = beta m2/(1 - beta^3) + g2/(1 + beta).
    """
    g1, g2 = np.asarray(g1, np.float64), np.asarray(g2, np.float64)
    if g1.ndim == 2:
        beta, eps = hp["beta"], hp["eps"]
        scale = math.sqrt(max(1.0, g1.shape[1] / g1.shape[0]))

        def ortho(x):
            u, s, vt = np.linalg.svd(x / (np.linalg.norm(x) + eps), full_matrices=False)
            return (u * _quintic_of_singular_values(s)) @ vt

        mu1 = (1 + 2 * beta) / (1 + beta) * g1
        m2 = (1 - beta) * (beta * g1 + g2)
        mu2 = beta * m2 / (1 - beta**3) + g2 / (1 + beta)
        return -lr * scale * ortho(mu1), -lr * scale * ortho(mu2)
    b1, b2, eps = hp["adam_b1"], hp["adam_b2"], hp["eps"]
    m_hat1 = g1 * (b1 / (1 + b1) + 1)  # b1 (1 - b1) g1/(1 - b1^2) + (1 - b1) g1/(1 - b1)
    m2 = (1 - b1) * (b1 * g1 + g2)
    m_hat2 = b1 * m2 / (1 - b1**3) + g2 / (1 + b1)
    v_hat2 = (b2 * g1**2 + g2**2) / (1 + b2)
    return -lr * m_hat1 / (np.abs(g1) + eps), -lr * m_hat2 / (np.sqrt(v_hat2) + eps)


def _optax_muon(optax, lr, hp):
    from optax import contrib

    return contrib.muon(lr, beta=hp["beta"], eps=hp["eps"], weight_decay=hp["weight_decay"],
                        adam_b1=hp["adam_b1"], adam_b2=hp["adam_b2"])


_TORCH = "torch.optim.Muon (torch 2.13 torch/optim/_muon.py)"
_JORDAN = "KellerJordan/Muon muon.py muon_update (lerp since 2025-02)"

ALTERNATIVES = (
    Alternative("uncorrected_momentum", "momentum without optax's bias corrections: m = beta m + (1-beta) g, "
                "Nesterov (1-beta) g + beta m", {"uncorrected": True}, f"{_JORDAN}; {_TORCH}"),
    Alternative("heavy_ball_momentum", "heavy-ball momentum m = beta m + g, Nesterov g + beta m (no bias "
                "correction; the same direction as the EMA up to 1/(1-beta): differs through eps)",
                {"heavy_ball": True}, "KellerJordan/Muon up to 2025-01 (28c793b); Moonlight examples/toy_train.py; "
                "keras.optimizers.Muon"),
    Alternative("no_nesterov", "plain momentum, no Nesterov look-ahead: orthogonalise m (optax nesterov=False)",
                {"no_nesterov": True}, "optax.contrib.muon(nesterov=False); torch.optim.Muon(nesterov=False)"),
    Alternative("transposed_layout", "shape scale read in torch's (out, in) layout from a JAX (in, out) "
                "kernel: sqrt(max(1, in/out)) instead of sqrt(max(1, out/in))", {"transposed_layout": True},
                "torch.optim.Muon adjust_lr_fn='original' / KellerJordan/Muon size(-2)/size(-1), ported to JAX unchanged"),
    Alternative("match_rms_adamw", "Moonlight's 'match RMS AdamW' scale 0.2 sqrt(max(rows, cols))",
                {"match_rms": True}, "Liu et al. 2502.16982; torch.optim.Muon(adjust_lr_fn='match_rms_adamw'); "
                "optax consistent_rms=0.2; keras.optimizers.Muon default rms_rate=0.2"),
    Alternative("norm_clamp", "normalised by max(||X||_F, eps) instead of ||X||_F + eps", {"norm": "clamp"},
                f"{_TORCH}: ortho_grad.norm().clamp(min=eps)"),
    Alternative("spectral_normalisation", "normalised by the spectral norm ||X||_2 + eps before the iteration",
                {"norm": "spectral"}, "optax.contrib.muon(preconditioning='spectral')"),
    Alternative("svd_polar", "exact polar factor U V^T (an SVD) instead of five quintic Newton-Schulz steps",
                {"polar": "svd"}, "orthogonalisation by SVD (the quintic leaves singular values in ~[0.68, 1.2])"),
    Alternative("cubic_newton_schulz", "the classic cubic Newton-Schulz step 1.5 X - 0.5 X X^T X instead of "
                "the quintic (3.4445, -4.7750, 2.0315)", {"coeffs": CUBIC},
                "Bernstein & Newhouse 2409.20325 / early Muon drafts"),
    Alternative("plain_adam_leaves", "plain Adam (no Nesterov) on the leaves that are not 2-D",
                {"plain_adam": True}, "KellerJordan/Muon MuonWithAuxAdam adam_update; pairing Muon with "
                "torch.optim.AdamW; optax.contrib.muon(nesterov=False) on those leaves"),
)


def first_two_updates(hp, lr, g1, g2, shapes=None):
    """By hand, per leaf of ``shapes`` (g1, g2 flat vectors cut into them; one leaf of g1's shape by
    default): a matrix-level rule's closed form is per leaf (``_first_two_leaf``)."""
    g1, g2 = np.asarray(g1, np.float64), np.asarray(g2, np.float64)
    if shapes is None:
        return _first_two_leaf(hp, lr, g1, g2)
    out1, out2, start = [], [], 0
    for shape in shapes:
        n = int(np.prod(shape, dtype=int))
        u1, u2 = _first_two_leaf(hp, lr, g1[start:start + n].reshape(shape), g2[start:start + n].reshape(shape))
        out1.append(np.ravel(u1))
        out2.append(np.ravel(u2))
        start += n
    return np.concatenate(out1), np.concatenate(out2)


SPEC = Spec(
    name="muon",
    rule="2-D leaves: m <- beta m + (1-beta) g; O = NS5(beta m_hat' + (1-beta) g_hat) (quintic Newton-Schulz after "
         "X/(||X||_F + eps)); p <- p - lr (sqrt(max(1, out/in)) O + wd p); other leaves: NAdam(adam_b1, adam_b2, eps)",
    paper="Jordan, 'Muon: an optimizer for hidden layers in neural networks' (blog, 2024); Liu et al., "
          "arXiv 2502.16982; as optax.contrib.muon",
    defaults=dict(beta=0.95, eps=1e-8, weight_decay=0.0, adam_b1=0.9, adam_b2=0.999),
    varied=dict(beta=0.5, eps=1e-2, weight_decay=0.1, adam_b1=0.5, adam_b2=0.9),
    oracle=Muon,
    first_two_updates=first_two_updates,
    optax_builder=_optax_muon,
    optax_call="optax.contrib.muon(lr, beta=beta, eps=eps, weight_decay=weight_decay, adam_b1=adam_b1, adam_b2=adam_b2)",
    implementation="optimizers.muon:muon",
    adaptive=True,  # X/||X|| and Adam's m/sqrt(v): invariant to the gradients' scale at eps = 0 (weight_decay 0)
    decays=("beta", "adam_b1", "adam_b2"),
    granularity="matrix",
    # extra_ops, derived (at the defaults; measured figures below). Write O = F(X), F the
    # normalisation X/(||X||_F + eps) followed by the five quintic steps, p(s) = a s + b s^3 + c s^5.
    # (1) Conditioning. On inputs of unit Frobenius norm F maps X = U S V^T to U p^5(S) V^T, and its Frechet
    #     derivative is bounded by the largest of |(p^5)'(s)|, the divided differences of p^5 and p^5(s)/s
    #     over s in [0, 1]: all three peak at s -> 0 with the value a^5 = 3.4445^5 = 484.9 (computed on a
    #     grid). So a normwise relative error delta of the momentum mu_hat becomes up to K delta = 484.9 delta
    #     in O (||O||_2 <= 1.2); the normalisation's own derivative has norm 1 on the unit sphere. The bound is
    #     reached when mu_hat has a singular value << its norm (s_min/s_max = 6e-4 on quadratic_k10 at
    #     step 101: that step carries the largest error measured, 2135 u, 2097 u of it the float32 momentum's
    #     12.5 u error amplified by 168).
    # (2) The momentum's error, relative and so normwise: the tolerance model's EMA terms for beta,
    #     3 min(t, 1/(1 - beta)) = 60 (the EMA) + 3/(1 - beta) = 60 (beta and 1 - beta^t rounded in float32) +
    #     4 (Nesterov combination, two bias-correction divisions) = 124 u at beta = 0.95. Amplified: 484.9 x
    #     124 = 60128.
    # (3) Rounding inside the iteration: per step A = X X^T (inner products over n = max dim), A A and B X
    #     (m = min dim terms each), b A + c A A and a X + B X: n + 2m + 4 roundings of the output's scale
    #     (Higham gamma_k), each passed through the remaining steps with gain <= a: (n + 2m + 4)(1 + a + a^2 +
    #     a^3 + a^4) = 18 x 198.2 = 3568 for the largest leaf the checks use (4 x 6; 1982 for 2 x 2).
    #     Measured: <= 370 u normwise on random matrices up to 64 x 32 at any conditioning.
    # (4) The norm ||X||_F over rows*cols terms and the division: a radial factor 1 + delta on X, whose effect
    #     on O is <= max_s s (p^5)'(s) <= 1.5 times delta: (24 + 3) x 1.5 = 40.
    # Sum 60128 + 3568 + 40 = 63736, rounded up: 64000 (float32 rtol 4.1e-3 with the Adam leaves' terms).
    # The errors are bounded relative to the leaf's norm: compare.py judges a matrix leaf of a matrix-level
    # rule on the scale of its largest element (oracle.Updates.leaf_scale). The beta term holds for
    # beta <= 0.95, the top of its documented range (at 0.99, (2) would be 484.9 x 604 = 2.9e5).
    extra_ops=64000.0,
    alternatives=ALTERNATIVES,
    tuning=Tuning(
        step_family="adaptive",
        # each 2-D step is an orthogonalised matrix of spectral size ~lr whatever the gradient's size: at a
        # constant lr the float64 rule ends 0.0455 from x* on quadratic_k10 (start 3.43), and no eps or lr
        # scale settles it (measured for this record)
        convergence_na=("muon's 2-D steps are orthogonalised, of size ~lr whatever the gradient's size: at a "
                        "constant learning rate the rule cycles around x* and never settles (it converges only "
                        "with a decaying lr)"),
        workload_lr={"mnist": 2e-2, "cifar10": 2e-2, "imdb": 2e-2},
        thresholds={"mnist": 0.92,  # measured 95.29 %, margin 3.3
                    "cifar10": 0.30,  # measured 37.90 %, margin 7.9
                    "imdb": 0.70},  # measured 74.60 %, margin 4.6
    ),
    # beta <= 0.95: the extra_ops bound above is derived for a momentum memory up to 1/(1 - 0.95) = 20
    ranges={"beta": (0.0, 0.95), "eps": (1e-12, 1e-2), "weight_decay": (0.0, 0.5), "adam_b1": (0.0, 0.99),
            "adam_b2": (0.5, 0.999)},
    bytes_per_param=28,  # the bench's flat vector takes the Adam path: read p, g, m, v; write p, m, v
    target_x_floor=4.0,
    frameworks={
        # ns_coefficients, ns_steps and adjust_lr_fn keep torch's defaults (the standard quintic, 5 steps,
        # "original"). The constructor refuses parameters that are not 2-D.
        "torch": FrameworkNames("torch.optim.Muon", {"learning_rate": "lr", "beta": "momentum", "eps": "eps",
                                                     "weight_decay": "weight_decay", "adam_b1": None, "adam_b2": None},
                                fixed={"nesterov": True}),
        # Keras's epsilon is its Adam's (eps-hat) eps; its NS eps is fixed at 1e-7. rms_rate stays at its
        # default 0.2 (Moonlight's scale): the class as it is.
        "keras": FrameworkNames("keras.optimizers.Muon", {"learning_rate": "learning_rate", "beta": "momentum",
                                                          "eps": "epsilon", "weight_decay": "weight_decay",
                                                          "adam_b1": "adam_beta_1", "adam_b2": "adam_beta_2"},
                                fixed={"nesterov": True}),
    },
)
