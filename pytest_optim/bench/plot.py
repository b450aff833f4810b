"""Plot of steps/s against parameter count, ours vs optax (and the floor), one panel per optimizer.

Used by ``--optim-bench-plot=PATH`` at the end of a benchmark run; also works on a saved
``--benchmark-json`` file: ``python -m pytest_optim.bench.plot bench.json bench.png``.
The figure is written atomically (to a temporary file in the same folder, then renamed).
"""

from __future__ import annotations

import json
import math
import os
import sys

from pytest_optim import atomic


def results_from_json(path: str) -> list[dict]:
    with open(path) as fh:
        data = json.load(fh)
    return [b["extra_info"] for b in data.get("benchmarks", []) if b.get("extra_info", {}).get("figure")]


def write_plot(results: list[dict], path: str) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [r for r in results if r.get("workload_kind") == "size"]
    optimizers = sorted({r["optimizer"] for r in rows})
    if not optimizers:
        raise ValueError("no single-leaf size benchmarks to plot")
    cols = min(3, len(optimizers))
    nrows = math.ceil(len(optimizers) / cols)
    fig, axes = plt.subplots(nrows, cols, figsize=(4.2 * cols, 3.4 * nrows), squeeze=False, sharex=True)
    styles = {"dispatch": "--", "compute": "-"}
    for ax, name in zip(axes.flat, optimizers):
        for figure, ls in styles.items():
            pts = sorted((r["n_params"], r) for r in rows if r["optimizer"] == name and r["figure"] == figure)
            if not pts:
                continue
            n = [p for p, _ in pts]
            ax.plot(n, [1 / r["ours_step_s"] for _, r in pts], ls, marker="o", color="C0", label=f"ours ({figure})")
            ax.plot(n, [1 / r["optax_step_s"] for _, r in pts], ls, marker="s", color="C1", label=f"optax ({figure})")
            ax.plot(n, [1 / r["floor_step_s"] for _, r in pts], ls, color="0.6", lw=1, label=f"floor p-c*g ({figure})")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_title(name)
        ax.grid(True, which="both", alpha=0.3)
        ax.set_xlabel("parameters (float32, one leaf)")
        ax.set_ylabel("steps / s")
    for ax in list(axes.flat)[len(optimizers):]:
        ax.axis("off")
    handles, labels = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=3, fontsize=8, frameon=False)
    device = rows[0].get("device", "")
    fig.suptitle(f"optimizer step throughput, ours vs optax - {device}", fontsize=10)
    fig.tight_layout(rect=(0, 0.07, 1, 0.96))
    fmt = (os.path.splitext(path)[1] or ".png")[1:]
    try:
        atomic.write(path, lambda fh: fig.savefig(fh, format=fmt, dpi=110))
    finally:
        plt.close(fig)
    return path


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: python -m pytest_optim.bench.plot BENCH.json OUT.png", file=sys.stderr)
        return 2
    write_plot(results_from_json(argv[0]), argv[1])
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
