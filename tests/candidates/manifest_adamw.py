"""Candidates of the "adamw" spec and the verdicts the harness must reach (wired into manifest.py by the lead).

Every verdict below was measured with ``--optim=TARGET@adamw --optim-spec=pytest_optim.specs.adamw``.
"""

from tests.candidates.manifest import Candidate, _bug, _ok

_DEFAULT_INVISIBLE = "invisible at default hyperparameters; "

NEW_DIAGNOSES = ("decay_not_scaled_by_lr", "l2_in_gradient", "decay_after_step", "transformers_adamw")
NEW_BUG_CLASSES = ("weight-decay-convention",)

CANDIDATES = [
    _ok("correct_adamw:adamw_optax_chain", "adamw",
        "optax chain (scale_by_adam + add_decayed_weights + scale_by_learning_rate, float32 statistics)"),
    _ok("correct_adamw:AdamW", "adamw", "class with methods, dict state, constant lr, decay first as torch (same update)"),
    _ok("correct_adamw:adamw_flat", "adamw", "flat vector (ravel_pytree)"),
    Candidate("optax:adamw", "adamw", "pass", None, "correct", None, "optax.adamw, as it is",
              notes="the canonical form: weight decay multiplied by the learning rate"),
    Candidate("torch.optim:AdamW", "adamw", "pass", None, "correct", None, "torch.optim.AdamW, no wrapper",
              notes="param.mul_(1 - lr*wd) before the Adam step: the same update as optax"),
    _bug("buggy_adamw:decay_not_scaled_by_lr", "adamw", "p -= weight_decay*p (decay not multiplied by lr)",
         "weight-decay-convention", "decay_not_scaled_by_lr",
         notes="tensorflow-addons AdamW, pytorch_optimizer fixed_decay=True; the same rule with weight_decay*lr"),
    _bug("buggy_adamw:l2_in_gradient", "adamw", "L2 in the gradient (g + wd*p into Adam's moments)",
         "weight-decay-convention", "l2_in_gradient"),
    _bug("buggy_adamw:decay_after_step", "adamw", "decay applied to the parameters after the Adam step",
         "weight-decay-convention", "decay_after_step",
         notes="differs by lr^2*wd*step: caught in float64 and at the varied hyperparameters; where eps-hat is "
         "invisible, [transformers_adamw] may be named beside it"),
    _bug("buggy_adamw:transformers_port", "adamw", "HuggingFace transformers AdamW: eps-hat step, then decay of the new p",
         "weight-decay-convention", "transformers_adamw"),
    _bug("buggy_adamw:keras_eps_hat", "adamw", "Keras AdamW's eps-hat Adam step with decoupled decay", "eps-hat",
         "eps_hat", notes=_DEFAULT_INVISIBLE + "with O(1) gradients; visible with tiny gradients or large eps "
         "(where the decay ordering is invisible too, [transformers_adamw] may be named beside it)"),
    _bug("buggy_adamw:ignores_weight_decay", "adamw", "weight_decay hard-coded to 1e-4", "ignored-hyperparameter",
         notes=_DEFAULT_INVISIBLE + "needs weight_decay != 1e-4"),
    _bug("buggy_adamw:decay_sign_flipped", "adamw", "p += lr*wd*p (the weights grow)", "wrong-rule"),
    _bug("buggy_adamw:decay_lr_frozen", "adamw", "decay uses learning_rate(0) at every step", "schedule",
         notes="only visible with a non-constant schedule"),
    Candidate("torch.optim:Adam", "adamw", "fail", "torch.optim.Adam(weight_decay=...): L2 in the gradient",
              "weight-decay-convention", "l2_in_gradient",
              notes="the real library, as it is: Adam's weight_decay is L2 regularisation, not AdamW", only=True),
    Candidate("keras.optimizers:AdamW", "adamw", "fail", "keras.optimizers.AdamW: eps-hat Adam step", "eps-hat",
              "eps_hat", notes="the real library, as it is; its decay (lr*wd*p before the step) is the canonical one"),
]
