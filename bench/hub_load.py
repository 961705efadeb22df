"""Benchmark (not a test): N workers at once on a real district server (issue #14).

Starts a throw-away hub (shequ.hub.scratch: its own state, OS accounts, ports), logs N
workers in concurrently, starts their servers, fetches, answers and submits the quiz, then
the trainer collects and grades. Prints spawn and submit times (median, max), memory per
idle server and per kernel, whether each submission arrived and was graded exactly once,
and what those figures mean for 350 workers (an extrapolation on paper, labelled as such).
Needs root (each server runs as its worker's own OS account).

    sudo .venv/bin/python bench/hub_load.py [--workers 30]
"""
from __future__ import annotations

import argparse
import math
import statistics
import sys
import tempfile
from pathlib import Path


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workers", type=int, default=30)
    args = ap.parse_args()
    from shequ.hub import load, scratch

    root = Path(tempfile.mkdtemp(prefix="shequ-hub-bench-"))
    with scratch.ScratchHub(root, workers=args.workers, trainers=1) as hub:
        hub.build().start()
        res = load.run(hub)
    print("\n".join(res.lines()))
    server, kernel = statistics.median(res.server_rss_mb), res.kernel_rss_mb
    n = 350
    print(f"\nextrapolated on paper for {n} concurrent workers (not measured):")
    print(f"  idle servers: {n} x {server:.0f} MB = {n * server / 1024:.1f} GB; "
          f"with one kernel each: {n * (server + kernel) / 1024:.1f} GB")
    per_core = args.workers / max(1e-9, max(res.spawn_s)) * 1.0
    print(f"  spawning {n} at once at the measured rate ({args.workers} in {max(res.spawn_s):.0f} s on 2 cores): "
          f"~{math.ceil(n / per_core)} s; pre-start servers before an exam")
    ok = all(v == 1 for v in res.arrived.values()) and all(v == 1 for v in res.graded.values())
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
