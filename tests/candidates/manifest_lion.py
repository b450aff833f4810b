"""Candidates for the "lion" spec (Chen et al. Program 1) and the verdicts measured for them.

Verdicts were measured with ``--optim=TARGET@lion``; tests/test_mutants.py asserts them.
"""

from tests.candidates.manifest import Candidate, _bug, _ok

NEW_DIAGNOSES = ("decay_not_scaled_by_lr", "l2_in_gradient", "new_momentum", "betas_swapped", "no_decay",
                 "sign_zero_positive")
NEW_BUG_CLASSES = ("decay-convention", "sign-convention", "update-order")

_ZERO = "differs only where c == 0 exactly: zero gradients from the start (the robustness check) show it"

CANDIDATES = [
    _ok("correct_lion:lion_optax_chain", "lion", "optax chain (scale_by_lion + add_decayed_weights + lr, float32 statistics)"),
    _ok("correct_lion:Lion", "lion", "class with methods, lion-pytorch order (decay p, then the signed step), new - old"),
    _ok("correct_lion:lion_flat", "lion", "flat vector (ravel_pytree), lerp form, constant float lr"),
    Candidate("optax:lion", "lion", "pass", None, "correct", None, "optax.lion, no wrapper"),
    Candidate("keras.optimizers:Lion", "lion", "pass", None, "correct", None, "keras.optimizers.Lion, no wrapper",
              notes="weight_decay through base_optimizer._apply_weight_decay (p - p*wd*lr before the step)"),
    _bug("buggy_lion:decay_not_scaled_by_lr", "lion", "decay not multiplied by lr", "decay-convention",
         "decay_not_scaled_by_lr"),
    _bug("buggy_lion:l2_in_gradient", "lion", "L2 in the gradient instead of decoupled decay", "decay-convention",
         "l2_in_gradient"),
    _bug("buggy_lion:new_momentum", "lion", "momentum updated before the interpolation", "update-order",
         "new_momentum"),
    _bug("buggy_lion:betas_swapped", "lion", "b1 and b2 swapped", "wrong-rule", "betas_swapped"),
    _bug("buggy_lion:no_decay", "lion", "weight decay missing", "decay-convention", "no_decay"),
    _bug("buggy_lion:sign_zero_positive", "lion", "where(c >= 0, 1, -1): sign(0) = +1", "sign-convention",
         "sign_zero_positive", notes=_ZERO),
    _bug("buggy_lion:ignores_b2", "lion", "b2 hard-coded to 0.99", "ignored-hyperparameter",
         notes="invisible at default hyperparameters; needs b2 != 0.99"),
    _bug("buggy_lion:tanh_sign", "lion", "tanh(c) instead of sign(c) (scale_by_lion mode='smooth')", "wrong-rule"),
]
