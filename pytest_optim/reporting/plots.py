"""``--optim-plots=DIR``: training curves per dataset with the optimizers overlaid.

Each training run writes ``DIR/curves/<dataset>/<label>.json`` (loss and gradient norm per step,
test accuracy and loss per evaluation); at the end of the session the controlling process draws
``DIR/<dataset>.png`` (loss, test accuracy, gradient norm) and ``DIR/<dataset>.json`` (all curves).
Every file is written to a temporary name and moved into place with ``os.replace``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from pytest_optim import atomic


def _safe(label: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", label)


def write_curves(directory: str, run, workload=None) -> Path:
    data = run.curves()
    if workload is not None:
        data.update(title=workload.title, model=workload.settings.model, notes=workload.notes,
                    batch_size=workload.settings.batch_size, epochs=workload.settings.epochs)
    path = Path(directory) / "curves" / _safe(run.dataset) / f"{_safe(run.label)}.json"
    atomic.write(path, lambda f: f.write(json.dumps(data).encode()))
    return path


def _smooth(values, window: int):
    import numpy as np

    v = np.asarray(values, float)
    if window <= 1 or len(v) < window:
        return np.arange(1, len(v) + 1), v
    kernel = np.ones(window) / window
    return np.arange(window, len(v) + 1), np.convolve(v, kernel, mode="valid")


def make_plots(directory: str) -> list[Path]:
    """Draw one PNG (and one JSON of all curves) per dataset found under DIR/curves."""
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    written = []
    root = Path(directory) / "curves"
    for ds_dir in sorted(p for p in root.iterdir() if p.is_dir()):
        runs = []
        for f in sorted(ds_dir.glob("*.json")):
            try:
                runs.append(json.loads(f.read_text()))
            except (OSError, ValueError):
                continue
        if not runs:
            continue
        fig, axes = plt.subplots(1, 3, figsize=(16, 4.6))
        for r in runs:
            window = max(1, len(r["loss"]) // 50)
            name = f"{r['label']} (lr {r['learning_rate']:g})"
            axes[0].plot(*_smooth(r["loss"], window), label=name, lw=1.2)
            axes[1].plot(r["eval_steps"], [100 * a for a in r["test_accuracy"]], marker="o", ms=3, label=name)
            axes[2].plot(*_smooth(r["grad_norm"], window), label=name, lw=1.2)
        title = runs[0].get("title", ds_dir.name)
        axes[0].set(title=f"{title}: training loss (moving mean)", xlabel="step", ylabel="training loss")
        axes[0].set_yscale("log")
        axes[1].set(title=f"{title}: test accuracy", xlabel="step", ylabel="%")
        axes[2].set(title=f"{title}: gradient norm (moving mean)", xlabel="step", ylabel="||g||")
        axes[2].set_yscale("log")
        for ax in axes:
            ax.grid(alpha=0.3)
        axes[1].legend(fontsize=7, loc="lower right")
        sub = runs[0].get("model", "")
        if sub:
            fig.suptitle(f"{title}: {sub}; {runs[0].get('notes', '')}", fontsize=9)
        fig.tight_layout()
        png = Path(directory) / f"{ds_dir.name}.png"
        atomic.write(png, lambda f: fig.savefig(f, format="png", dpi=90))
        plt.close(fig)
        js = Path(directory) / f"{ds_dir.name}.json"
        atomic.write(js, lambda f: f.write(json.dumps({"dataset": ds_dir.name, "runs": runs}).encode()))
        written += [png, js]
    return written
