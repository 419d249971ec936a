"""Run the side-by-side benchmark suite: chainrule vs PyTorch CPU, same threads.

    python -m benchmarks                      # everything (a few minutes)
    python -m benchmarks --quick              # fewer repeats, a smoke run
    python -m benchmarks --only mlp --only fit
    python benchmarks/run.py --out /tmp/bench --no-memory
    python -m benchmarks --in-process         # both libraries in this process (faster, biased)

For each workload the chainrule and PyTorch callables run in alternating
rounds (A B A B …, after a warm-up), by default each round in a fresh
subprocess with the library's own default settings (PyTorch's spinning OpenMP
threads included), and the per-call times are summarised as median and
min–max. ``ratio`` = torch median / chainrule median, i.e.
chainrule's throughput as a fraction of PyTorch's (above 1 means faster).
BLAS and PyTorch are pinned to the same thread count (2 by default). The MLP
training rows also time a 512³ float32 NumPy GEMM (the ceiling a BLAS-bound
step can reach) in the same processes as the step, in a block after the
steps, and report the share of it the step achieves, counting the FLOPs of
its matrix products. Peak RSS is measured
per workload and library in a fresh subprocess so peaks do not mix.

Results go to ``benchmarks/results/latest.json`` and ``latest.md`` (or
``--out DIR``). PyTorch is optional: without it only chainrule's figures are
reported.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import platform
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

# Idle OpenMP threads of PyTorch must not spin on the cores the interleaved NumPy run needs
# (the default busy-wait makes each library slow the other by 2-10x on a 2-core machine).
# Set before PyTorch is imported; an explicit setting in the environment wins.
# By default each library runs in its own processes, with PyTorch's default threading;
# this matters for --in-process runs and for the driver process itself.
_USER_OMP_WAIT_POLICY = os.environ.get("OMP_WAIT_POLICY")
if not os.environ.get("CHAINRULE_BENCH_SEPARATE"):
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

if __package__ in (None, ""):  # run as a script: make ``benchmarks`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    __package__ = "benchmarks"

from benchmarks.common import (  # noqa: E402 (after the sys.path line above)
    blas_info,
    environment,
    gemm_call,
    interleaved,
    peak_rss_mb,
    summarize,
    time_call,
    torch_available,
)

HERE = Path(__file__).resolve().parent
GEMM_N = 512


@dataclass
class Workload:
    """One benchmark: how to build each side's callable, and what to compare it with."""

    name: str
    module: str  # benchmarks.<module>
    chainrule: str  # "function" or "function:arg" in that module
    torch: str
    samples: int  # samples processed per call
    target: float | None  # minimum chainrule/PyTorch throughput ratio
    rounds: int = 7
    per_round: int = 10
    unit: str = "ms"
    flops: bool = False  # MLP training: report the share of the GEMM ceiling
    notes: str = ""
    extra: dict = field(default_factory=dict)


WORKLOADS = [
    Workload(
        "mlp_train_sgd",
        "bench_mlp",
        "chainrule_step:sgd",
        "torch_step:sgd",
        128,
        1.0,
        9,
        20,
        flops=True,
        notes="784-256-256-10, batch 128, SGD momentum 0.9",
    ),
    Workload(
        "mlp_train_adam",
        "bench_mlp",
        "chainrule_step:adam",
        "torch_step:adam",
        128,
        1.0,
        9,
        20,
        flops=True,
        notes="784-256-256-10, batch 128, Adam",
    ),
    Workload(
        "mlp_inference",
        "bench_mlp",
        "chainrule_infer",
        "torch_infer",
        128,
        1.0,
        9,
        20,
        notes="784-256-256-10, batch 128, no_grad forward",
    ),
    Workload(
        "cnn_lenet_train_sgd",
        "bench_cnn",
        "chainrule_step",
        "torch_step",
        64,
        0.5,
        7,
        10,
        notes="LeNet-like, 1×28×28, batch 64, SGD",
    ),
    Workload(
        "lstm_train_sgd",
        "bench_rnn",
        "chainrule_step:LSTM",
        "torch_step:LSTM",
        64,
        0.6,
        5,
        4,
        notes="input 32, hidden 128, seq 50, batch 64, SGD",
    ),
    Workload(
        "gru_train_sgd",
        "bench_rnn",
        "chainrule_step:GRU",
        "torch_step:GRU",
        64,
        0.6,
        5,
        4,
        notes="input 32, hidden 128, seq 50, batch 64, SGD",
    ),
    Workload(
        "fit_digits_mlp",
        "bench_fit",
        "chainrule_fit",
        "torch_fit",
        0,
        None,
        3,
        1,
        unit="s",
        notes="CLI default: mlp preset on digits, Adam 2e-3, batch 64, 10 epochs",
    ),
    Workload(
        "fashion_cnn_epoch",
        "bench_fashion",
        "chainrule_epoch",
        "torch_epoch",
        0,
        1.0,
        3,
        1,
        unit="s",
        notes="cnn preset (3 conv-BN-ReLU-pool blocks) on Fashion-MNIST, Adam 2e-3, batch 64, "
        "one epoch over the first 6,400 images (CHAINRULE_BENCH_FASHION_SAMPLES)",
    ),
]


def _maker(workload: Workload, side: str):
    module = importlib.import_module(f"benchmarks.{workload.module}")
    spec = workload.chainrule if side == "chainrule" else workload.torch
    name, _, arg = spec.partition(":")
    function = getattr(module, name)
    return function(arg) if arg else function()


def skip_reason(workload: Workload) -> str | None:
    """Why ``workload`` cannot run here (its module's ``available()``), or None."""
    module = importlib.import_module(f"benchmarks.{workload.module}")
    check = getattr(module, "available", None)
    return check() if check is not None else None


def _select(only) -> list[Workload]:
    if not only:
        return list(WORKLOADS)
    chosen = [w for w in WORKLOADS if any(key in w.name for key in only)]
    if not chosen:
        names = ", ".join(w.name for w in WORKLOADS)
        raise SystemExit(f"--only: no workload matches {only}; the workloads are {names}")
    return chosen


def _set_threads(threads: int, with_torch: bool):
    """Pin PyTorch (imported first, so its pools are visible) and every BLAS to ``threads``."""
    if with_torch:
        import torch

        torch.set_num_threads(threads)
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return None
    return threadpool_limits(limits=threads)


def _repeats(workload: Workload, quick: bool) -> tuple[int, int, int]:
    rounds = max(2, workload.rounds // 3) if quick else workload.rounds
    per_round = max(1, workload.per_round // 4) if quick else workload.per_round
    warmup = 1 if workload.unit == "s" or quick else 3
    return rounds, per_round, warmup


def _child_env() -> dict:
    """Environment of a timing or memory subprocess: this checkout importable, default threads."""
    env = dict(os.environ)
    env["PYTHONPATH"] = str(HERE.parent) + os.pathsep + env.get("PYTHONPATH", "")
    env["CHAINRULE_BENCH_SEPARATE"] = "1"
    if (
        _USER_OMP_WAIT_POLICY is None
    ):  # this process set PASSIVE for itself; the children keep the default
        env.pop("OMP_WAIT_POLICY", None)
    return env


def _separate_timings(workload: Workload, sides, threads: int, quick: bool) -> dict:
    """One subprocess per library and round, alternating (A B A B …), each with default threads."""
    rounds, per_round, warmup = _repeats(workload, quick)
    samples = {side: [] for side in sides}
    if workload.flops:
        samples["gemm"] = []
    root = HERE.parent
    env = _child_env()
    for _ in range(rounds):
        for side in sides:
            proc = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "benchmarks.run",
                    "--probe-time",
                    workload.name,
                    side,
                    "--threads",
                    str(threads),
                    "--calls",
                    str(per_round),
                    "--warmup",
                    str(warmup),
                ],
                cwd=root,
                env=env,
                capture_output=True,
                text=True,
                timeout=900,
                check=True,
            )
            result = json.loads(proc.stdout.strip().splitlines()[-1])
            samples[side].extend(result["times"])
            samples.get("gemm", []).extend(result.get("gemm_times", []))
    return summarize(samples)


def time_workload(
    workload: Workload, with_torch: bool, quick: bool, separate: bool = True, threads: int = 2
) -> dict:
    """Timings of one workload, plus the GEMM ceiling for the MLP training rows.

    Interleaved in this process, or (``separate``) in alternating subprocesses.
    """
    if separate:
        timings = _separate_timings(
            workload, ["chainrule"] + (["torch"] if with_torch else []), threads, quick
        )
    else:
        candidates = {"chainrule": _maker(workload, "chainrule")}
        if with_torch:
            candidates["torch"] = _maker(workload, "torch")
        if workload.flops:
            candidates["gemm"] = gemm_call(GEMM_N)
        rounds, per_round, warmup = _repeats(workload, quick)
        timings = interleaved(candidates, rounds=rounds, per_round=per_round, warmup=warmup)
    row = {
        "workload": workload.name,
        "notes": workload.notes,
        "unit": workload.unit,
        "target": workload.target,
        "timings": {k: v for k, v in timings.items() if k != "gemm"},
    }
    chainrule_s = timings["chainrule"]["median_s"]
    if "torch" in timings:
        row["ratio"] = timings["torch"]["median_s"] / chainrule_s
        row["met"] = None if workload.target is None else row["ratio"] >= workload.target
    samples = workload.samples
    if workload.module == "bench_fit":
        samples = importlib.import_module("benchmarks.bench_fit").samples_per_fit()
    elif workload.module == "bench_fashion":
        samples = importlib.import_module("benchmarks.bench_fashion").SAMPLES
    row["samples_per_call"] = samples
    row["chainrule_samples_per_s"] = samples / chainrule_s
    if workload.flops:
        flops = importlib.import_module("benchmarks.bench_mlp").mlp_flops_per_step()
        gemm_s = timings["gemm"]["median_s"]
        row["flops_per_step"] = flops
        row["gemm_gflops_same_rounds"] = 2 * GEMM_N**3 / gemm_s / 1e9
        row["chainrule_gflops"] = flops / chainrule_s / 1e9
        row["share_of_gemm_ceiling"] = row["chainrule_gflops"] / row["gemm_gflops_same_rounds"]
        # the same share from the fastest call of each: robust when other processes share the cores
        row["share_of_gemm_ceiling_best"] = (flops / timings["chainrule"]["min_s"]) / (
            2 * GEMM_N**3 / timings["gemm"]["min_s"]
        )
        row["gemm_timings"] = timings["gemm"]
    return row


# ------------------------------------------------------------------- memory
def _probe(name: str, side: str, threads: int) -> None:
    """Child process: build one workload for one library, run it a few times, print its peak RSS."""
    workload = next(w for w in WORKLOADS if w.name == name)
    limiter = _set_threads(threads, with_torch=side == "torch")
    baseline = peak_rss_mb()
    call = _maker(workload, side)
    for _ in range(3 if workload.unit == "ms" else 1):
        call()
    print(json.dumps({"baseline_rss_mb": baseline, "peak_rss_mb": peak_rss_mb()}))
    del limiter


def _probe_time(name: str, side: str, threads: int, calls: int, warmup: int) -> None:
    """Child process (the default, separate mode): time ``calls`` calls of one library's workload.

    For the MLP training rows the chainrule child then times as many 512³ GEMMs, the ceiling, in a
    block of their own: steps run back to back as in training, and the GEMM's large operands do not
    evict the model from the caches between two steps (the in-process mode's rounds do the same)."""
    workload = next(w for w in WORKLOADS if w.name == name)
    limiter = _set_threads(threads, with_torch=side == "torch")
    call = _maker(workload, side)
    gemm = gemm_call(GEMM_N) if workload.flops and side == "chainrule" else None
    for _ in range(warmup):
        call()
    times, cpu_times = [], []
    for _ in range(calls):
        start, start_cpu = time.perf_counter(), time.process_time()
        call()
        times.append(time.perf_counter() - start)
        cpu_times.append(time.process_time() - start_cpu)
    gemm_times = time_call(gemm, calls) if gemm is not None else []
    print(json.dumps({"times": times, "cpu_times": cpu_times, "gemm_times": gemm_times}))
    del limiter


def measure_memory(workload: Workload, sides, threads: int) -> dict:
    result = {}
    root = HERE.parent
    env = _child_env()
    for side in sides:
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "benchmarks.run",
                "--probe-memory",
                workload.name,
                side,
                "--threads",
                str(threads),
            ],
            cwd=root,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        if proc.returncode != 0:
            result[side] = {
                "error": proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else "failed"
            }
            continue
        result[side] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


# ------------------------------------------------------------------ reports
def _fmt_time(timing: dict, unit: str) -> str:
    scale = 1e3 if unit == "ms" else 1.0
    digits = 2 if unit == "ms" else 3
    return (
        f"{timing['median_s'] * scale:.{digits}f} "
        f"({timing['min_s'] * scale:.{digits}f}–{timing['max_s'] * scale:.{digits}f})"
    )


def _rss(memory: dict, side: str) -> str:
    m = memory.get(side)
    return f"{m['peak_rss_mb']:.0f}" if m and "peak_rss_mb" in m else "–"


def markdown(report: dict) -> str:
    env = report["environment"]
    blas = report["blas"]
    blas_line = (
        "; ".join(
            f"{b.get('internal_api')} {b.get('version')} "
            f"({b.get('architecture')}, {b.get('num_threads')} threads)"
            for b in blas
            if "internal_api" in b
        )
        or "unknown"
    )
    ceiling = report["gemm_ceiling"]
    lines = [
        (
            f"Run {report['started']} · Python {env['python']} · NumPy {env['numpy']} · "
            f"PyTorch {env.get('torch', 'not installed')} · {report['threads']} threads · "
            f"{env['cpu_count']} CPUs"
        ),
        "",
        (
            f"BLAS: {blas_line}. OPENBLAS_CORETYPE={env.get('OPENBLAS_CORETYPE')}, "
            f"OPENBLAS_L2_SIZE={env.get('OPENBLAS_L2_SIZE')}"
            + (
                "."
                if report.get("separate")
                else f", OMP_WAIT_POLICY={env.get('OMP_WAIT_POLICY')}."
            )
        ),
        "",
        (
            "Method: "
            + (
                "each library in its own subprocess per round, alternating, default threading."
                if report.get("separate")
                else "both libraries in one process, alternating rounds, OMP_WAIT_POLICY=PASSIVE."
            )
        ),
        "",
        (
            f"GEMM ceiling (NumPy float32 {GEMM_N}³): {ceiling['best_gflops']:.0f} GFLOP/s best, "
            f"{ceiling['median_gflops']:.0f} GFLOP/s median."
        ),
        "",
        (
            "| workload | chainrule, median (min–max) | PyTorch, median (min–max) | ratio "
            "| target | "
            "% of GEMM ceiling (median / best) | peak RSS chainrule / PyTorch (MiB) |"
        ),
        "|---|---|---|---|---|---|---|",
    ]
    for row in report["rows"]:
        if "error" in row:
            lines.append(f"| {row['workload']} | error: {row['error']} | | | | | |")
            continue
        if "skipped" in row:
            lines.append(f"| {row['workload']} | skipped: {row['skipped']} | | | | | |")
            continue
        unit = row["unit"]
        t = row["timings"]
        torch_cell = _fmt_time(t["torch"], unit) + f" {unit}" if "torch" in t else "–"
        ratio = f"{row['ratio']:.2f}" if "ratio" in row else "–"
        if row.get("met") is not None:
            ratio += " ✓" if row["met"] else " ✗"
        target = f"≥ {row['target']:.1f}" if row["target"] is not None else "–"
        share = (
            f"{100 * row['share_of_gemm_ceiling']:.0f}% / "
            f"{100 * row['share_of_gemm_ceiling_best']:.0f}%"
            if "share_of_gemm_ceiling" in row
            else ""
        )
        memory = row.get("memory", {})
        lines.append(
            f"| {row['workload']} | {_fmt_time(t['chainrule'], unit)} {unit} | {torch_cell} "
            f"| {ratio} | "
            f"{target} | {share} | {_rss(memory, 'chainrule')} / {_rss(memory, 'torch')} |"
        )
    lines += [
        "",
        (
            "ratio = PyTorch time / chainrule time (chainrule's throughput relative to PyTorch's; "
            "above 1 is faster). % of GEMM ceiling = GFLOP/s of the step's matrix products over "
            "the "
            f"{GEMM_N}³ GEMM's, from the medians (and from the fastest calls), the GEMM timed in "
            "the same processes or rounds as the step; the target is 60%."
        ),
    ]
    return "\n".join(lines) + "\n"


def print_row(row: dict) -> None:
    if "error" in row:
        print(f"{row['workload']:22s} error: {row['error']}")
        return
    if "skipped" in row:
        print(f"{row['workload']:22s} skipped: {row['skipped']}")
        return
    unit, t = row["unit"], row["timings"]
    line = f"{row['workload']:22s} chainrule {_fmt_time(t['chainrule'], unit)} {unit}"
    if "torch" in t:
        line += f" | torch {_fmt_time(t['torch'], unit)} {unit} | ratio {row['ratio']:.2f}"
        if row.get("target") is not None:
            line += f" (target ≥ {row['target']:.1f}: {'met' if row['met'] else 'MISSED'})"
    if "share_of_gemm_ceiling" in row:
        line += (
            f" | {row['chainrule_gflops']:.0f} GFLOP/s = {100 * row['share_of_gemm_ceiling']:.0f}% "
            f"of GEMM {row['gemm_gflops_same_rounds']:.0f} (best calls: "
            f"{100 * row['share_of_gemm_ceiling_best']:.0f}%)"
        )
    print(line, flush=True)


# --------------------------------------------------------------------- main
def run(
    only=None,
    quick: bool = False,
    threads: int = 2,
    memory: bool = True,
    use_torch: bool = True,
    out: str | os.PathLike | None = None,
    verbose: bool = True,
    separate: bool = True,
) -> dict:
    """Run the selected workloads; write latest.json and latest.md to ``out``; return the report."""
    with_torch = use_torch and torch_available()
    limiter = _set_threads(threads, with_torch)
    try:
        gemm = interleaved({"gemm": gemm_call(GEMM_N)}, rounds=3, per_round=5 if quick else 20)[
            "gemm"
        ]
        report = {
            "started": time.strftime("%Y-%m-%d %H:%M:%S"),
            "threads": threads,
            "quick": quick,
            "separate": separate,
            "machine": platform.machine(),
            "environment": environment(),
            "blas": blas_info(),
            "gemm_ceiling": {
                "n": GEMM_N,
                "best_gflops": 2 * GEMM_N**3 / gemm["min_s"] / 1e9,
                "median_gflops": 2 * GEMM_N**3 / gemm["median_s"] / 1e9,
            },
            "rows": [],
        }
        if verbose:
            blas = "; ".join(
                f"{b.get('internal_api')} {b.get('architecture')}" for b in report["blas"]
            )
            print(
                f"BLAS {blas}, {threads} threads, "
                f"PyTorch {'on' if with_torch else 'not installed/off'}; "
                f"GEMM {GEMM_N}³: {report['gemm_ceiling']['best_gflops']:.0f} GFLOP/s best, "
                f"{report['gemm_ceiling']['median_gflops']:.0f} median",
                flush=True,
            )
        for workload in _select(only):
            reason = skip_reason(workload)
            if reason is not None:
                row = {"workload": workload.name, "skipped": reason}
                report["rows"].append(row)
                if verbose:
                    print_row(row)
                continue
            try:
                row = time_workload(workload, with_torch, quick, separate, threads)
            # noqa: BLE001 - a workload that fails is reported, the rest still run
            except Exception as error:
                row = {"workload": workload.name, "error": f"{type(error).__name__}: {error}"}
            if memory and "error" not in row and "skipped" not in row:
                row["memory"] = measure_memory(
                    workload, ["chainrule"] + (["torch"] if with_torch else []), threads
                )
            report["rows"].append(row)
            if verbose:
                print_row(row)
    finally:
        if limiter is not None:
            limiter.restore_original_limits()
    if out is not None:
        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        (out / "latest.json").write_text(json.dumps(report, indent=2))
        (out / "latest.md").write_text(markdown(report))
        if verbose:
            print(f"wrote {out / 'latest.json'} and {out / 'latest.md'}")
    return report


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument(
        "--quick", action="store_true", help="fewer repeats (a smoke run; noisier figures)"
    )
    parser.add_argument(
        "--only",
        action="append",
        metavar="NAME",
        help="run the workloads whose name contains NAME (repeatable): "
        + ", ".join(w.name for w in WORKLOADS),
    )
    parser.add_argument(
        "--out",
        default=str(HERE / "results"),
        metavar="DIR",
        help="folder for latest.json and latest.md (default: benchmarks/results)",
    )
    parser.add_argument(
        "--threads", type=int, default=2, help="BLAS and PyTorch threads (default 2)"
    )
    parser.add_argument("--no-memory", action="store_true", help="skip the peak-RSS subprocesses")
    parser.add_argument(
        "--no-torch",
        action="store_true",
        help="chainrule figures only, even if PyTorch is installed",
    )
    parser.add_argument(
        "--in-process",
        action="store_true",
        help="time both libraries in this process with OMP_WAIT_POLICY=PASSIVE (quicker; the "
        "setting slows PyTorch, so ratios favour chainrule) instead of alternating one "
        "subprocess per library and round with default threading",
    )
    parser.add_argument(
        "--separate", action="store_true", help=argparse.SUPPRESS
    )  # the default now
    parser.add_argument(
        "--probe-memory", nargs=2, metavar=("WORKLOAD", "SIDE"), help=argparse.SUPPRESS
    )
    parser.add_argument(
        "--probe-time", nargs=2, metavar=("WORKLOAD", "SIDE"), help=argparse.SUPPRESS
    )
    parser.add_argument("--calls", type=int, default=10, help=argparse.SUPPRESS)
    parser.add_argument("--warmup", type=int, default=3, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.probe_time:
        _probe_time(args.probe_time[0], args.probe_time[1], args.threads, args.calls, args.warmup)
        return 0
    if args.probe_memory:
        _probe(args.probe_memory[0], args.probe_memory[1], args.threads)
        return 0
    run(
        only=args.only,
        quick=args.quick,
        threads=args.threads,
        memory=not args.no_memory,
        use_torch=not args.no_torch,
        out=args.out,
        separate=not args.in_process,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
