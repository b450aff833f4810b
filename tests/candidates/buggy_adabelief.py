"""Buggy candidates for the "adabelief" spec (s <- b2*s + (1-b2)*(g - m_t)^2 + eps_root; m_hat/(sqrt(s_hat) + eps))."""

from types import SimpleNamespace

import jax
import jax.numpy as jnp


def _adabelief(
    learning_rate, b1, b2, eps, eps_root, *,
    eps_root_in_state=True, belief_uses_previous_m=False, count_init=0,
):
    """Correct skeleton; exactly one keyword switches on a bug."""

    def init(params):
        z = jax.tree.map(lambda p: jnp.zeros_like(p, dtype=jnp.promote_types(jnp.result_type(p), jnp.float32)), params)
        return {"count": jnp.full([], count_init, jnp.int32), "mu": z, "nu": z}

    def update(grads, state, params=None):
        del params
        t = state["count"] + 1
        lr = learning_rate(state["count"] - count_init) if callable(learning_rate) else learning_rate

        def moments(m_prev, s, x):
            dt = m_prev.dtype
            x = jnp.asarray(x).astype(dt)
            beta1, beta2 = jnp.asarray(b1, dt), jnp.asarray(b2, dt)
            m = beta1 * m_prev + (1 - beta1) * x
            centre = m_prev if belief_uses_previous_m else m
            s = beta2 * s + (1 - beta2) * jnp.square(x - centre)
            if eps_root_in_state:
                s = s + jnp.asarray(eps_root, dt)
            return m, s

        def step(m, s, orig):
            dt = m.dtype
            tt, beta1, beta2 = t.astype(dt), jnp.asarray(b1, dt), jnp.asarray(b2, dt)
            s_hat = s / (1 - beta2**tt)
            if not eps_root_in_state:
                s_hat = s_hat + jnp.asarray(eps_root, dt)
            d = (m / (1 - beta1**tt)) / (jnp.sqrt(s_hat) + jnp.asarray(eps, dt))
            return (-jnp.asarray(lr, dt) * d).astype(jnp.result_type(orig))

        treedef = jax.tree.structure(grads)
        pairs = treedef.flatten_up_to(jax.tree.map(moments, state["mu"], state["nu"], grads))
        mu = treedef.unflatten([p[0] for p in pairs])
        nu = treedef.unflatten([p[1] for p in pairs])
        return jax.tree.map(step, mu, nu, grads), {"count": t, "mu": mu, "nu": nu}

    return SimpleNamespace(init=init, update=update)


def eps_root_only_in_update(learning_rate, b1=0.9, b2=0.999, eps=1e-16, eps_root=1e-16):
    """BUG (eps-placement): eps_root added to s_hat in the update only (optax scale_by_adam style), never stored in s as the paper / adabelief_pytorch's in-place add_ do."""
    return _adabelief(learning_rate, b1, b2, eps, eps_root, eps_root_in_state=False)


def belief_uses_previous_m(learning_rate, b1=0.9, b2=0.999, eps=1e-16, eps_root=1e-16):
    """BUG (wrong-rule): belief term (g - m_{t-1})^2 uses the previous first moment instead of m_t."""
    return _adabelief(learning_rate, b1, b2, eps, eps_root, belief_uses_previous_m=True)


def bias_correction_off_by_one(learning_rate, b1=0.9, b2=0.999, eps=1e-16, eps_root=1e-16):
    """BUG (bias-correction): step counter initialised at 1, so the corrections use 1 - b^(t+1) (schedule still sees 0 first)."""
    return _adabelief(learning_rate, b1, b2, eps, eps_root, count_init=1)


def ignores_eps(learning_rate, b1=0.9, b2=0.999, eps=1e-16, eps_root=1e-16):
    """BUG (ignored-hyperparameter): eps accepted but the default 1e-16 hard-coded (invisible at the default)."""
    del eps
    return _adabelief(learning_rate, b1, b2, 1e-16, eps_root)


def adabelief_pytorch_port(learning_rate, b1=0.9, b2=0.999, eps=1e-16, eps_root=1e-16):
    """CONVENTION (eps-placement): a JAX port of the authors' adabelief-pytorch (rectify=False): one eps.

    ``exp_avg_var.mul_(b2).addcmul_(r, r, value=1-b2)``; ``denom = (exp_avg_var.add_(eps).sqrt() /
    sqrt(bias_correction2)).add_(eps)``: eps is added to the stored s every step and again outside
    the root, and there is no eps_root (accepted for the harness, ignored). The spec's rule when
    eps == eps_root (both 1e-16 by default); different when either is varied.
    """
    del eps_root

    def init(params):
        z = jax.tree.map(lambda p: jnp.zeros_like(p, dtype=jnp.promote_types(jnp.result_type(p), jnp.float32)), params)
        return {"step": jnp.zeros([], jnp.int32), "exp_avg": z, "exp_avg_var": z}

    def update(grads, state, params=None):
        del params
        step = state["step"] + 1
        lr = learning_rate(state["step"]) if callable(learning_rate) else learning_rate

        def leaf(exp_avg, exp_avg_var, grad):
            dt = exp_avg.dtype
            grad = jnp.asarray(grad).astype(dt)
            beta1, beta2, e = jnp.asarray(b1, dt), jnp.asarray(b2, dt), jnp.asarray(eps, dt)
            t = step.astype(dt)
            bias_correction1 = 1 - beta1**t
            bias_correction2 = 1 - beta2**t
            exp_avg = exp_avg * beta1 + (1 - beta1) * grad
            grad_residual = grad - exp_avg
            exp_avg_var = exp_avg_var * beta2 + (1 - beta2) * grad_residual * grad_residual
            exp_avg_var = exp_avg_var + e  # the in-place add_(eps): stored
            denom = jnp.sqrt(exp_avg_var) / jnp.sqrt(bias_correction2) + e
            step_size = jnp.asarray(lr, dt) / bias_correction1
            return -step_size * exp_avg / denom, exp_avg, exp_avg_var

        treedef = jax.tree.structure(grads)
        triples = [leaf(m, s, g) for m, s, g in zip(treedef.flatten_up_to(state["exp_avg"]),
                                                    treedef.flatten_up_to(state["exp_avg_var"]),
                                                    treedef.flatten_up_to(grads))]
        g_leaves = treedef.flatten_up_to(grads)
        updates = treedef.unflatten([u.astype(jnp.result_type(g)) for (u, _, _), g in zip(triples, g_leaves)])
        exp_avg = treedef.unflatten([m for _, m, _ in triples])
        exp_avg_var = treedef.unflatten([s for _, _, s in triples])
        return updates, {"step": step, "exp_avg": exp_avg, "exp_avg_var": exp_avg_var}

    return SimpleNamespace(init=init, update=update)
