"""Candidates for the "signum" spec (Bernstein et al. Algorithm 3; signSGD at beta = 0) and the
verdicts measured for them (``--optim=TARGET@signum``; tests/test_mutants.py asserts them).

optax.sign_sgd takes no ``beta``: ``optax:sign_sgd@signum`` fails at build (TypeError) in every
check. It is checked as signum at beta = 0 by a port run of the wrapper below against the bundled
signum (docs/conventions.md), and against the spec at its defaults it is [sign_sgd].
"""

from tests.candidates.manifest import Candidate, _bug, _ok

NEW_DIAGNOSES = ("sign_sgd", "nesterov", "momentum_of_signs", "sign_zero_positive")  # first_step_buffer exists
NEW_BUG_CLASSES = ("sign-convention",)

CANDIDATES = [
    _ok("correct_signum:signum_optax_trace", "signum",
        "optax chain (trace + scale_by_sign + lr: heavy-ball trace, the EMA's sign; float32 statistics)"),
    _ok("correct_signum:Signum", "signum", "class with methods, torch-style buffer (dampening 0), constant float lr"),
    _ok("correct_signum:signum_flat", "signum", "flat vector (ravel_pytree), debiased EMA (the same sign)"),
    Candidate("optax:signum", "signum", "pass", None, "correct", None, "optax.signum, no wrapper"),
    _bug("correct_signum:optax_sign_sgd", "signum", "optax.sign_sgd: no momentum (signum at beta = 0 only)",
         "momentum-convention", "sign_sgd",
         notes="correct as signSGD: passes the port run against optimizers.signum:signum@signum at beta=0"),
    _bug("buggy_signum:sign_sgd", "signum", "momentum ignored: sign(g)", "momentum-convention", "sign_sgd"),
    _bug("buggy_signum:torch_first_step_buffer", "signum", "torch SGD(dampening=beta) buffer, signed",
         "momentum-convention", "first_step_buffer"),
    _bug("buggy_signum:nesterov", "signum", "Nesterov look-ahead, signed", "momentum-convention", "nesterov"),
    _bug("buggy_signum:momentum_of_signs", "signum", "momentum of the signs", "wrong-rule", "momentum_of_signs"),
    _bug("buggy_signum:sign_zero_positive", "signum", "where(v >= 0, 1, -1): sign(0) = +1", "sign-convention",
         "sign_zero_positive", notes="differs only where v == 0 exactly: zero gradients from the start show it"),
    _bug("buggy_signum:ignores_beta", "signum", "beta hard-coded to 0.9", "ignored-hyperparameter",
         notes="invisible at default hyperparameters; needs beta != 0.9"),
    _bug("buggy_signum:lr_times_momentum", "signum", "sign forgotten: p -= lr*v", "wrong-rule"),
]
