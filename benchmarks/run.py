"""Benchmarks: handouts against what users would otherwise run, as ratios in one run.

    python benchmarks/run.py            # full: medians of 5 runs (3 for the long sums)
    python benchmarks/run.py --small    # a quick check that every benchmark still works

Every figure is the median of several runs of a whole process, measured on this
machine in this run; ratios compare two such medians. Results go to
benchmarks/results/latest.json and a markdown table on stdout. Not a test: nothing
here asserts a timing.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
HANDOUTS = [str(BIN / "handouts")] if (BIN / "handouts").exists() else [sys.executable, "-m",
                                                                       "handouts"]
WEASYPRINT = [str(BIN / "weasyprint")] if (BIN / "weasyprint").exists() else [
    sys.executable, "-m", "weasyprint"]
TOPIC = "bone-protecting-injections"   # after the first run, the layout memo lays it out once
CLINIC = "riverside-oncology"


def timed(command: list[str], cwd: Path | None = None, env: dict | None = None) -> float:
    """Seconds for one whole process; fails loudly if the command fails."""
    started = time.perf_counter()
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True,
                            env={**os.environ, **(env or {})})
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"benchmark command failed: {' '.join(command)}\n{result.stderr}")
    return elapsed


def median_of(runs: int, action, before=None) -> tuple[float, list[float]]:
    """Median seconds of `runs` calls of action() (before() runs untimed first)."""
    samples = []
    for _ in range(runs):
        if before:
            before()
        samples.append(action())
    return statistics.median(samples), samples


TOPICS = ["bone-protecting-injections", "bone-metastases"]


def make_library(work: Path, leaflets: int) -> tuple[Path, list[str]]:
    """A library of `leaflets` jobs: copies of the demo clinics x two topics."""
    lib = work / "lib"
    if lib.exists():
        shutil.rmtree(lib)
    (lib / "content").mkdir(parents=True)
    shutil.copytree(ROOT / "content" / "images", lib / "content" / "images")
    topics = TOPICS
    for slug in topics:
        shutil.copy(ROOT / "content" / f"{slug}.md", lib / "content")
    names = [f"clinic-{index:03d}" for index in range(max(1, leaflets // len(topics)))]
    for index, name in enumerate(names):
        source = ROOT / "clinics" / ("riverside-oncology" if index % 2 else "lakeside-spine")
        shutil.copytree(source, lib / "clinics" / name)
        # Each copy its own name and numbers (fictional ranges, the same lengths), as
        # real clinics differ: no document is byte-identical to another, and only the
        # topics' own text is the same from clinic to clinic.
        profile = lib / "clinics" / name / "clinic.toml"
        text = profile.read_text()
        for old, new in [('Centre"', f'Centre {index:03d}"'), ('Center"', f'Center {index:03d}"'),
                         ("0321", f"0{index:03d}"), ("0999", f"09{index % 100:02d}"),
                         ("010-2400", f"010-2{index:03d}"),
                         ("010-2499", f"010-3{index:03d}")]:
            text = text.replace(old, new, 1)
        profile.write_text(text)
    # Named clinics only: the bundled demo clinics are layered under every library.
    (lib / "handouts.toml").write_text(
        f'output = "output"\nclinics = {json.dumps(names)}\ntopics = {json.dumps(topics)}\n'
        'papers = ["a4"]\n')
    return lib, names


def composed_html(lib: Path, out: Path, clinics: list[str], topics: list[str]) -> list[Path]:
    """The HTML handouts renders for each leaflet job (at the spacing step that fits),
    as standalone files, so the other tools render exactly the same document.

    The clinics are copies of two (make_library) that differ only in their names and
    numbers (of the same lengths), so each topic fits at the same step for every copy
    of one: that step is found by laying out the first copy, and the
    other copies are composed at it, with the layout memo written as a build would
    (the timed batches then lay out each document once, from their first run on)."""
    sys.path.insert(0, str(ROOT))
    from handouts import cache
    from handouts.compose import compose_leaflet, standalone_html
    from handouts.editions import load_edition
    from handouts.library import Library
    from handouts.load import load_clinic
    from handouts.pipeline import Job, _layout_key, produce
    from handouts.render import Renderer

    library = Library(lib)
    renderer = Renderer(library.asset_roots())
    out.mkdir(parents=True, exist_ok=True)
    steps: dict[tuple[int, str], int] = {}
    files = []
    for index, clinic in enumerate(clinics):
        profile = load_clinic(library.clinic_folder(clinic), library)
        language = profile.clinic.language
        for slug in topics:
            if (index % 2, slug) not in steps:
                output = produce(Job("leaflet", clinic, (slug,), "a4"), library, renderer,
                                 reuse=False)   # the composed HTML is wanted
                steps[index % 2, slug] = output.step
                composed = output.composed
            else:
                topic, _ = load_edition(library, slug, language, region=language,
                                        overrides=profile.clinic.terms)
                step = steps[index % 2, slug]
                first = compose_leaflet(library, topic, profile, "a4", "standard", 0,
                                        language=language)
                composed = first if step == 0 else compose_leaflet(
                    library, topic, profile, "a4", "standard", step, language=language)
                if step:
                    cache.write("layout", _layout_key(first, renderer.version),
                                str(step).encode())
            target = out / f"{clinic}-{slug}.html"
            target.write_text(standalone_html(composed))
            files.append(target)
    return files


def rss_mb() -> float:
    """This process's resident memory in MB."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def memory_benchmark(renders: int) -> dict:
    """RSS of one warm Renderer (as a batch worker) across many renders."""
    sys.path.insert(0, str(ROOT))
    from handouts.library import Library
    from handouts.pipeline import Job, produce
    from handouts.render import Renderer

    library = Library(ROOT)
    renderer = Renderer(library.asset_roots())
    clinics = list(library.clinics())
    samples = {}
    for index in range(1, renders + 1):
        produce(Job("leaflet", clinics[index % 2], (TOPIC,), "a4"), library, renderer,
                reuse=False)
        if index in (10, 50) or index % 100 == 0 or index == renders:
            samples[index] = round(rss_mb(), 1)
    baseline = samples[50] if renders >= 100 else samples[10]
    growth = (samples[renders] - baseline) / baseline
    return {"renders": renders, "rss_mb": samples, "baseline_at": 50 if renders >= 100 else 10,
            "growth": round(growth, 3)}


class Chromium:
    """A warm headless Chromium printing files through DevTools (Playwright), kept open
    across the rounds of section 2 so that each round times it beside the batches.
    `print_all(files)` returns the seconds one pass took; None when Chromium or
    Playwright is not installed."""

    def __init__(self, files: list[Path]):
        self.files, self._playwright, self._browser, self.page = files, None, None, None

    def __enter__(self):
        chromium = shutil.which("chromium") or shutil.which("chromium-browser")
        try:
            from playwright.sync_api import sync_playwright
        except ImportError:
            return self
        if not chromium:
            return self
        self._playwright = sync_playwright().start()
        self._browser = self._playwright.chromium.launch(
            executable_path=chromium, headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run",
                  "--allow-file-access-from-files"])
        self.page = self._browser.new_page()
        self.out = self.files[0].parent / "chromium"
        self.out.mkdir(exist_ok=True)
        self.page.goto(self.files[0].as_uri())  # warm up
        self.page.pdf(path=str(self.out / "warm.pdf"), prefer_css_page_size=True)
        return self

    def print_all(self) -> float | None:
        if self.page is None:
            return None
        started = time.perf_counter()
        for file in self.files:
            self.page.goto(file.as_uri())
            self.page.pdf(path=str(self.out / f"{file.stem}.pdf"), prefer_css_page_size=True)
        return time.perf_counter() - started

    def __exit__(self, *exc):
        if self._browser is not None:
            self._browser.close()
            self._playwright.stop()


def impose_benchmark(runs: int) -> dict:
    """Seconds to impose the shipped A5 booklet (reading order -> saddle-stitch sheets),
    in process, beyond its render; and the imposed file's size against the booklet's."""
    from handouts.finish import impose
    from handouts.library import Library
    from handouts.pipeline import Job, produce

    output = produce(Job("booklet", CLINIC, (), "a5", "standard", booklet="bone-health-in-cancer"),
                     Library(ROOT), reuse=False)

    def once():
        started = time.perf_counter()
        impose(output.pdf, "a4")
        return time.perf_counter() - started

    seconds = median_of(runs, once)[0]
    sheets = impose(output.pdf, "a4")
    return {"pages": output.pages, "impose_s": seconds, "booklet_kb": len(output.pdf) // 1024,
            "imposed_kb": len(sheets) // 1024, "size_ratio": len(sheets) / len(output.pdf)}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="quick run: fewer documents "
                        "and runs, to see the benchmarks still work")
    parser.add_argument("--runs", type=int, help="runs per measurement (default 5; 2 small)")
    args = parser.parse_args(argv)
    runs = args.runs or (2 if args.small else 5)
    # The slowest figures are sums over 100 processes or documents already (their
    # run-to-run spread was under 2%): a median of 3 of those (Chromium's too), and the
    # separate weasyprint calls timed on every ninth file (12 of 100: each clinic kind x
    # topic three times, as the files cycle with period 4) and scaled to 100, keep
    # `make bench` within 15 minutes (a full sum of every call, three times, took 8 of
    # a run's 30 minutes).
    heavy = min(runs, 3)
    stride = 1 if args.small else 9
    begun = time.perf_counter()
    # An installed package has its bytecode compiled; an editable one under
    # PYTHONDONTWRITEBYTECODE would recompile handouts in every process timed.
    import compileall
    compileall.compile_dir(ROOT / "handouts", quiet=1)
    leaflets = 10 if args.small else 100
    renders = 60 if args.small else 500
    work = Path(tempfile.mkdtemp(prefix="handouts-bench-"))
    # Its own cache root: the layout memo stays warm between runs (as on a clinic's
    # machine), while made documents are forgotten before each timed run, so every
    # figure below is a real render, never a document taken from the output cache.
    os.environ["HANDOUTS_CACHE"] = str(work / "cache")

    def forget():
        shutil.rmtree(work / "cache" / "pdf", ignore_errors=True)

    last = [time.perf_counter()]

    def mark(section: str) -> None:
        """Minutes this section took (where `make bench` spends its time)."""
        now = time.perf_counter()
        results.setdefault("minutes", {})[section] = round((now - last[0]) / 60, 2)
        last[0] = now

    results: dict = {"machine": {"python": platform.python_version(), "cpus": os.cpu_count(),
                                 "platform": platform.platform()},
                     "runs": runs, "leaflets": leaflets}
    try:
        # 1. One topic, whole process: handouts build vs weasyprint on the composed HTML.
        lib, names = make_library(work, 2)
        [html] = composed_html(lib, work / "html1", names[:1], [TOPIC])
        out = work / "single"
        build = median_of(runs, lambda: timed(HANDOUTS + ["--library", str(lib), "-q", "build",
                                                          TOPIC, "-c", names[0], "-o", str(out)]),
                          before=forget)
        # The same document and the same kind of PDF: handouts writes tagged PDF/UA-1.
        tagged = median_of(runs, lambda: timed(WEASYPRINT + [
            "--pdf-variant", "pdf/ua-1", str(html), str(out / "wp.pdf")]))
        plain = median_of(runs, lambda: timed(WEASYPRINT + [str(html), str(out / "wp.pdf")]))
        results["single"] = {"handouts_build_s": build[0], "weasyprint_cli_s": tagged[0],
                             "weasyprint_cli_untagged_s": plain[0],
                             "ratio": build[0] / tagged[0]}
        print(f"single topic: handouts {build[0]:.2f}s, weasyprint {tagged[0]:.2f}s "
              f"(untagged {plain[0]:.2f}s)", flush=True)
        mark("1 one topic")

        # 2. Many leaflets.
        lib, names = make_library(work, leaflets)
        files = composed_html(lib, work / "html", names, TOPICS)
        mark("2 composing the 100 leaflets' HTML")
        output = lib / "output"
        def clear():
            shutil.rmtree(output, ignore_errors=True)
            forget()

        cli_out = work / "cli"
        cli_out.mkdir(exist_ok=True)

        sample = files[::stride]   # the files cycle with a period (4) coprime to the stride

        def separate():
            started = time.perf_counter()
            for file in sample:
                timed(WEASYPRINT + ["--pdf-variant", "pdf/ua-1", str(file),
                                    str(cli_out / f"{file.stem}.pdf")])
            return (time.perf_counter() - started) * len(files) / len(sample)

        def batch(jobs: int) -> float:
            clear()
            return timed(HANDOUTS + ["--library", str(lib), "-q", "batch", "--jobs", str(jobs)])

        # Side by side: each round times the four ways one after another, so that a
        # ratio compares figures taken within a minute or two of each other (this VM's
        # speed drifts by tens of percent over minutes; rounds apart, it is the drift
        # the ratios would measure).
        rounds: dict[str, list] = {"batch2": [], "batch1": [], "chromium": [], "separate": []}
        with Chromium(files) as chromium:
            for _ in range(heavy):
                rounds["batch2"].append(batch(2))
                rounds["chromium"].append(chromium.print_all())
                rounds["batch1"].append(batch(1))
                rounds["separate"].append(separate())
        # The last batch of the last round built everything: nothing to do now.
        noop = median_of(runs, lambda: timed(HANDOUTS + ["--library", str(lib), "-q", "batch"]))
        batch2 = statistics.median(rounds["batch2"]), rounds["batch2"]
        batch1 = statistics.median(rounds["batch1"]), rounds["batch1"]
        separate_s = statistics.median(rounds["separate"]), rounds["separate"]
        chromium_s = (statistics.median(rounds["chromium"])
                      if None not in rounds["chromium"] else None)
        results["batch"] = {
            "documents": len(files), "separate_sampled": len(sample),
            "batch_jobs2_s": batch2[0], "batch_jobs1_s": batch1[0],
            "separate_weasyprint_s": separate_s[0], "chromium_warm_s": chromium_s,
            "speedup_vs_separate": separate_s[0] / batch2[0],
            "jobs2_vs_jobs1": batch1[0] / batch2[0],
            "vs_chromium": (chromium_s / batch2[0]) if chromium_s else None,
            "rounds": rounds,
            "noop_rebuild_s": noop[0]}
        print(f"{len(files)} leaflets: batch -j2 {batch2[0]:.1f}s, -j1 {batch1[0]:.1f}s, "
              f"separate weasyprint {separate_s[0]:.1f}s, chromium {chromium_s}, "
              f"no-op {noop[0]:.2f}s", flush=True)
        mark("2-3 batches, separate calls, Chromium, no-op")

        # 4. Worker memory.
        results["memory"] = memory_benchmark(renders)
        print(f"memory: {results['memory']}", flush=True)
        mark("4 memory")

        # 5. Start-up of commands that do not render.
        results["startup"] = {
            "help_s": median_of(max(runs, 5), lambda: timed(HANDOUTS + ["--help"]))[0],
            "list_s": median_of(max(runs, 5), lambda: timed(HANDOUTS + ["--library", str(ROOT),
                                                                        "list"]))[0]}
        # 6. The print desk under load (benchmarks/desk_load.py): its own empty cache.
        from desk_load import measure as desk_load

        results["desk"] = desk_load(clients=20, requests=2 if args.small else 5)
        print(f"print desk: {results['desk']}", flush=True)
        mark("5-6 start-up, desk")

        # 7. `handouts check` of the shipped library, whole process: cold (empty cache)
        # and after `make demo`-like builds of the same documents (warm).
        check_cache = work / "check-cache"

        reference: list[float] = []

        def check_cold():
            shutil.rmtree(check_cache, ignore_errors=True)
            # The target is in seconds, not a ratio: beside each cold check, the one-topic
            # `weasyprint` call of section 1 again shows how fast the machine is just then.
            reference.append(timed(WEASYPRINT + ["--pdf-variant", "pdf/ua-1", str(html),
                                                 str(out / "wp.pdf")]))

        def check_run():
            return timed(HANDOUTS + ["--library", str(ROOT), "-q", "check"],
                         env={"HANDOUTS_CACHE": str(check_cache)})

        cold = median_of(heavy, check_run, before=check_cold)
        warm = median_of(runs, check_run)
        results["check"] = {"cold_s": cold[0], "warm_s": warm[0], "cpus": os.cpu_count(),
                            "cold_runs": cold[1],
                            "reference_weasyprint_s": statistics.median(reference),
                            "reference_in_section_1_s": tagged[0]}
        print(f"check: cold {cold[0]:.1f}s, warm {warm[0]:.2f}s", flush=True)
        mark("7 check")

        # 8. Imposition of the shipped A5 booklet, beyond its render, and the file size.
        results["impose"] = impose_benchmark(runs)
        print(f"impose: {results['impose']}", flush=True)
        mark("8 impose")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    target = ROOT / "benchmarks" / "results"
    target.mkdir(exist_ok=True)
    name = "latest-small.json" if args.small else "latest.json"
    results["total_minutes"] = (time.perf_counter() - begun) / 60
    (target / name).write_text(json.dumps(results, indent=2))
    print(table(results))
    return 0


def table(r: dict) -> str:
    """The results as the markdown table in benchmarks/README.md."""
    b, s, m, u = r["batch"], r["single"], r["memory"], r["startup"]
    chromium = (f"{b['chromium_warm_s']:.1f} s; batch is {b['vs_chromium']:.2f}x as fast"
                if b["chromium_warm_s"] else "Chromium not installed")
    rows = [
        ("1. one topic, whole process: `handouts build` / `weasyprint --pdf-variant pdf/ua-1` "
         "on the composed HTML",
         f"{s['handouts_build_s']:.2f} s / {s['weasyprint_cli_s']:.2f} s = **{s['ratio']:.2f}x** "
         f"(untagged `weasyprint`: {s['weasyprint_cli_untagged_s']:.2f} s)", "<= 1.10x"),
        (f"2a. {b['documents']} leaflets: separate `weasyprint` calls / `handouts batch`",
         f"{b['separate_weasyprint_s']:.1f} s / {b['batch_jobs2_s']:.1f} s = "
         f"**{b['speedup_vs_separate']:.1f}x faster**", ">= 7x"),
        ("2b. `--jobs 1` / `--jobs 2`",
         f"{b['batch_jobs1_s']:.1f} s / {b['batch_jobs2_s']:.1f} s"
         f" = **{b['jobs2_vs_jobs1']:.2f}x**",
         ">= 1.7x"),
        ("2c. warm headless Chromium (DevTools) on the same HTML", chromium, "at least as fast"),
        (f"3. no-op rebuild of the {b['documents']}, whole process",
         f"**{b['noop_rebuild_s']:.2f} s**", "<= 0.5 s"),
        (f"4. worker memory across {m['renders']} renders",
         f"{m['rss_mb'][m['baseline_at']]} -> {m['rss_mb'][m['renders']]} MB, "
         f"**{m['growth'] * 100:+.1f}%**", "< 20%"),
        ("5. `handouts --help` / `handouts list`, whole process",
         f"**{u['help_s']:.2f} s / {u['list_s']:.2f} s**", "<= 0.25 s"),
    ]
    if "desk" in r:
        d = r["desk"]
        rows.append((
            f"6. print desk, {d['clients']} clients at once, {d['workers']} workers: "
            "cached / uncached leaflets",
            f"{d['cached']['served']} / {d['uncached']['served']} served, "
            f"{d['cached']['errors'] + d['uncached']['errors']} errors, p95 "
            f"**{d['cached']['p95_s']} s / {d['uncached']['p95_s']} s**",
            "no errors"))
    if "check" in r:
        c = r["check"]
        rows.append(("7. `handouts check` of the shipped library (every topic x clinic x paper "
                     "x variant, booklets, preflight), whole process: cold / warm",
                     f"**{c['cold_s']:.1f} s** / {c['warm_s']:.2f} s (the `weasyprint` call of "
                     f"row 1, timed beside: {c['reference_weasyprint_s']:.2f} s, "
                     f"{c['reference_in_section_1_s']:.2f} s in row 1)", "<= 15 s cold"))
    if "impose" in r:
        i = r["impose"]
        rows.append((f"8. imposing the {i['pages']}-page A5 booklet, beyond its render; "
                     "imposed size / booklet size",
                     f"**{i['impose_s']:.3f} s**; {i['imposed_kb']} KB / {i['booklet_kb']} KB = "
                     f"**{i['size_ratio']:.2f}x**", "<= 0.1 s; <= 1.3x"))
    lines = ["| benchmark | result (medians) | target |", "|---|---|---|"]
    lines += [f"| {a} | {b_} | {c} |" for a, b_, c in rows]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
