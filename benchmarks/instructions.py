"""Instructions a leaflet costs: a measure of speed that does not drift with the machine.

    python benchmarks/instructions.py               # 4 cold + 8 warm leaflets (~5 min)
    python benchmarks/instructions.py --warm 4      # quicker, a little less steady

The clock on a shared VM moved by up to 50% within minutes while handouts was being
made faster, more than most single changes save. Counted instructions do not: the
same code gives the same count to a few parts in ten thousand. So each speed change is
judged here before `make bench` times it.

Runs the batch's own leaflets (benchmarks/run.py's library: copies of the demo clinics
x `bone-protecting-injections` and `bone-metastases`, A4, the layout memo written as a
build would) in one process, as a batch worker makes them, under valgrind (Debian:
`apt-get install valgrind`): once with the cold leaflets only, once with the warm ones
after them. It reports

- cold: the whole process for the first `--cold` leaflets, import and set-up included
  (what one `handouts build` pays, and each worker of a batch once);
- warm: the instructions of each leaflet after those, the difference of the two runs
  divided by `--warm` (what a batch pays per leaflet).

Not a test and not run by `make bench` (valgrind makes Python 50 times slower). Needs
valgrind; prints the figures and writes them to benchmarks/results/instructions.json.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def leaflets(work: Path, count: int) -> None:
    """The measured process: `count` of the batch's leaflets, one after another."""
    sys.path.insert(0, str(ROOT))
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from run import TOPICS

    from handouts.library import Library
    from handouts.pipeline import Job, produce
    from handouts.render import Renderer

    library = Library(work / "lib")
    renderer = Renderer(library.asset_roots())
    clinics = sorted(library.clinics())
    for index in range(count):
        topic = TOPICS[index % len(TOPICS)]
        produce(Job("leaflet", clinics[index // len(TOPICS)], (topic,), "a4"), library,
                renderer, reuse=False)


def prepare(work: Path, count: int) -> None:
    """The library and its layout memos (benchmarks/run.py makes the same ones)."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from run import TOPICS, composed_html, make_library

    lib, names = make_library(work, count + len(TOPICS))
    composed_html(lib, work / "html", names, TOPICS)


def counted(work: Path, count: int, env: dict) -> int:
    """Instructions of one whole process making `count` leaflets (valgrind's count)."""
    out = work / f"cachegrind.{count}"
    subprocess.run(["valgrind", "--tool=cachegrind", "--cache-sim=no",
                    f"--cachegrind-out-file={out}", sys.executable, __file__, "--inner",
                    str(count), "--work", str(work)],
                   check=True, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    found = re.search(r"^summary:\s+(\d+)", out.read_text(), re.MULTILINE)
    if not found:
        raise SystemExit(f"no instruction count in {out}")
    return int(found.group(1))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cold", type=int, default=4, help="leaflets in the first run")
    parser.add_argument("--warm", type=int, default=8, help="leaflets after them")
    parser.add_argument("--inner", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--work", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.inner is not None:
        leaflets(args.work, args.inner)
        return 0
    if not shutil.which("valgrind"):
        print("valgrind is not installed (apt-get install valgrind)", file=sys.stderr)
        return 2
    work = Path(tempfile.mkdtemp(prefix="handouts-instructions-"))
    # Its own cache (layout memos written by prepare, no document from a cache), and a
    # day's time limit: under valgrind a leaflet takes tens of seconds. Bytecode
    # compiled first, or each counted process would count compiling handouts too.
    env = {**os.environ, "HANDOUTS_CACHE": str(work / "cache"), "HANDOUTS_TIME_LIMIT": "86400"}
    import compileall
    compileall.compile_dir(ROOT / "handouts", quiet=1)
    os.environ.update({"HANDOUTS_CACHE": env["HANDOUTS_CACHE"]})
    try:
        prepare(work, args.cold + args.warm)
        cold = counted(work, args.cold, env)
        both = counted(work, args.cold + args.warm, env)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                            capture_output=True, text=True).stdout.strip() or None
    results = {"commit": commit, "cold_leaflets": args.cold, "warm_leaflets": args.warm,
               "cold_instructions": cold,
               "warm_instructions_per_leaflet": (both - cold) / args.warm}
    target = ROOT / "benchmarks" / "results"
    target.mkdir(exist_ok=True)
    (target / "instructions.json").write_text(json.dumps(results, indent=2))
    print(f"cold: {cold / 1e9:.2f} G instructions for {args.cold} leaflets "
          f"(import and set-up included)")
    print(f"warm: {results['warm_instructions_per_leaflet'] / 1e9:.3f} G instructions "
          f"a leaflet ({args.warm} leaflets)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
