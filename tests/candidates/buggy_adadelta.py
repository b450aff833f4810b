"""Buggy candidates for the "adadelta" spec (Zeiler Algorithm 1, p <- p - lr d with the unscaled d accumulated
into E[dx^2]); one bug each."""

from types import SimpleNamespace

import jax
import jax.numpy as jnp
import optax


def _dtype(x):
    return jnp.promote_types(jnp.result_type(x), jnp.float32)


def _lr_at(learning_rate, count):
    return learning_rate(count) if callable(learning_rate) else learning_rate


def _rms(x, eps):
    return jnp.sqrt(x + eps)


def _adadelta(learning_rate, rho, eps, *, rms=_rms, rms_num=None, lr_inside=False, stale_denominator=False,
              use_lr=True):
    """Correct skeleton (dict state); the keyword arguments carry the bug."""

    def init(params):
        z = jax.tree.map(lambda p: jnp.zeros_like(p, dtype=_dtype(p)), params)
        return {"count": jnp.zeros([], jnp.int32), "eg": z, "ex": z}

    def update(grads, state, params=None):
        del params
        lr = _lr_at(learning_rate, state["count"]) if use_lr else 1.0

        def leaf(g, eg, ex):
            dt = eg.dtype
            g = jnp.asarray(g).astype(dt)
            r, e = jnp.asarray(rho, dt), jnp.asarray(eps, dt)
            eg_new = r * eg + (1 - r) * g * g
            d = (rms_num or rms)(ex, e) / rms(eg if stale_denominator else eg_new, e) * g
            step = jnp.asarray(lr, dt) * d
            acc = step if lr_inside else d
            ex_new = r * ex + (1 - r) * acc * acc
            return -step, eg_new, ex_new

        out = [leaf(*x) for x in zip(jax.tree.leaves(grads), jax.tree.leaves(state["eg"]), jax.tree.leaves(state["ex"]))]
        treedef = jax.tree.structure(grads)
        updates = jax.tree.unflatten(treedef, [u.astype(jnp.result_type(g)) for (u, _, _), g
                                               in zip(out, jax.tree.leaves(grads))])
        eg = jax.tree.unflatten(treedef, [o[1] for o in out])
        ex = jax.tree.unflatten(treedef, [o[2] for o in out])
        return updates, {"count": state["count"] + 1, "eg": eg, "ex": ex}

    return SimpleNamespace(init=init, update=update)


def lr_in_delta(learning_rate, rho=0.9, eps=1e-6):
    """BUG (lr-placement): climin's form, lr multiplies the step before it is accumulated into E[dx^2]
    (the same rule at lr = 1; keras-team/keras PR #11532 proposed it for Keras)."""
    return _adadelta(learning_rate, rho, eps, lr_inside=True)


def eps_outside_sqrt(learning_rate, rho=0.9, eps=1e-6):
    """BUG (eps-placement): RMS written as in Adam, sqrt(E[y^2]) + eps, on both sides."""
    return _adadelta(learning_rate, rho, eps, rms=lambda x, e: jnp.sqrt(x) + e)


def eps_only_in_denominator(learning_rate, rho=0.9, eps=1e-6):
    """BUG (eps-placement): sqrt(E[dx^2]) / sqrt(E[g^2] + eps): E[dx^2] starts at 0 and stays 0, so does every update."""
    return _adadelta(learning_rate, rho, eps, rms_num=lambda x, e: jnp.sqrt(x))


def ports_chainer(learning_rate, rho=0.9, eps=1e-6, **kwargs):
    """BUG (ignored-hyperparameter): a port of chainer.optimizers.AdaDelta, which has no learning rate
    (param -= dx): learning_rate swallowed, the paper's lr = 1 always."""
    del learning_rate, kwargs
    return _adadelta(1.0, rho, eps, use_lr=False)


def optax_default_lr(learning_rate, rho=0.9, eps=1e-6):
    """BUG (unnegated-update): optax.adadelta built with its default learning_rate=None (the caller's value
    dropped): scale_by_learning_rate(None) is the identity, so the update is +d, gradient ascent."""
    del learning_rate
    return optax.adadelta(None, rho=rho, eps=eps)


def stale_grad_average(learning_rate, rho=0.9, eps=1e-6):
    """BUG (wrong-rule): the update divides by the previous E[g^2]_{t-1} (the average updated after the step),
    so step 1 is lr * g: sqrt(eps)/sqrt(eps) g."""
    return _adadelta(learning_rate, rho, eps, stale_denominator=True)


def ignores_rho(learning_rate, rho=0.9, eps=1e-6):
    """BUG (ignored-hyperparameter): rho accepted but 0.9 hard-coded (invisible at the default)."""
    del rho
    return _adadelta(learning_rate, 0.9, eps)
