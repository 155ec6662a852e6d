"""The print desk and live preview: over HTTP, and driven in headless Chromium.

One desk (two worker processes) serves the whole module, on a copy of the shipped
library with a few additions: a scaffold topic, a topic past review (the UK clinic
refuses those), a reviewed Spanish translation, a broken topic and a small booklet.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from io import BytesIO
from pathlib import Path

import pytest

from tests.conftest import ROOT, pdftext

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
HAVE_BROWSER = os.path.exists(CHROMIUM) and bool(
    __import__("importlib").util.find_spec("playwright"))
if not HAVE_BROWSER and (os.environ.get("CI") or os.environ.get("WITH_BROWSER") == "1"):
    raise RuntimeError("CI must install chromium and playwright for the browser tests")
if HAVE_BROWSER:
    from playwright.sync_api import expect, sync_playwright

ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]
# axe-core from npm, installed by scripts/test-deps.sh (make setup)
AXE = Path(os.environ.get("HANDOUTS_AXE") or
           ROOT / ".test-deps" / "node_modules" / "axe-core" / "axe.min.js")


def _prepare(lib: Path) -> None:
    """The shipped library, plus what the desk must and must not offer."""
    from handouts.library import Library
    from handouts.scaffold import new_topic

    new_topic(Library(lib), "hip-care", None)   # still holds the scaffold's text
    checklist = (lib / "content" / "injection-care-checklist.md").read_text()
    (lib / "content" / "old-checklist.md").write_text(
        checklist.replace("title: Bone injection care checklist", "title: Old checklist")
        .replace("last_reviewed: 2026-11-23", "last_reviewed: 2023-01-10")
        .replace("next_review: 2029-11-23", "next_review: 2024-01-10"))
    (lib / "content" / "broken-topic.md").write_text(
        checklist.replace("last_reviewed: 2026-11-23", "last_reviewed: 2026-02-30"))
    spanish = lib / "content" / "bone-protecting-injections.es.md"
    spanish.write_text(re.sub(r"(adapted_from: .*\n)", r"\1translation_reviewed_by: Test "
                              r"translator\n", spanish.read_text(), count=1))
    uk = lib / "clinics" / "riverside-oncology" / "clinic.toml"
    uk.write_text(re.sub(r'(paper = "a4".*\n)', r"\1refuse_overdue = true\n", uk.read_text(),
                         count=1))
    for name in ("checklist-pack", "held-pack"):
        (lib / "booklets" / f"{name}.toml").write_text(
            'title = "Checklist pack"\naudience = "For the test"\n'
            'topics = ["injection-care-checklist"]\n')


def _start(tmp: Path, *serve_options: str, global_options=(), prepare=_prepare):
    """`handouts serve` on a copy of the shipped library: (process, url, lib)."""
    lib = tmp / "lib"
    for kind in ("content", "clinics", "booklets"):
        shutil.copytree(ROOT / kind, lib / kind)
    if prepare:
        prepare(lib)
    log_path = tmp / "serve.log"
    env = {**os.environ, "HANDOUTS_CACHE": str(tmp / "cache"),
           "HANDOUTS_TEST_HOLD_BOOKLET": str(tmp / "hold")}
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "handouts", "--library", str(lib), *global_options,
             "serve", "--port", "0", "--audit-log", str(tmp / "audit.jsonl"),
             *serve_options],
            stdout=log, stderr=log, env=env)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        found = re.search(r"print desk at (http://\S+/)", log_path.read_text())
        if found:
            return process, found.group(1), lib
        if process.poll() is not None:
            break
        time.sleep(0.1)
    process.kill()
    raise RuntimeError(log_path.read_text())


def _stop(process) -> None:
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture(scope="module")
def desk(tmp_path_factory):
    """One print desk with two workers for the module: (url, lib, its folder)."""
    tmp = tmp_path_factory.mktemp("desk")
    process, url, lib = _start(tmp, "--workers", "2", "--allow-host", "Print-Desk.example",
                               prepare=_prepare)
    yield url, lib, tmp
    _stop(process)


def _get(url: str, method: str = "GET", **headers):
    """(status, body, headers) of a request, errors included."""
    request = urllib.request.Request(url, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            return response.status, response.read(), response.headers
    except urllib.error.HTTPError as error:
        with error:
            return error.code, error.read(), error.headers


def _audit(tmp: Path) -> list[dict]:
    path = tmp / "audit.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() \
        else []


def test_the_desk_offers_only_what_is_fit_to_hand_out(desk):
    url, _, _ = desk
    status, page, _ = _get(url + "?clinic=riverside-oncology")
    page = page.decode()
    assert status == 200 and 'data-topic="injection-care-checklist"' in page
    assert 'data-topic="hip-care"' not in page          # the scaffold's text
    assert 'data-topic="old-checklist"' not in page     # overdue, and the clinic refuses
    assert "broken-topic.md" in page and 'class="error"' in page   # reported, not offered
    assert 'data-booklet="checklist-pack"' in page and "thumb.png?booklet=checklist-pack" in page
    assert "/preview?booklet=checklist-pack" in page
    # the paper follows the clinic; the language picker offers the reviewed Spanish only
    assert "The clinic's paper (A4)" in page
    assert '<option value="es" lang="es">Español</option>' in page
    assert 'value="zh-Hans"' not in page and 'value="ar"' not in page
    spanish = ("/pdf?topic=bone-protecting-injections&amp;clinic=riverside-oncology"
               "&amp;variant=standard&amp;lang=es")
    assert f'<a href="{spanish}" download>' in page   # "Also in:" on the card
    _, page, _ = _get(url + "?clinic=lakeside-spine")
    assert b'data-topic="old-checklist"' in page and b"The clinic's paper (Letter)" in page
    _, page, _ = _get(url + "?clinic=riverside-oncology&lang=es")
    assert re.findall(rb'data-topic="([^"]+)"', page) == [b"bone-protecting-injections"]
    status, pdf, headers = _get(url + spanish[1:].replace("&amp;", "&"))
    assert status == 200 and "bone-protecting-injections-a4-es.pdf" in headers[
        "Content-Disposition"]
    status, body, _ = _get(url + "pdf?topic=hip-care&clinic=riverside-oncology")
    assert status == 422 and b"not offered at the print desk" in body and b"scaffold" in body
    status, body, _ = _get(url + "pdf?topic=old-checklist&clinic=riverside-oncology",
                           Accept="text/html")
    assert status == 422 and b"overdue" in body and b"<!DOCTYPE html>" in body
    assert _get(url + "preview?topic=hip-care&clinic=riverside-oncology")[0] == 200
    status, png, headers = _get(url + "thumb.png?booklet=checklist-pack&clinic=lakeside-spine")
    assert status == 200 and png.startswith(b"\x89PNG") and headers["Content-Type"] == "image/png"


def test_a_foreign_host_is_refused_and_each_pdf_served_is_logged(desk):
    url, _, tmp = desk
    port = url.rsplit(":", 1)[1].strip("/")
    assert _get(url, Host="attacker.example")[0] == 403          # DNS rebinding
    assert _get(url + "healthz", Host=f"localhost:{port}")[0] == 200
    assert _get(url + "healthz", Host=f"print-desk.example:{port}")[0] == 200   # --allow-host
    assert _get(url + "healthz", Host="print-desk.example.attacker.example")[0] == 403
    assert _get(url, method="POST")[0] == 405                    # nothing changes anything
    target = url + "healthz"
    assert _get(target, **{"Sec-Fetch-Site": "same-origin"})[0] == 200
    assert _get(target, Referer=url)[0] == 200
    assert _get(target, **{"Sec-Fetch-Site": "cross-site"})[0] == 403   # <img> elsewhere
    assert _get(target, Origin="http://evil.example")[0] == 403
    assert _get(target, Referer="http://evil.example/page")[0] == 403
    status, body, _ = _get(url + "pdf?topic=../../etc/passwd&clinic=lakeside-spine")
    assert status == 422 and b"unknown topic" in body

    before = len(_audit(tmp))
    bookmark = url + "pdf?topic=injection-care-checklist&clinic=lakeside-spine&paper=letter" \
                     "&variant=standard"   # today's URLs keep working
    status, pdf, headers = _get(bookmark)
    assert status == 200 and pdf.startswith(b"%PDF-")
    assert 'filename="injection-care-checklist-letter.pdf"' in headers["Content-Disposition"]
    status, again, headers = _get(bookmark)
    assert again == pdf and headers["X-Handouts-Cache"] == "hit"
    status, empty, headers = _get(bookmark, method="HEAD")
    assert status == 200 and empty == b"" and int(headers["Content-Length"]) == len(pdf)
    lines = _audit(tmp)[before:]
    assert len(lines) == 2   # one per PDF served; HEAD hands nothing out
    entry = lines[0]
    assert entry["topics"] == [{"topic": "injection-care-checklist", "version": "2.0",
                                "edition": "en-US"}]
    assert (entry["clinic"], entry["paper"], entry["variant"], entry["language"]) == (
        "lakeside-spine", "letter", "standard", "en-US")
    assert entry["sha256"] == hashlib.sha256(pdf).hexdigest() and entry["time"]
    assert [line["cached"] for line in lines] == [False, True]


def test_connections_past_the_cap_are_told_to_come_back(desk):
    url, _, _ = desk
    host, port = url.split("//")[1].strip("/").rsplit(":", 1)
    idle = [socket.create_connection((host, int(port))) for _ in range(32)]
    try:
        status, body, headers = _get(url + "healthz")
        assert status == 503   # a short answer, not one more held open
        assert headers["Retry-After"] == "2" and b"try again" in body
    finally:
        for connection in idle:
            connection.close()
    deadline = time.monotonic() + 30
    while _get(url + "healthz")[0] != 200 and time.monotonic() < deadline:
        time.sleep(0.1)   # the server notices the closed connections
    assert _get(url + "healthz")[0] == 200


def test_downloads_never_wait_behind_a_booklet(desk):
    """Two workers: while one makes a booklet, a cached leaflet and an uncached one are
    both served; the booklet is held until they have arrived (no timing involved)."""
    url, _, tmp = desk
    cached = url + "pdf?topic=injection-care-checklist&clinic=lakeside-spine&paper=letter"
    assert _get(cached)[0] == 200   # made once: from now on, from the cache
    hold = tmp / "hold"
    hold.write_text("held-pack")   # the worker holds this booklet while the file is there
    booklet: list = []
    asking = threading.Thread(target=lambda: booklet.append(_get(
        url + "pdf?booklet=held-pack&clinic=riverside-oncology&paper=a5")))
    asking.start()
    try:
        started = Path(f"{hold}.started")
        deadline = time.monotonic() + 120
        while not started.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert started.exists(), "the booklet never reached a worker"
        status, _, headers = _get(cached)
        assert status == 200 and headers["X-Handouts-Cache"] == "hit"
        status, pdf, headers = _get(url + "pdf?topic=injection-care-checklist"
                                          "&clinic=lakeside-spine&paper=a4&variant=large")
        assert status == 200 and headers["X-Handouts-Cache"] == "miss"
        assert "injection-care-checklist-a4-large.pdf" in headers["Content-Disposition"]
        assert not booklet and asking.is_alive()   # still being made: both came first
    finally:
        hold.unlink()
        asking.join(timeout=120)
    status, pdf, headers = booklet[0]
    assert status == 200 and "booklet-held-pack-a5.pdf" in headers["Content-Disposition"]


def test_a_worker_that_dies_fails_its_request_and_the_desk_goes_on(desk):
    url, _, tmp = desk
    hold, started = tmp / "hold", tmp / "hold.started"
    started.unlink(missing_ok=True)
    hold.write_text("held-pack")
    answer: list = []
    asking = threading.Thread(target=lambda: answer.append(_get(
        url + "pdf?booklet=held-pack&clinic=lakeside-spine")))
    asking.start()
    try:
        deadline = time.monotonic() + 120
        while not (started.exists() and started.read_text()) and time.monotonic() < deadline:
            time.sleep(0.05)
        os.kill(int(started.read_text()), 9)   # the worker the desk started for the booklet
        asking.join(timeout=60)
    finally:
        hold.unlink()
    status, body, _ = answer[0]
    assert status == 422 and b"worker process making this document stopped" in body
    status, pdf, _ = _get(url + "pdf?topic=injection-care-checklist&clinic=riverside-oncology"
                                "&paper=letter")
    assert status == 200 and pdf.startswith(b"%PDF-")


@pytest.fixture(scope="module")
def browser():
    if not HAVE_BROWSER:
        pytest.skip("needs Debian's chromium and the playwright package")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def axe():
    if not AXE.is_file():
        if os.environ.get("CI") or os.environ.get("WITH_BROWSER") == "1":
            raise RuntimeError(f"CI must install axe-core ({AXE}): scripts/test-deps.sh")
        pytest.skip("needs axe-core from npm: bash scripts/test-deps.sh")
    return AXE


def _violations(page, axe_path: Path) -> list[dict]:
    """What axe-core finds on the page (WCAG 2.x A and AA and best practice)."""
    page.add_script_tag(path=str(axe_path))
    return page.evaluate("""async () => {
        const result = await axe.run(document, {resultTypes: ['violations']});
        return result.violations.map(v => ({id: v.id, help: v.help,
            nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}));
    }""")


def _tab_to(page, name: str, limit: int = 80) -> None:
    """Press Tab until the focused element's text (a field's id) is `name`."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        focused = page.evaluate("""() => { const e = document.activeElement;
            return ['SELECT', 'INPUT'].includes(e.tagName) ? e.id :
                (e.textContent || '').replace(/\\s+/g, ' ').trim(); }""")
        if focused == name:
            return
    raise AssertionError(f"Tab never reached {name!r}")


def _no_thumbnails(context) -> None:
    """Stand-in thumbnails: each would make a document (test_the_desk_offers... asks
    for real ones), and the suite shares two cores."""
    png = ("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAA"
           "AABJRU5ErkJggg==")
    context.route("**/thumb.png?**", lambda route: route.fulfill(
        status=200, content_type="image/png", body=__import__("base64").b64decode(png)))


def test_the_desk_by_keyboard_gives_the_uk_clinic_an_a4_pdf(desk, browser, axe, tmp_path):
    from pypdf import PdfReader

    url, _, _ = desk
    context = browser.new_context(bypass_csp=True, accept_downloads=True)   # to add axe
    _no_thumbnails(context)
    page = context.new_page()
    page.goto(url, wait_until="domcontentloaded")
    assert _violations(page, axe) == []
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to the leaflets"
    _tab_to(page, "clinic")
    page.keyboard.press("ArrowDown")   # Lakeside -> Riverside: the page must not reload
    assert page.eval_on_selector("#clinic", "e => e.value") == "riverside-oncology"
    assert "clinic=" not in page.url
    _tab_to(page, "Show leaflets")
    with page.expect_navigation(wait_until="domcontentloaded"):
        page.keyboard.press("Enter")
    assert "clinic=riverside-oncology" in page.url
    expect(page.locator("#paper")).to_have_value("")   # the clinic's paper: A4
    assert _violations(page, axe) == []
    _tab_to(page, "Download PDF: Bone injection care checklist")
    with page.expect_download(timeout=60_000) as info:
        page.keyboard.press("Enter")
    assert info.value.suggested_filename == "injection-care-checklist-a4.pdf"
    target = tmp_path / "desk.pdf"
    info.value.save_as(target)
    width, height = (float(v) for v in PdfReader(BytesIO(target.read_bytes())).pages[0]
                     .mediabox[2:])
    assert (round(width), round(height)) == (595, 842)   # A4, not the first clinic's Letter
    assert "Riverside" in " ".join(pdftext(target).split())
    card = page.locator('[data-topic="injection-care-checklist"]')   # its count came too
    expect(card.locator(".page-count")).to_have_text("1 page", timeout=60_000)

    phone = browser.new_context(viewport={"width": 390, "height": 844})
    _no_thumbnails(phone)
    phone = phone.new_page()
    phone.goto(url + "?clinic=riverside-oncology", wait_until="domcontentloaded")
    boxes = [phone.locator(".card").nth(n).bounding_box() for n in range(2)]
    assert boxes[0]["x"] == boxes[1]["x"] and boxes[0]["width"] > 300   # one column
    phone.context.close()

    page.goto(url + "preview?topic=injection-care-checklist&clinic=riverside-oncology")
    expect(page.locator("#pages img").first).to_have_attribute(
        "alt", re.compile("Bone injection care checklist"), timeout=60_000)
    assert _violations(page, axe) == []
    context.close()


def test_live_preview_follows_edits_and_survives_errors(desk, browser):
    url, lib, _ = desk
    page = browser.new_page()
    page.goto(url + "preview?topic=injection-care-checklist&clinic=riverside-oncology")
    first = page.locator("#pages img").first
    expect(first).to_have_attribute("alt", re.compile("Before you start"), timeout=60_000)
    topic = lib / "content" / "injection-care-checklist.md"
    original = topic.read_text()
    try:
        topic.write_text(original.replace("## Before you start", "## Zebra crossing"))
        expect(first).to_have_attribute("alt", re.compile("Zebra crossing"), timeout=30_000)
        topic.write_text(original.replace("pages: 1", "pages: [broken"))
        error = page.locator("#error")
        expect(error).to_be_visible(timeout=30_000)
        expect(error).to_contain_text("injection-care-checklist.md")
        expect(error).to_contain_text("not valid YAML")
    finally:
        topic.write_text(original)
    expect(page.locator("#error")).to_be_hidden(timeout=30_000)
    expect(first).to_have_attribute("alt", re.compile("Before you start"), timeout=30_000)
    page.close()


def test_a_render_over_the_time_limit_is_an_error_and_the_desk_lives(tmp_path):
    """The limit holds in every worker process."""
    process, url, _ = _start(tmp_path, global_options=("--time-limit", "0.05"), prepare=None)
    try:
        status, body, _ = _get(url + "pdf?topic=bone-metastases&clinic=lakeside-spine")
        assert status == 422 and b"longer than 0.05 s" in body
        assert _get(url + "healthz")[:2] == (200, b"ok")
    finally:
        _stop(process)


def test_a_busy_port_is_a_usage_error(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run([sys.executable, "-m", "handouts", "serve", "--port",
                                 str(port)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2, result.stderr
    assert f"port {port}" in result.stderr and "already in use" in result.stderr
    assert "bug" not in result.stderr


def test_page_images_are_safe_from_many_threads(library, renderer):
    """PDFium is not thread-safe; page images may be made from several threads."""
    from concurrent.futures import ThreadPoolExecutor

    from handouts.images import pdf_to_pngs
    from handouts.pipeline import Job, produce

    pdf = produce(Job("leaflet", "lakeside-spine", ("injection-care-checklist",)), library,
                  renderer).pdf
    with ThreadPoolExecutor(4) as pool:
        images = list(pool.map(lambda _: pdf_to_pngs(pdf, dpi=40)[0], range(8)))
    assert len(set(images)) == 1 and images[0].startswith(b"\x89PNG")


def test_an_edition_without_the_clinics_own_wording_is_not_offered(make_library):
    """A clinic that words the fever threshold its own way (37.5 °C, local policy) in
    English only is not offered its other editions at the desk: they would print the
    library's 38 °C. Worded in Spanish too, the Spanish edition is offered."""
    import datetime as dt

    from handouts.editions import load_edition, load_terms
    from handouts.load import load_clinic
    from handouts.serve import unfit_reasons

    lib = make_library(clinics=["riverside-oncology"])
    toml = lib.clinic_folder("riverside-oncology") / "clinic.toml"
    original = toml.read_text()

    def reasons(language: str) -> set[str]:
        profile = load_clinic(lib.clinic_folder("riverside-oncology"), lib)
        topic, edition = load_edition(lib, "injection-care-checklist", language,
                                      load_terms(lib))
        return {p.code for p in unfit_reasons(topic, edition, profile, dt.date(2027, 1, 1))}

    toml.write_text(original.replace("[colours]", '[terms]\nfever_threshold = "37.5 °C"\n\n'
                                                  "[colours]"))
    assert "clinic-term-language" in reasons("es")
    assert "clinic-term-language" not in reasons("en-GB")
    toml.write_text(original.replace("[colours]", '[terms.fever_threshold]\n'
                                                  'en-GB = "37.5 °C"\nes = "37,5 °C"\n\n'
                                                  "[colours]"))
    assert "clinic-term-language" not in reasons("es")


def test_a_desk_page_lists_the_library_once_and_the_next_sees_new_files(make_library):
    """A page looks up every topic's editions: the content folder is listed once for it
    (630 listings made a page of 105 topics take 2.5 s), and a topic or edition added
    since is on the next page."""
    from handouts.serve import Desk
    from tests.conftest import topic_text

    lib = make_library({"alpha": topic_text("Short and clear text.", title="Alpha")})
    desk = Desk(lib.root)
    listings = []
    real = os.listdir

    def counted(folder):
        listings.append(Path(folder))
        return real(folder)

    def page() -> dict:
        listings.clear()
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(os, "listdir", counted)
            return desk.offers({"clinic": "riverside-oncology"})

    first = page()
    assert "alpha" in {offer.slug for offer in first["leaflets"]}
    assert len(listings) == len(set(listings)), listings   # each folder once a page
    assert lib.root / "content" in listings
    (lib.root / "content" / "beta.md").write_text(topic_text("More clear text.",
                                                             title="Beta"))
    second = page()
    assert {"alpha", "beta"} <= {offer.slug for offer in second["leaflets"]}
    assert len(listings) == len(set(listings))
    assert lib.topics()["beta"] == lib.root / "content" / "beta.md"   # outside a page too
