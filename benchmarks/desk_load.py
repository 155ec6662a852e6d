"""Print desk under load: many nurses at once on cached and uncached leaflets.

    python benchmarks/desk_load.py                 # 20 clients, 5 requests each
    python benchmarks/desk_load.py --clients 40 --requests 10 --workers 4

Starts `handouts serve` on a copy of the shipped library with an empty cache, then
lets CLIENTS threads ask at once, each for REQUESTS PDFs: half for one leaflet every
client wants (after the first, from the cache), half for leaflets nobody asked for
before (a render each, shared by whoever asks for the same one at the same time).
Reports requests served, errors and the p50/p95 latency of each kind. Bounded: at
most CLIENTS x REQUESTS requests, and the uncached ones come from a list of 16
documents. Not a test: nothing asserts a timing.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CACHED = "pdf?topic=injection-care-checklist&clinic=riverside-oncology"
# Leaflets no one has asked for: topic x clinic x paper x variant (16 documents).
UNCACHED = [f"pdf?topic={topic}&clinic={clinic}&paper={paper}&variant={variant}"
            for topic in ("injection-care-checklist", "bone-protecting-injections")
            for clinic in ("riverside-oncology", "lakeside-spine")
            for paper in ("a4", "letter") for variant in ("standard", "large")]


def start(work: Path, workers: int) -> tuple[subprocess.Popen, str]:
    """`handouts serve` on a copy of the shipped library, with an empty cache."""
    lib = work / "lib"
    for kind in ("content", "clinics", "booklets"):
        shutil.copytree(ROOT / kind, lib / kind)
    log_path = work / "serve.log"
    env = {**os.environ, "HANDOUTS_CACHE": str(work / "cache")}
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "handouts", "--library", str(lib), "serve", "--port", "0",
             "--workers", str(workers), "--audit-log", str(work / "audit.jsonl")],
            stdout=log, stderr=log, env=env)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        found = re.search(r"print desk at (http://\S+/)", log_path.read_text())
        if found:
            return process, found.group(1)
        if process.poll() is not None:
            break
        time.sleep(0.1)
    process.kill()
    raise SystemExit(f"the desk did not start:\n{log_path.read_text()}")


def fetch(url: str) -> tuple[bool, float]:
    """(served, seconds) of one PDF request."""
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(url, timeout=300) as response:
            ok = response.status == 200 and response.read(5) == b"%PDF-"
    except (urllib.error.URLError, OSError):
        ok = False
    return ok, time.perf_counter() - started


def percentile(values: list[float], share: float) -> float | None:
    """The value below which `share` of `values` lie (nearest rank)."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


def measure(clients: int = 20, requests: int = 5, workers: int = 2) -> dict:
    """Run the load and return the figures (see the module's docstring)."""
    work = Path(tempfile.mkdtemp(prefix="handouts-desk-load-"))
    process, url = start(work, workers)
    timings: dict[str, list[tuple[bool, float]]] = {"cached": [], "uncached": []}
    lock = threading.Lock()
    gate = threading.Barrier(clients)

    def client(number: int) -> None:
        gate.wait()   # every client starts at once
        for index in range(requests):
            kind = "cached" if (number + index) % 2 == 0 else "uncached"
            path = CACHED if kind == "cached" else UNCACHED[(number * requests + index)
                                                            % len(UNCACHED)]
            result = fetch(url + path)
            with lock:
                timings[kind].append(result)

    try:
        fetch(url + CACHED)   # made once: the cached requests find it
        started = time.perf_counter()
        threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        wall = time.perf_counter() - started
    finally:
        process.terminate()
        process.wait(timeout=60)
        shutil.rmtree(work, ignore_errors=True)
    result = {"clients": clients, "requests_per_client": requests, "workers": workers,
              "wall_s": round(wall, 2)}
    for kind, samples in timings.items():
        seconds = [s for ok, s in samples if ok]
        result[kind] = {"served": len(seconds), "errors": len(samples) - len(seconds),
                        "p50_s": round(statistics.median(seconds), 3) if seconds else None,
                        "p95_s": round(percentile(seconds, 0.95), 3) if seconds else None}
    return result


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=20, help="clients at once (20)")
    parser.add_argument("--requests", type=int, default=5, help="PDFs each client asks for")
    parser.add_argument("--workers", type=int, default=2, help="the desk's --workers")
    args = parser.parse_args(argv)
    result = measure(args.clients, args.requests, args.workers)
    print(json.dumps(result, indent=2))
    return 1 if result["cached"]["errors"] or result["uncached"]["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
