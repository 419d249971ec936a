"""How the cost grows with batch size and width: chainrule against PyTorch CPU, side by side.

For each point the chainrule step and the PyTorch step run interleaved in this one process
(A B A B …, after a warm-up; 2 threads, OMP_WAIT_POLICY=PASSIVE so PyTorch's idle threads do
not spin on the cores NumPy needs), and the report gives each side's median seconds per step
(min–max), the per-sample time and ``ratio`` = PyTorch time / chainrule time (above 1: chainrule
is faster). The sweeps:

- MLP 784-W-W-10, SGD momentum 0.9: batch sizes 1, 4, 16, 64, 256, 1024 at W = 256, and widths
  W = 64 … 2048 at batch 128;
- the LeNet-like CNN of ``bench_cnn`` (SGD): batch sizes 1 … 256;
- the LSTM of ``bench_rnn`` (input 32, hidden 128, 50 steps, SGD): batch sizes 1 … 256.

At batch 1 a step is mostly per-op overhead, so the report also counts the nodes of each
library's autograd graph for one step and divides the batch-1 step time by it: microseconds
per recorded op (forward and backward together). The curves are drawn to ``scaling.png``
next to ``scaling.json`` and ``scaling.md``.

    python -m benchmarks.bench_scaling              # the full sweep (a few minutes)
    python -m benchmarks.bench_scaling --quick      # two points per sweep, one round (seconds)
    python -m benchmarks.bench_scaling --out DIR
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # before PyTorch is imported

if __package__ in (None, ""):  # run as a script: make ``benchmarks`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    __package__ = "benchmarks"

import numpy as np  # noqa: E402

import chainrule as cr  # noqa: E402
import chainrule.functional as F  # noqa: E402
from benchmarks.common import (  # noqa: E402
    environment,
    interleaved,
    set_threads,
    time_call,
    torch_available,
)
from chainrule import nn, optim  # noqa: E402

HERE = Path(__file__).resolve().parent
BATCHES = (1, 4, 16, 64, 256, 1024)
WIDTHS = (64, 128, 256, 512, 1024, 2048)
CONV_BATCHES = (1, 4, 16, 64, 256)
RNN_BATCHES = (1, 4, 16, 64, 256)
MLP_WIDTH, MLP_BATCH = 256, 128
RNN_INPUT, RNN_HIDDEN, RNN_SEQ, CLASSES = 32, 128, 50, 10


# ------------------------------------------------------------------ workloads
def _mlp_data(batch: int):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((batch, 784)).astype(np.float32)
    return X, rng.integers(0, CLASSES, size=batch)


def _cnn_data(batch: int):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((batch, 1, 28, 28)).astype(np.float32)
    return X, rng.integers(0, CLASSES, size=batch)


def _rnn_data(batch: int):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((RNN_SEQ, batch, RNN_INPUT)).astype(np.float32)
    return X, rng.integers(0, CLASSES, size=batch)


def _chainrule_model(model: str, width: int):
    g = np.random.default_rng(0)
    if model == "mlp":
        return nn.Sequential(
            nn.Linear(784, width, generator=g),
            nn.ReLU(),
            nn.Linear(width, width, generator=g),
            nn.ReLU(),
            nn.Linear(width, CLASSES, generator=g),
        )
    if model == "cnn":
        from benchmarks.bench_cnn import chainrule_lenet

        return chainrule_lenet()
    lstm = nn.LSTM(RNN_INPUT, RNN_HIDDEN, generator=g)
    head = nn.Linear(RNN_HIDDEN, CLASSES, generator=g)
    return lstm, head


def _torch_model(model: str, width: int):
    import torch

    torch.manual_seed(0)
    tnn = torch.nn
    if model == "mlp":
        return tnn.Sequential(
            tnn.Linear(784, width), tnn.ReLU(), tnn.Linear(width, width), tnn.ReLU(),
            tnn.Linear(width, CLASSES),
        )
    if model == "cnn":
        from benchmarks.bench_cnn import torch_lenet

        return torch_lenet()
    return tnn.LSTM(RNN_INPUT, RNN_HIDDEN), tnn.Linear(RNN_HIDDEN, CLASSES)


_DATA = {"mlp": _mlp_data, "cnn": _cnn_data, "lstm": _rnn_data}


def chainrule_step(model: str, batch: int, width: int = MLP_WIDTH):
    """A callable doing one SGD step of ``model`` on a batch; its ``.loss()`` builds one graph."""
    X, y = _DATA[model](batch)
    net = _chainrule_model(model, width)
    if model == "lstm":
        lstm, head = net
        params = list(lstm.parameters()) + list(head.parameters())

        def forward(x):
            output, _ = lstm(x)
            return head(output[-1])
    else:
        params, forward = list(net.parameters()), net
    opt = optim.SGD(params, lr=0.01, momentum=0.9)
    Xt = cr.tensor(X)

    def loss():
        return F.cross_entropy(forward(Xt), y)

    def step():
        opt.zero_grad()
        loss().backward()
        opt.step()

    step.loss = loss
    return step


def torch_step(model: str, batch: int, width: int = MLP_WIDTH):
    import torch

    X, y = _DATA[model](batch)
    net = _torch_model(model, width)
    if model == "lstm":
        lstm, head = net
        params = list(lstm.parameters()) + list(head.parameters())

        def forward(x):
            output, _ = lstm(x)
            return head(output[-1])
    else:
        params, forward = list(net.parameters()), net
    opt = torch.optim.SGD(params, lr=0.01, momentum=0.9)
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)

    def loss():
        return torch.nn.functional.cross_entropy(forward(Xt), yt)

    def step():
        opt.zero_grad()
        loss().backward()
        opt.step()

    step.loss = loss
    return step


# ------------------------------------------------------------------ op counts
def chainrule_graph_nodes(loss) -> int:
    """Recorded nodes (``Function`` calls) of the graph that ends at ``loss``."""
    seen, stack = set(), [loss._ctx]
    while stack:
        node = stack.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        stack.extend(p._ctx for p in node.inputs if p is not None)
    return len(seen)


def torch_graph_nodes(loss) -> int:
    """Backward nodes of PyTorch's graph that ends at ``loss`` (AccumulateGrad leaves excluded)."""
    seen, stack = set(), [loss.grad_fn]
    while stack:
        node = stack.pop()
        if node is None or node in seen:
            continue
        seen.add(node)
        stack.extend(child for child, _ in node.next_functions)
    return sum(1 for node in seen if type(node).__name__ != "AccumulateGrad")


# ------------------------------------------------------------------ timing
def _calls_per_round(step, budget_s: float) -> int:
    """How many calls fill about ``budget_s`` seconds (1 to 50), from one timed call."""
    one = min(time_call(step, 2))
    return max(1, min(50, int(budget_s / max(one, 1e-6))))


def time_point(
    model: str, batch: int, width: int, with_torch: bool, rounds: int, budget_s: float
) -> dict:
    candidates = {"chainrule": chainrule_step(model, batch, width)}
    if with_torch:
        candidates["torch"] = torch_step(model, batch, width)
    per_round = min(_calls_per_round(step, budget_s) for step in candidates.values())
    timings = interleaved(candidates, rounds=rounds, per_round=per_round, warmup=1)
    point = {"model": model, "batch": batch, "width": width, "timings": timings}
    for side, t in timings.items():
        point[f"{side}_us_per_sample"] = t["median_s"] / batch * 1e6
    if "torch" in timings:
        point["ratio"] = timings["torch"]["median_s"] / timings["chainrule"]["median_s"]
        # from the fastest call of each: steadier when other processes share the cores
        point["ratio_best"] = timings["torch"]["min_s"] / timings["chainrule"]["min_s"]
    if batch == 1:
        point["chainrule_nodes"] = chainrule_graph_nodes(candidates["chainrule"].loss())
        if with_torch:
            point["torch_nodes"] = torch_graph_nodes(candidates["torch"].loss())
        for side in timings:
            nodes = point[f"{side}_nodes"]
            point[f"{side}_us_per_op"] = timings[side]["median_s"] / nodes * 1e6
    return point


def sweeps(quick: bool) -> list[tuple[str, str, int, int]]:
    """(sweep, model, batch, width) of every point."""
    batches, widths = (BATCHES[:2], WIDTHS[:2]) if quick else (BATCHES, WIDTHS)
    conv, rnn = (CONV_BATCHES[:2], RNN_BATCHES[:2]) if quick else (CONV_BATCHES, RNN_BATCHES)
    points = [("mlp_batch", "mlp", b, MLP_WIDTH) for b in batches]
    points += [("mlp_width", "mlp", MLP_BATCH, w) for w in widths]
    points += [("cnn_batch", "cnn", b, 0) for b in conv]
    points += [("lstm_batch", "lstm", b, 0) for b in rnn]
    return points


# ------------------------------------------------------------------ reports
def _cell(t: dict | None) -> str:
    if t is None:
        return "–"
    return f"{t['median_s'] * 1e3:.3f} ({t['min_s'] * 1e3:.3f}–{t['max_s'] * 1e3:.3f})"


def markdown(report: dict) -> str:
    env = report["environment"]
    lines = [
        f"Run {report['started']} · Python {env['python']} · NumPy {env['numpy']} · "
        f"PyTorch {env.get('torch', 'not installed')} · {report['threads']} threads · "
        f"{env['cpu_count']} CPUs · load average {report['load_average']}",
        "",
        "Both libraries interleaved in one process (OMP_WAIT_POLICY=PASSIVE); ms per step, "
        "median (min–max); ratio = PyTorch / chainrule (above 1: chainrule faster).",
        "",
        "| sweep | batch | width | chainrule ms | PyTorch ms | chainrule µs/sample "
        "| PyTorch µs/sample | ratio (medians) | ratio (fastest calls) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for p in report["points"]:
        t = p["timings"]
        torch_us = f"{p['torch_us_per_sample']:.1f}" if "torch" in t else "–"
        ratio = f"{p['ratio']:.2f} | {p['ratio_best']:.2f}" if "ratio" in p else "– | –"
        lines.append(
            f"| {p['sweep']} | {p['batch']} | {p['width'] or '–'} | {_cell(t['chainrule'])} "
            f"| {_cell(t.get('torch'))} | {p['chainrule_us_per_sample']:.1f} | {torch_us} "
            f"| {ratio} |"
        )
    lines += [
        "",
        "Per-op overhead at batch 1 (step time / recorded autograd nodes):",
        "",
        "| model | chainrule nodes | chainrule µs/op | PyTorch nodes | PyTorch µs/op |",
        "|---|---|---|---|---|",
    ]
    for p in report["points"]:
        if p["batch"] != 1:
            continue
        torch_part = (
            f"{p['torch_nodes']} | {p['torch_us_per_op']:.1f}" if "torch_nodes" in p else "– | –"
        )
        lines.append(
            f"| {p['model']} | {p['chainrule_nodes']} | {p['chainrule_us_per_op']:.1f} "
            f"| {torch_part} |"
        )
    return "\n".join(lines) + "\n"


COLOURS = {"mlp": "tab:blue", "cnn": "tab:orange", "lstm": "tab:green"}


def plot(report: dict, path: Path) -> None:
    """Four panels: ratio and per-sample time, against batch size and against MLP width."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    points = report["points"]
    fig, axes = plt.subplots(2, 2, figsize=(11, 8), constrained_layout=True)
    by_batch = {m: [p for p in points if p["sweep"] == f"{m}_batch"] for m in COLOURS}
    by_width = [p for p in points if p["sweep"] == "mlp_width"]
    labels = {"mlp": f"MLP 784-{MLP_WIDTH}-{MLP_WIDTH}-10", "cnn": "LeNet CNN",
              "lstm": f"LSTM {RNN_HIDDEN}, {RNN_SEQ} steps"}
    ratio_b, ratio_w, time_b, time_w = axes[0, 0], axes[0, 1], axes[1, 0], axes[1, 1]
    for model, pts in by_batch.items():
        if not pts:
            continue
        xs = [p["batch"] for p in pts]
        colour = COLOURS[model]
        if all("ratio" in p for p in pts):
            ratio_b.plot(xs, [p["ratio"] for p in pts], "o-", color=colour,
                         label=f"{labels[model]} (medians)")
            ratio_b.plot(xs, [p["ratio_best"] for p in pts], "x:", color=colour, alpha=0.6,
                         label=f"{labels[model]} (fastest calls)")
        time_b.plot(xs, [p["chainrule_us_per_sample"] for p in pts], "o-", color=colour,
                    label=f"{labels[model]}, chainrule")
        if all("torch_us_per_sample" in p for p in pts):
            time_b.plot(xs, [p["torch_us_per_sample"] for p in pts], "s--", color=colour,
                        alpha=0.7, label=f"{labels[model]}, PyTorch")
    if by_width:
        xs = [p["width"] for p in by_width]
        colour = COLOURS["mlp"]
        if all("ratio" in p for p in by_width):
            ratio_w.plot(xs, [p["ratio"] for p in by_width], "o-", color=colour,
                         label=f"MLP 784-W-W-10, batch {MLP_BATCH} (medians)")
            ratio_w.plot(xs, [p["ratio_best"] for p in by_width], "x:", color=colour, alpha=0.6,
                         label="(fastest calls)")
        time_w.plot(xs, [p["chainrule_us_per_sample"] for p in by_width], "o-", color=colour,
                    label="chainrule")
        if all("torch_us_per_sample" in p for p in by_width):
            time_w.plot(xs, [p["torch_us_per_sample"] for p in by_width], "s--", color=colour,
                        alpha=0.7, label="PyTorch")
    for ax in (ratio_b, ratio_w):
        ax.axhline(1.0, color="grey", linewidth=1, linestyle=":")
        ax.set_yscale("log")  # ratios of 0.1 and 10 lie equally far from 1
        ax.set_ylabel("PyTorch time / chainrule time\n(above 1: chainrule faster)")
    for ax in (time_b, time_w):
        ax.set_yscale("log")
        ax.set_ylabel("µs per sample (one SGD step / batch)")
    from matplotlib.ticker import FuncFormatter, NullFormatter

    plain = FuncFormatter(lambda value, _: f"{value:g}")
    for ax in axes.flat:
        ax.set_xscale("log", base=2)
        ax.xaxis.set_major_formatter(plain)
    for ax in (ratio_b, ratio_w):
        ax.yaxis.set_major_formatter(plain)
        ax.yaxis.set_minor_formatter(NullFormatter())
    for ax in (ratio_b, time_b):
        ax.set_xlabel("batch size")
    for ax in (ratio_w, time_w):
        ax.set_xlabel(f"MLP hidden width W (batch {MLP_BATCH})")
    ratio_b.set_title("Throughput ratio against batch size")
    ratio_w.set_title("Throughput ratio against MLP width")
    time_b.set_title("Per-sample time against batch size")
    time_w.set_title("MLP per-sample time against width")
    for ax in axes.flat:
        ax.grid(True, which="major", alpha=0.3)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=8)
    fig.suptitle(
        f"chainrule vs PyTorch CPU, one SGD step, {report['threads']} threads "
        f"({report['started']}, load average {report['load_average']})"
    )
    fig.savefig(path, dpi=110)
    plt.close(fig)


def run(
    quick: bool = False,
    threads: int = 2,
    use_torch: bool = True,
    out: str | os.PathLike | None = None,
    rounds: int | None = None,
    draw: bool = True,
    verbose: bool = True,
) -> dict:
    """Time every point of the sweeps; write scaling.json, scaling.md and scaling.png to ``out``."""
    with_torch = use_torch and torch_available()
    if with_torch:
        import torch  # noqa: F401 (imported before the thread limits so its pools are limited)
    limiter = set_threads(threads)
    rounds = rounds or (1 if quick else 3)
    budget_s = 0.005 if quick else 0.15
    report = {
        "started": time.strftime("%Y-%m-%d %H:%M:%S"),
        "threads": threads,
        "quick": quick,
        "load_average": " ".join(f"{x:.1f}" for x in os.getloadavg()),
        "environment": environment(),
        "points": [],
    }
    try:
        for sweep, model, batch, width in sweeps(quick):
            point = time_point(model, batch, width, with_torch, rounds, budget_s)
            point["sweep"] = sweep
            report["points"].append(point)
            if verbose:
                ratio = f"ratio {point['ratio']:.2f}" if "ratio" in point else ""
                print(f"{sweep:10s} batch {batch:5d} width {width:5d}  chainrule "
                      f"{point['chainrule_us_per_sample']:9.1f} µs/sample  {ratio}", flush=True)
    finally:
        if limiter is not None:
            limiter.restore_original_limits()
    if out is not None:
        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        (out / "scaling.json").write_text(json.dumps(report, indent=2))
        (out / "scaling.md").write_text(markdown(report))
        if draw:
            plot(report, out / "scaling.png")
        if verbose:
            print(markdown(report))
            print(f"wrote {out / 'scaling.json'}, scaling.md" + (", scaling.png" if draw else ""))
    return report


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.bench_scaling", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--quick", action="store_true",
                        help="two points per sweep, one round, tiny budgets (a smoke run)")
    parser.add_argument("--out", default=str(HERE / "results"), metavar="DIR",
                        help="folder for scaling.json, scaling.md, scaling.png "
                        "(default: benchmarks/results)")
    parser.add_argument("--threads", type=int, default=2, help="BLAS and PyTorch threads")
    parser.add_argument("--rounds", type=int, default=None,
                        help="interleaved rounds per point (default 3; 1 with --quick)")
    parser.add_argument("--no-torch", action="store_true", help="chainrule figures only")
    parser.add_argument("--no-plot", action="store_true", help="skip the PNG")
    parser.add_argument("--plot-only", metavar="JSON",
                        help="draw scaling.png into --out from a saved scaling.json; no timing")
    args = parser.parse_args(argv)
    if args.plot_only:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        plot(json.loads(Path(args.plot_only).read_text()), out / "scaling.png")
        print(f"wrote {out / 'scaling.png'}")
        return 0
    run(quick=args.quick, threads=args.threads, use_torch=not args.no_torch, out=args.out,
        rounds=args.rounds, draw=not args.no_plot)
    return 0


if __name__ == "__main__":
    sys.exit(main())
