"""chainrule.backend.erf (NumPy only) against scipy.special.erf, side by side in one run.

The exact GELU needs erf. chainrule computes it with NumPy alone (a positive series below
|x| = 3, erfc's continued fraction above), so the core does not depend on SciPy; this measures
what that costs, as CPU time (best of ``--repeats``) and as a ratio, and its worst relative error
against ``math.erf``.

Run: ``python -m benchmarks.bench_erf`` (needs SciPy for the reference column).
"""

from __future__ import annotations

import argparse
import math
import time

from chainrule.backend import erf, host


def best_cpu_seconds(function, x, repeats: int) -> float:
    best = math.inf
    for _ in range(repeats):
        start = time.process_time()
        function(x)
        best = min(best, time.process_time() - start)
    return best


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    try:
        from scipy.special import erf as scipy_erf
    except ImportError:
        scipy_erf = None
    rng = host.random.default_rng(0)
    print("| elements | chainrule (ms) | SciPy (ms) | ratio |")
    print("|---:|---:|---:|---:|")
    for n in (4096, 262_144, 1_048_576):
        x = rng.normal(scale=2.0, size=n)
        ours = best_cpu_seconds(erf, x, args.repeats)
        if scipy_erf is None:
            print(f"| {n} | {ours * 1e3:.2f} | - | - |")
            continue
        theirs = best_cpu_seconds(scipy_erf, x, args.repeats)
        print(f"| {n} | {ours * 1e3:.2f} | {theirs * 1e3:.2f} | {ours / theirs:.1f} |")
    x = host.linspace(-7, 7, 200_001)
    reference = host.array([math.erf(v) for v in x])
    worst = host.max(host.abs(erf(x) - reference) / host.maximum(host.abs(reference), 1e-300))
    print(f"\nworst relative error against math.erf on [-7, 7]: {worst:.2e}")


if __name__ == "__main__":
    main()
