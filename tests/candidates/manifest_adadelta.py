"""Candidates for the "adadelta" spec (Zeiler Algorithm 1, lr applied after the unscaled delta is accumulated)
and the verdicts measured for them.

Verdicts were measured with ``--optim=TARGET@adadelta --optim-spec=pytest_optim.specs.adadelta`` (every suite
but workloads and benchmarks; the sharding check through ``python -m pytest_optim.conformance.sharding
--spec=pytest_optim.specs.adadelta``, since a spec outside BUILTIN is not passed on to its subprocess).
``only=True`` entries were checked: every failure that names a convention names this one, in float32
and in float64.
"""

from tests.candidates.manifest import Candidate, _bug, _ok

NEW_DIAGNOSES = ("lr_in_delta", "learning_rate_ignored", "optax_lr_none")
NEW_BUG_CLASSES = ("lr-placement", "unnegated-update")

_LR1 = "the same rule at lr = 1 (the quadratics' lr): caught where lr != 1 (linear/logistic regression, first steps at lr=0.1)"

CANDIDATES = [
    # ----------------------------------------------------------------- correct (expect pass)
    _ok("correct_adadelta:adadelta_dict", "adadelta", "from scratch, float(learning_rate) at build, dict state, **kwargs",
        notes="schedules and traced hyperparameters: not supported (float(lr))"),
    _ok("correct_adadelta:Adadelta", "adadelta", "class with methods, NamedTuple state, sqrt of the ratio (Chainer's "
        "arithmetic), EMAs as x + (1-rho)(y - x)"),
    _ok("correct_adadelta:adadelta_optax_chain", "adadelta",
        "optax chain (scale_by_adadelta + scale_by_learning_rate, float32 statistics)"),
    _ok("correct_adadelta:adadelta_flat", "adadelta", "flat vector (ravel_pytree)"),
    Candidate("optax:adadelta", "adadelta", "pass", None, "correct", None, "optax.adadelta(learning_rate, rho, eps), no wrapper",
              notes="with the learning rate given; optax's default learning_rate=None is buggy_adadelta:optax_default_lr"),
    Candidate("torch.optim:Adadelta", "adadelta", "pass", None, "correct", None, "torch.optim.Adadelta, no wrapper"),
    Candidate("keras.optimizers:Adadelta", "adadelta", "pass", None, "correct", None,
              "keras.optimizers.Adadelta, no wrapper", notes="other defaults (lr 0.001, rho 0.95, epsilon 1e-7), same rule"),
    # ----------------------------------------------------------------- conventions (named)
    Candidate("tests.candidates.buggy_adadelta:lr_in_delta", "adadelta", "fail",
              "lr inside the accumulated delta (climin; keras-team/keras PR #11532)", "lr-placement", "lr_in_delta",
              notes=_LR1, only=True),
    Candidate("tests.candidates.buggy_adadelta:eps_outside_sqrt", "adadelta", "fail",
              "eps outside both square roots: (sqrt(E[dx^2]) + eps)/(sqrt(E[g^2]) + eps)", "eps-placement",
              "eps_outside_sqrt", notes="visible from step 1 (the first step is ~eps/sqrt(1-rho) instead of "
              "sqrt(eps/(1-rho)))", only=True),
    Candidate("tests.candidates.buggy_adadelta:ports_chainer", "adadelta", "fail",
              "learning rate ignored (a port of chainer.optimizers.AdaDelta, which has none)", "ignored-hyperparameter",
              "learning_rate_ignored", notes=_LR1, only=True),
    Candidate("tests.candidates.buggy_adadelta:optax_default_lr", "adadelta", "fail",
              "optax.adadelta(None, rho, eps): optax's default learning rate, the update not negated (ascent)",
              "unnegated-update", "optax_lr_none",
              notes="visible from step 1 at every lr: the sign; convergence ends far from x* (unnamed there)", only=True),
    # ----------------------------------------------------------------- plain bugs (caught, not named)
    _bug("buggy_adadelta:eps_only_in_denominator", "adadelta", "sqrt(E[dx^2]) without eps: every update is 0",
         "eps-placement",
         notes="caught from step 1; named nowhere except rosenbrock float32 (lr=1e-3), where [eps_outside_sqrt]'s "
               "updates (~3e-9) are below the parameters' resolution and so 'fit' the candidate's zeros"),
    _bug("buggy_adadelta:stale_grad_average", "adadelta", "update divides by E[g^2]_{t-1} (average updated after the step)",
         "wrong-rule", notes="step 1 is lr*g instead of lr*sqrt(eps/((1-rho)g^2+eps))*g"),
    _bug("buggy_adadelta:ignores_rho", "adadelta", "rho hard-coded to 0.9", "ignored-hyperparameter",
         notes="invisible at default hyperparameters; needs rho != 0.9 (hyperparameter and inject_hyperparams checks)"),
]
