"""Candidates of the "radam" spec and the verdicts the harness must reach (wired into manifest.py by the lead).

Each verdict below was seen by running the candidate through every suite but the workloads and
benchmarks (``--optim=TARGET@radam --optim-spec=pytest_optim.specs.radam``, 2026-12-01).
"""

from tests.candidates.manifest import Candidate, _M, _bug, _ok

NEW_DIAGNOSES = ("no_step_below_threshold", "authors_radam")  # eps_hat is already in manifest.DIAGNOSES
NEW_BUG_CLASSES = ()  # eps-hat, rectification, ignored-hyperparameter, wrong-rule, bias-correction exist

_FROM_STEP_6 = "visible from the first rectified step (t = 6 at b2 = 0.999)"

CANDIDATES = [
    # ----------------------------------------------------------------- correct (expect pass)
    _ok("correct_radam:radam_optax_chain", "radam", "optax chain (scale_by_radam + scale_by_learning_rate, float32 statistics)"),
    _ok("correct_radam:RAdam", "radam", "class with methods, dict state, float(learning_rate), **kwargs, closed-form rho_t"),
    _ok("correct_radam:radam_flat", "radam", "flat vector (ravel_pytree), lax.cond for the rectification branch"),
    Candidate("optax:radam", "radam", "pass", None, "correct", None, "optax.radam itself",
              notes="optax's closed-form rho_t in float32 is 3.4e5 u off at t = 5 (b2 = 0.999); the record allows "
                    "for the closed form's conditioning (specs/radam.py closed_form_condition)"),
    # ----------------------------------------------------------------- the real torch class
    Candidate("torch.optim:RAdam", "radam", "fail", "torch.optim.RAdam: eps on the raw sqrt(v) (eps-hat); no threshold "
              "argument (rho_t > 5 fixed)", "eps-hat", "eps_hat", notes="the real library, as it is; visible in float64 "
              "at the defaults (1e-9 relative at t = 6) and with tiny gradients in float32; the threshold=6 checks fail "
              "unexplained (torch takes no threshold: it stays at 5)", only=True),
    # ----------------------------------------------------------------- conventions of other libraries
    _bug("buggy_radam:torch_eps", "radam", "eps on the raw sqrt(v), sqrt(1 - b2^t) folded into the step (torch)",
         "eps-hat", "eps_hat", notes=_FROM_STEP_6 + "; in float32 only with tiny gradients or a large eps"),
    _bug("buggy_radam:no_step_below_threshold", "radam", "no update before the threshold (degenerated_to_sgd=False)",
         "rectification", "no_step_below_threshold", notes="visible from step 1"),
    _bug("buggy_radam:AuthorsRAdam", "radam", "the authors' radam/radam.py defaults: no update while N_sma < 5, "
         "then eps on the raw sqrt(v)", "rectification", "authors_radam", notes="visible from step 1"),
    # ----------------------------------------------------------------- plain bugs
    _bug("buggy_radam:threshold_ignored", "radam", "threshold hard-coded to 5 (**kwargs swallows it)",
         "ignored-hyperparameter", notes="invisible at default hyperparameters; needs threshold != 5"),
    _bug("buggy_radam:no_rho_inf_factor", "radam", "r_t without the rho_inf/((rho_inf-4)(rho_inf-2)) factor",
         "wrong-rule", notes=_FROM_STEP_6),
    _bug("buggy_radam:v_not_bias_corrected", "radam", "rectified step divides by sqrt(v), not sqrt(v_hat)",
         "bias-correction", notes=_FROM_STEP_6),
    _bug("buggy_radam:adam_before_threshold", "radam", "Adam steps m_hat/(sqrt(v_hat) + eps) before the threshold",
         "rectification", notes="visible from step 1"),
]

assert all(c.target.startswith(_M) or ":" in c.target for c in CANDIDATES)
