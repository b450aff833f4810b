"""Buggy candidates for the "lion" spec (Chen et al. Program 1); one bug each."""

import jax
import jax.numpy as jnp
import optax


def _wide(x):
    return jnp.asarray(x).astype(jnp.promote_types(jnp.result_type(x), jnp.float32))


def _lion(learning_rate, b1, b2, weight_decay, *, sign=jnp.sign, order="old", decay="decoupled"):
    """Correct skeleton, constant float lr; ``sign``, ``order`` or ``decay`` carries the bug."""
    lr = float(learning_rate)

    def init(params):
        return (jax.tree.map(lambda p: jnp.zeros_like(_wide(p)), params),)

    def update(grads, state, params=None):
        (mu,) = state

        def leaf(g, m, p):
            g, p = _wide(g), _wide(p)
            if decay == "l2":
                g = g + weight_decay * p
            m_new = b2 * m + (1 - b2) * g
            c = b1 * (m_new if order == "new" else m) + (1 - b1) * g
            step = lr * sign(c)
            if decay == "decoupled":
                step = step + lr * weight_decay * p
            elif decay == "not_scaled":
                step = step + weight_decay * p
            return (-step).astype(jnp.result_type(p)), m_new

        pairs = jax.tree.map(leaf, grads, mu, params)
        treedef = jax.tree.structure(grads)
        updates, mu = jax.tree.transpose(treedef, jax.tree.structure((0, 0)), pairs)
        updates = jax.tree.map(lambda u, g: u.astype(jnp.result_type(g)), updates, grads)
        return updates, (mu,)

    return optax.GradientTransformation(init, update)


def decay_not_scaled_by_lr(learning_rate, b1=0.9, b2=0.99, weight_decay=1e-3):
    """BUG: p <- p - lr*sign(c) - weight_decay*p (the decay not multiplied by lr)."""
    return _lion(learning_rate, b1, b2, weight_decay, decay="not_scaled")


def l2_in_gradient(learning_rate, b1=0.9, b2=0.99, weight_decay=1e-3):
    """BUG: torch-style weight_decay, g + wd*p fed to the momentum and the sign."""
    return _lion(learning_rate, b1, b2, weight_decay, decay="l2")


def new_momentum(learning_rate, b1=0.9, b2=0.99, weight_decay=1e-3):
    """BUG: momentum updated first, then sign(b1*m_t + (1-b1)*g)."""
    return _lion(learning_rate, b1, b2, weight_decay, order="new")


def betas_swapped(learning_rate, b1=0.9, b2=0.99, weight_decay=1e-3):
    """BUG: b1 and b2 swapped."""
    return _lion(learning_rate, b2, b1, weight_decay)


def no_decay(learning_rate, b1=0.9, b2=0.99, weight_decay=1e-3):
    """BUG: weight decay never applied."""
    return _lion(learning_rate, b1, b2, weight_decay, decay="none")


def sign_zero_positive(learning_rate, b1=0.9, b2=0.99, weight_decay=1e-3):
    """BUG: where(c >= 0, 1, -1): sign(0) = +1 (only zero gradients from the start show it)."""
    return _lion(learning_rate, b1, b2, weight_decay, sign=lambda c: jnp.where(c >= 0, 1.0, -1.0))


def ignores_b2(learning_rate, b1=0.9, b2=0.99, weight_decay=1e-3, **kwargs):
    """BUG (ignored-hyperparameter): b2 hard-coded to 0.99."""
    return _lion(learning_rate, b1, 0.99, weight_decay)


def tanh_sign(learning_rate, b1=0.9, b2=0.99, weight_decay=1e-3):
    """BUG (wrong rule): tanh(c) instead of sign(c) (optax.scale_by_lion(mode='smooth'), smooth_beta=1)."""
    return _lion(learning_rate, b1, b2, weight_decay, sign=jnp.tanh)
