"""Candidates of the "amsgrad" spec and the verdicts the harness must reach (wired into manifest.py by the lead).

Every verdict below was measured with ``--optim=TARGET@amsgrad --optim-spec=pytest_optim.specs.amsgrad``.
"""

from tests.candidates.manifest import Candidate, _bug, _ok

_DEFAULT_INVISIBLE = "invisible at default hyperparameters; "

NEW_DIAGNOSES = ("max_of_bias_corrected", "no_max")
NEW_BUG_CLASSES = ("amsgrad-max",)

CANDIDATES = [
    _ok("correct_amsgrad:amsgrad_dict", "amsgrad", "dict state, torch's max_exp_avg_sq then sqrt(max)/sqrt(1-b2^t) + eps"),
    _ok("correct_amsgrad:Amsgrad", "amsgrad", "class with methods, tuple state, running max of sqrt(v), constant lr"),
    _ok("correct_amsgrad:amsgrad_flat", "amsgrad", "flat vector (ravel_pytree), constant lr"),
    Candidate("torch.optim:Adam", "amsgrad", "pass", None, "correct", None,
              "torch.optim.Adam(amsgrad=True), no wrapper (the record's fixed setting)"),
    Candidate("optax:amsgrad", "amsgrad", "fail", "optax.amsgrad: max of the bias-corrected v_hat", "amsgrad-max",
              "max_of_bias_corrected", notes="the real library, as it is (optax #1389)"),
    Candidate("keras.optimizers:Adam", "amsgrad", "fail", "keras.optimizers.Adam(amsgrad=True): eps-hat step",
              "eps-hat", "eps_hat", notes="the real library, as it is; its max (of the raw v) is the canonical one"),
    _bug("buggy_amsgrad:optax_form", "amsgrad", "max of the bias-corrected v_hat (optax's form)", "amsgrad-max",
         "max_of_bias_corrected"),
    _bug("buggy_amsgrad:paper_no_bias_correction", "amsgrad", "Reddi et al.'s Algorithm 2: no bias corrections",
         "bias-correction", "no_bias_correction"),
    _bug("buggy_amsgrad:max_not_corrected", "amsgrad", "max of the raw v never bias-corrected", "bias-correction",
         "no_bias_correction_v", notes="optax.amsgrad(bias_correction_nu=False)"),
    _bug("buggy_amsgrad:keras_eps_hat", "amsgrad", "Keras eps-hat step with the max", "eps-hat", "eps_hat",
         notes=_DEFAULT_INVISIBLE + "with O(1) gradients; visible with tiny gradients or large eps"),
    _bug("buggy_amsgrad:forgets_max", "amsgrad", "max kept but the step divides by the current v (plain Adam)",
         "wrong-rule", "no_max",
         notes="exact while v never decreases; the default problems' v grows, varied b1/b2 and decreasing gradients show it"),
    _bug("buggy_amsgrad:max_of_previous_v", "amsgrad", "max taken with the previous step's v", "wrong-rule"),
    _bug("buggy_amsgrad:ignores_b1", "amsgrad", "b1 hard-coded to 0.9", "ignored-hyperparameter",
         notes=_DEFAULT_INVISIBLE + "needs b1 != 0.9"),
]
