"""Benchmark: parse each filled Commission communication template and compute its SEE.

    .venv/bin/python bench/template_read.py [FOLDER]

FOLDER defaults to ../shared/cbam-reference-data/communication-template-examples. Prints, per
file, the best of three wall-clock and CPU times for read_template() and for read + SEE
computation. Target: under 2 s per template.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from emissions.see import calculate_installation  # noqa: E402
from emissions.template import read_template, to_see_inputs  # noqa: E402

DEFAULT_FOLDER = ROOT.parent / "shared" / "cbam-reference-data" / "communication-template-examples"


def best_of(n: int, func) -> tuple[float, float]:
    best_wall = best_cpu = float("inf")
    for _ in range(n):
        wall, cpu = time.perf_counter(), time.process_time()
        func()
        best_wall = min(best_wall, time.perf_counter() - wall)
        best_cpu = min(best_cpu, time.process_time() - cpu)
    return best_wall, best_cpu


def main() -> int:
    folder = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_FOLDER
    files = sorted(folder.glob("*.xlsx"))
    if not files:
        print(f"No .xlsx files in {folder}")
        return 1
    print(f"{'file':<60} {'size':>8} {'read wall':>10} {'read cpu':>9} {'+SEE wall':>10}")
    worst = 0.0
    for path in files:
        read_wall, read_cpu = best_of(3, lambda p=path: read_template(p))
        full_wall, _ = best_of(3, lambda p=path: calculate_installation(to_see_inputs(read_template(p))))
        worst = max(worst, full_wall)
        print(f"{path.name[:60]:<60} {path.stat().st_size / 1e6:>6.2f}MB {read_wall:>9.3f}s {read_cpu:>8.3f}s {full_wall:>9.3f}s")
    print(f"slowest read + SEE: {worst:.3f} s (target < 2 s): {'OK' if worst < 2 else 'TOO SLOW'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
