"""Candidates of the "lamb" spec and what the harness must conclude about each (wired in by manifest.py).

Verdicts below were measured with ``--optim=TARGET@lamb`` (docs/conventions.md has the library verdicts); the
convergence family is n/a for every LAMB (the trust ratio fixes each leaf's step norm at
lr*||p||, so no constant learning rate settles at x*).
"""

from tests.candidates.manifest import Candidate, _bug, _ok

_DEFAULT_INVISIBLE = "invisible at default hyperparameters; "

NEW_DIAGNOSES = ("decay_outside_trust_ratio", "weight_norm_clamped", "zero_norm_ratio_zero", "global_trust_ratio")
NEW_BUG_CLASSES = ("decay-placement", "trust-ratio")

CANDIDATES = [
    # ----------------------------------------------------------------- correct (expect pass)
    _ok("correct_lamb:lamb_optax_chain", "lamb",
        "optax chain (scale_by_adam, add_decayed_weights, scale_by_trust_ratio, scale_by_learning_rate; float32 statistics)"),
    _ok("correct_lamb:Lamb", "lamb", "class with methods, dict state, float(learning_rate) at build time"),
    _ok("correct_lamb:lamb_tuple", "lamb", "plain tuple state, EMA as m + (1-b)(g - m), jnp.vdot norms"),
    # ----------------------------------------------------------------- the real libraries, as they are
    Candidate("optax:lamb", "lamb", "pass", None, "correct", None, "optax.lamb, no wrapper",
              notes="the spec's rule at every setting (the optax check is exact)"),
    Candidate("keras.optimizers:Lamb", "lamb", "fail",
              "keras.optimizers.Lamb: decoupled decay applied first, trust ratio on the Adam step alone",
              "decay-placement", "decay_outside_trust_ratio",
              notes=_DEFAULT_INVISIBLE + "the same rule at weight_decay=0; fails the weight_decay=0.1 regimes, and the "
              "bfloat16 leaf of the mixed-dtype tree, where Keras's 1 - 0.999^t is 0 in bfloat16 so the leaf never "
              "moves: numerically [zero_norm_ratio_zero] there (a coincidence, hence not only=True)"),
    # ----------------------------------------------------------------- named conventions
    _bug("buggy_lamb:keras_decoupled_decay", "lamb", "decay outside the trust ratio (Keras / pytorch_optimizer)",
         "decay-placement", "decay_outside_trust_ratio",
         notes=_DEFAULT_INVISIBLE + "needs weight_decay != 0"),
    _bug("buggy_lamb:no_bias_correction", "lamb", "raw m, v (torch_optimizer's debias=False)", "bias-correction",
         "no_bias_correction",
         notes="at weight_decay=0 the missing factor (1-b1^t)/sqrt(1-b2^t) is uniform and the trust ratio cancels it "
         "but for eps: visible in float64, with tiny gradients or with weight_decay != 0"),
    _bug("buggy_lamb:weight_norm_clamped", "lamb", "phi(||p||) = min(||p||, 10)", "trust-ratio", "weight_norm_clamped",
         notes="visible only where a leaf's norm exceeds 10: quadratic_k1e4 (|x*| ~ 1e4)"),
    _bug("buggy_lamb:zero_weights_frozen", "lamb", "ratio 0 where ||p|| = 0 (zero-initialised leaves never move)",
         "trust-ratio", "zero_norm_ratio_zero",
         notes="visible wherever a leaf starts at 0: the first steps, linear/logistic regression, the matrix bias"),
    _bug("buggy_lamb:eps_inside_sqrt", "lamb", "eps inside the sqrt", "eps-placement", "eps_inside_sqrt",
         notes=_DEFAULT_INVISIBLE + "with O(1) gradients; visible with tiny gradients or large eps"),
    _bug("buggy_lamb:lamb_flat", "lamb", "whole tree as one flat vector: one global trust ratio", "global-statistics",
         "global_trust_ratio", notes="exact on single-leaf problems"),
    # ----------------------------------------------------------------- plain bugs
    _bug("buggy_lamb:ratio_inverted", "lamb", "trust ratio ||r|| / ||p||", "wrong-rule"),
    _bug("buggy_lamb:gradient_norm_ratio", "lamb", "LARS's ||p|| / ||g|| on the Adam direction", "wrong-rule"),
    _bug("buggy_lamb:ignores_weight_decay", "lamb", "weight_decay accepted and dropped", "ignored-hyperparameter",
         notes=_DEFAULT_INVISIBLE + "needs weight_decay != 0"),
]
