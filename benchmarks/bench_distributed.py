"""Data-parallel scaling on this machine: 1 and N ranks, compute and Allreduce per step.

    python -m benchmarks.bench_distributed            # MLP and CNN presets, 1 and 2 ranks
    python -m benchmarks.bench_distributed --ranks 1,2,4 --steps 40

For each preset (mlp on 784 inputs with a global batch of 256, cnn on 1×28×28
with 64) it runs ``--steps`` training steps (after warm-up) of the same global
batch in several configurations, each in its own ``mpiexec`` job:

- 1 process with every core as BLAS threads (what a user gets without MPI);
- 1 process with 1 BLAS thread;
- N ranks of 1 BLAS thread each.

Per configuration it reports the time of one global step, its split into
compute (forward, backward, optimizer) and the gradient Allreduce (which also
counts waiting for the slowest rank), the Allreduce of the same buffer alone
(after a barrier: the pure communication cost), and the efficiency
T₁/(N·T_N) against both single-process baselines. The table goes to stdout
and to ``benchmarks/results/distributed.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

PRESETS = {
    "mlp": {"input_shape": (784,), "batch": 256},
    "cnn": {"input_shape": (1, 28, 28), "batch": 64},
}


def worker(preset: str, steps: int) -> None:
    """One rank: time ``steps`` DataParallel steps of ``preset``; rank 0 prints a RESULT line."""
    import numpy as np

    from chainrule import optim, presets
    from chainrule.distributed import DataParallel
    from chainrule.train.losses import get_loss
    from chainrule.train.step import train_step

    spec = PRESETS[preset]
    strategy = DataParallel()
    rng = np.random.default_rng(0)
    batch = spec["batch"]
    X = rng.normal(size=(batch,) + spec["input_shape"]).astype(np.float32)
    y = rng.integers(0, 10, size=batch)
    model = presets.build_preset(preset, spec["input_shape"], 10,
                                 image_shape=spec["input_shape"] if preset == "cnn" else None)
    optimizer = optim.Adam(model.parameters(), lr=1e-3)
    strategy.setup(model, optimizer)
    loss = get_loss("cross_entropy")
    params = [p for p in model.parameters() if p.requires_grad]
    xb, yb = strategy.shard((X, y))

    def step():
        train_step(model, xb, yb, loss=loss, optimizer=optimizer, strategy=strategy,
                   parameters=params, global_size=batch)

    for _ in range(3):
        step()
    strategy.barrier()
    strategy.timings.update(allreduce=0.0, steps=0)
    started = time.perf_counter()
    for _ in range(steps):
        step()
    elapsed = (time.perf_counter() - started) / steps
    allreduce = strategy.timings["allreduce"] / steps
    buffer = np.zeros(sum(p.data.size for p in params) + len(params), dtype=np.float32)
    pure = []
    for _ in range(10):
        strategy.barrier()
        started = time.perf_counter()
        strategy.comm.allreduce_sum(buffer)
        pure.append(time.perf_counter() - started)
    strategy.teardown()
    if strategy.is_main:
        print("RESULT " + json.dumps({
            "step_s": elapsed, "allreduce_s": allreduce, "compute_s": elapsed - allreduce,
            "pure_allreduce_s": float(np.median(pure)), "gradient_mb": buffer.nbytes / 2**20,
        }), flush=True)


def run_config(preset, ranks, threads, steps) -> dict:
    from chainrule.distributed.launch import find_mpiexec

    env = dict(os.environ, OMP_NUM_THREADS=str(threads), OPENBLAS_NUM_THREADS=str(threads),
               MKL_NUM_THREADS=str(threads))
    command = [find_mpiexec(), "-n", str(ranks), sys.executable, "-m", "mpi4py", "-m",
               "benchmarks.bench_distributed", "--worker", preset, "--steps", str(steps)]
    finished = subprocess.run(command, capture_output=True, text=True, env=env, timeout=600,
                              check=False)
    for line in finished.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[len("RESULT "):])
    raise RuntimeError(f"bench_distributed: {preset} on {ranks} ranks failed:\n"
                       f"{finished.stdout}\n{finished.stderr}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ranks", default="1,2", help="comma-separated rank counts (default 1,2)")
    parser.add_argument("--steps", type=int, default=30, help="timed steps per configuration")
    parser.add_argument("--presets", default="mlp,cnn")
    parser.add_argument("--out", default=os.path.join("benchmarks", "results", "distributed.md"))
    parser.add_argument("--worker", metavar="PRESET", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        worker(args.worker, args.steps)
        return 0
    cores = len(os.sched_getaffinity(0))
    counts = sorted({int(n) for n in args.ranks.split(",") if int(n) > 1})
    rows = []
    for preset in args.presets.split(","):
        all_threads = run_config(preset, 1, cores, args.steps)
        one_thread = run_config(preset, 1, 1, args.steps)
        configs = [(f"1 process, {cores} BLAS threads", 1, all_threads),
                   ("1 process, 1 BLAS thread", 1, one_thread)]
        configs += [(f"{n} ranks × 1 BLAS thread", n, run_config(preset, n, 1, args.steps))
                    for n in counts]
        for label, ranks, result in configs:
            rows.append({
                "preset": preset, "config": label, "ranks": ranks, **result,
                "efficiency_vs_all_threads": all_threads["step_s"] / (ranks * result["step_s"]),
                "efficiency_vs_one_thread": one_thread["step_s"] / (ranks * result["step_s"]),
            })
    lines = [
        f"Data-parallel steps on this machine ({cores} cores, {time.strftime('%Y-%m-%d')}; "
        f"`python -m benchmarks.bench_distributed --ranks {args.ranks} --steps {args.steps}`). "
        "Times are per global step (median over the timed steps' mean); efficiency is "
        "T₁/(N·T_N).", "",
        "| preset | configuration | step ms | compute ms | Allreduce ms (incl. wait) | "
        "Allreduce alone ms | gradient MB | eff. vs 1 proc all threads | eff. vs 1 proc 1 thread |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        lines.append(
            f"| {row['preset']} | {row['config']} | {row['step_s'] * 1e3:.2f} | "
            f"{row['compute_s'] * 1e3:.2f} | {row['allreduce_s'] * 1e3:.3f} | "
            f"{row['pure_allreduce_s'] * 1e3:.3f} | {row['gradient_mb']:.2f} | "
            f"{row['efficiency_vs_all_threads']:.2f} | {row['efficiency_vs_one_thread']:.2f} |")
    table = "\n".join(lines)
    print(table)
    os.makedirs(os.path.dirname(args.out) or ".", exist_ok=True)
    with open(args.out, "w", encoding="utf-8") as handle:
        handle.write(table + "\n")
    with open(os.path.splitext(args.out)[0] + ".json", "w", encoding="utf-8") as handle:
        json.dump(rows, handle, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
