"""Before/after: one workload of the suite timed with two source trees, alternating subprocesses.

A fast path earns its place by this measurement: the same workload (a name from
``python -m benchmarks --help``) runs in alternating child processes (A B A B …), one
importing chainrule from ``--before``, the other from ``--after`` (each a ``src`` folder,
e.g. a ``git worktree`` of the old commit). Each child reports wall-clock and CPU seconds
per call (``time.process_time``, all threads); with one thread (``--threads 1``) the CPU
time is the figure least disturbed by other processes on a loaded machine. Reported:
medians (min–max) and after/before ratios (below 1: the change is faster).

    python -m benchmarks.bench_ab lstm_train_sgd --before /tmp/old/src --after src
    python -m benchmarks.bench_ab cnn_lenet_train_sgd --before A/src --after B/src --rounds 5

With ``--swap MODULE=FILE`` both versions run in ONE process instead, call by call
(A B A B …): FILE, the old version of the chainrule module MODULE, is loaded beside it
and its top-level functions and classes are swapped into MODULE for the "before" calls.
Alternating single calls cancels most of the drift of a loaded machine; reported are the
medians and the median of the per-pair ratios.

    python -m benchmarks.bench_ab lstm_train_sgd \
        --swap chainrule.functional.recurrent=/tmp/old/src/chainrule/functional/recurrent.py
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _child(src: str, workload: str, threads: int, calls: int, warmup: int) -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(Path(src).resolve()), str(HERE.parent)])
    env["CHAINRULE_BENCH_SEPARATE"] = "1"
    command = [
        sys.executable,
        "-m",
        "benchmarks.run",
        "--probe-time",
        workload,
        "chainrule",
        "--threads",
        str(threads),
        "--calls",
        str(calls),
        "--warmup",
        str(warmup),
    ]
    proc = subprocess.run(
        command, cwd=HERE.parent, env=env, capture_output=True, text=True, timeout=900, check=True
    )
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _summary(values: list[float]) -> dict:
    return {"median_s": statistics.median(values), "min_s": min(values), "max_s": max(values)}


def run(
    workload: str,
    before: str,
    after: str,
    rounds: int = 3,
    calls: int = 5,
    warmup: int = 2,
    threads: int = 1,
) -> dict:
    """{"before"|"after": {"wall": summary, "cpu": summary}, "ratio_wall", "ratio_cpu"}."""
    samples = {side: {"wall": [], "cpu": []} for side in ("before", "after")}
    for _ in range(rounds):
        for side, src in (("before", before), ("after", after)):
            result = _child(src, workload, threads, calls, warmup)
            samples[side]["wall"] += result["times"]
            samples[side]["cpu"] += result["cpu_times"]
    report = {side: {kind: _summary(v) for kind, v in s.items()} for side, s in samples.items()}
    for kind in ("wall", "cpu"):
        report[f"ratio_{kind}"] = (
            report["after"][kind]["median_s"] / report["before"][kind]["median_s"]
        )
    return report


def _module_globals(module) -> dict:
    return {
        name: obj
        for name, obj in vars(module).items()
        if getattr(obj, "__module__", None) == module.__name__
    }


def run_swapped(
    workload: str,
    module_name: str,
    before_file: str,
    pairs: int = 30,
    warmup: int = 2,
    threads: int = 1,
) -> dict:
    """Paired in-process A/B: ``before_file``'s definitions swapped into ``module_name``."""
    import importlib.util
    import time

    from benchmarks import run as suite

    module = importlib.import_module(module_name)
    package = module_name.rpartition(".")[0]
    spec = importlib.util.spec_from_file_location(f"{package}._bench_ab_before", before_file)
    old = importlib.util.module_from_spec(spec)
    old.__package__ = package
    spec.loader.exec_module(old)
    versions = {"after": _module_globals(module), "before": _module_globals(old)}
    for obj in versions["before"].values():  # classes defined there belong to MODULE now
        if isinstance(obj, type):
            obj.__module__ = module_name
    versions["before"] = {k: v for k, v in vars(old).items() if k in versions["before"]}
    limiter = suite._set_threads(threads, with_torch=False)
    spec_w = next(w for w in suite.WORKLOADS if w.name == workload)
    steps = {}
    try:
        for side in ("before", "after"):
            for name, obj in versions[side].items():
                setattr(module, name, obj)
            steps[side] = suite._maker(spec_w, "chainrule")
            for _ in range(warmup):
                steps[side]()
        samples = {"before": [], "after": []}
        for _ in range(pairs):
            for side in ("before", "after"):
                for name, obj in versions[side].items():
                    setattr(module, name, obj)
                start = time.perf_counter()
                steps[side]()
                samples[side].append(time.perf_counter() - start)
    finally:
        for name, obj in versions["after"].items():
            setattr(module, name, obj)
        if limiter is not None:
            limiter.restore_original_limits()
    report = {side: {"wall": _summary(v)} for side, v in samples.items()}
    ratios = [a / b for a, b in zip(samples["after"], samples["before"], strict=True)]
    report["ratio_wall"] = (
        report["after"]["wall"]["median_s"] / report["before"]["wall"]["median_s"]
    )
    report["pair_ratio"] = _summary(ratios)
    return report


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.bench_ab", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("workload", help="a workload name of the suite, e.g. lstm_train_sgd")
    parser.add_argument("--before", metavar="SRC", help="src folder of the old code")
    parser.add_argument("--after", metavar="SRC", help="src folder of the new code")
    parser.add_argument(
        "--swap",
        metavar="MODULE=FILE",
        help="in one process: FILE is the old version of chainrule module MODULE",
    )
    parser.add_argument("--pairs", type=int, default=30, help="--swap: A/B pairs (default 30)")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds (default 3)")
    parser.add_argument("--calls", type=int, default=5, help="timed calls per child (default 5)")
    parser.add_argument("--threads", type=int, default=1, help="BLAS threads (default 1)")
    args = parser.parse_args(argv)
    if args.swap:
        module_name, _, before_file = args.swap.partition("=")
        report = run_swapped(
            args.workload, module_name, before_file, args.pairs, threads=args.threads
        )
        for side in ("before", "after"):
            wall = report[side]["wall"]
            print(
                f"{side:6s} wall {wall['median_s'] * 1e3:8.2f} ms ({wall['min_s'] * 1e3:.2f}–"
                f"{wall['max_s'] * 1e3:.2f})"
            )
        pair = report["pair_ratio"]
        print(
            f"after/before: medians {report['ratio_wall']:.3f}, per pair {pair['median_s']:.3f}"
            f" ({pair['min_s']:.3f}–{pair['max_s']:.3f})"
        )
        return 0
    if not (args.before and args.after):
        parser.error("give --before and --after source folders, or --swap MODULE=FILE")
    report = run(
        args.workload, args.before, args.after, args.rounds, args.calls, threads=args.threads
    )
    for side in ("before", "after"):
        wall, cpu = report[side]["wall"], report[side]["cpu"]
        print(
            f"{side:6s} wall {wall['median_s'] * 1e3:8.2f} ms ({wall['min_s'] * 1e3:.2f}–"
            f"{wall['max_s'] * 1e3:.2f})  cpu {cpu['median_s'] * 1e3:8.2f} ms "
            f"({cpu['min_s'] * 1e3:.2f}–{cpu['max_s'] * 1e3:.2f})"
        )
    print(f"after/before: wall {report['ratio_wall']:.3f}, cpu {report['ratio_cpu']:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
