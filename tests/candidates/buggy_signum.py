"""Buggy candidates for the "signum" spec (Bernstein et al. Algorithm 3); one bug each."""

import jax
import jax.numpy as jnp
import optax


def _wide(x):
    return jnp.asarray(x).astype(jnp.promote_types(jnp.result_type(x), jnp.float32))


def _signum(learning_rate, beta, *, sign=jnp.sign, first_step_buffer=False, nesterov=False, of_signs=False):
    """Correct skeleton (EMA v, constant float lr); one keyword carries the bug."""
    lr = float(learning_rate)

    def init(params):
        return {"v": jax.tree.map(lambda p: jnp.zeros_like(_wide(p)), params), "t": jnp.zeros([], jnp.int32)}

    def update(grads, state, params=None):
        t = state["t"] + 1

        def leaf(g, v):
            g = _wide(g)
            if of_signs:
                v = beta * v + jnp.sign(g)
                return -lr * v, v
            v_new = beta * v + (1 - beta) * g
            if first_step_buffer:
                v_new = jnp.where(t == 1, g, v_new)
            x = beta * v_new + (1 - beta) * g if nesterov else v_new
            return -lr * sign(x), v_new

        pairs = jax.tree.map(leaf, grads, state["v"])
        treedef = jax.tree.structure(grads)
        updates, v = jax.tree.transpose(treedef, jax.tree.structure((0, 0)), pairs)
        updates = jax.tree.map(lambda u, g: u.astype(jnp.result_type(g)), updates, grads)
        return updates, {"v": v, "t": t}

    return optax.GradientTransformation(init, update)


def sign_sgd(learning_rate, beta=0.9, **kwargs):
    """BUG: the momentum ignored, sign(g) (optax.sign_sgd's rule at any beta)."""
    return _signum(learning_rate, 0.0)


def torch_first_step_buffer(learning_rate, beta=0.9):
    """BUG: torch.optim.SGD(dampening=beta)'s buffer (v_1 = g_1, then the EMA), signed."""
    return _signum(learning_rate, beta, first_step_buffer=True)


def nesterov(learning_rate, beta=0.9):
    """BUG: Nesterov look-ahead, sign(beta*v_t + (1-beta)*g)."""
    return _signum(learning_rate, beta, nesterov=True)


def momentum_of_signs(learning_rate, beta=0.9):
    """BUG: v = beta*v + sign(g); p -= lr*v (momentum of the signs, no sign of the momentum)."""
    return _signum(learning_rate, beta, of_signs=True)


def sign_zero_positive(learning_rate, beta=0.9):
    """BUG: where(v >= 0, 1, -1): a 1-bit sign, +1 at v == 0 (zero gradients from the start show it)."""
    return _signum(learning_rate, beta, sign=lambda x: jnp.where(x >= 0, 1.0, -1.0))


def ignores_beta(learning_rate, beta=0.9):
    """BUG (ignored-hyperparameter): beta hard-coded to 0.9."""
    return _signum(learning_rate, 0.9)


def lr_times_momentum(learning_rate, beta=0.9):
    """BUG (wrong rule): p -= lr*v, the sign forgotten (EMA SGD)."""
    return _signum(learning_rate, beta, sign=lambda x: x)
