"""The print desk and live preview: over HTTP, and driven in headless Chromium."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from tests.conftest import ROOT, pdftext

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
HAVE_BROWSER = os.path.exists(CHROMIUM) and bool(
    __import__("importlib").util.find_spec("playwright"))
if not HAVE_BROWSER and os.environ.get("CI"):
    raise RuntimeError("CI must install chromium and playwright for the browser tests")
if HAVE_BROWSER:
    from playwright.sync_api import expect, sync_playwright

ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def server(tmp_path):
    """`handouts serve` on a copy of the shipped library."""
    yield from _serve(tmp_path)


def _serve(tmp_path, *options, prepare=None):
    lib = tmp_path / "lib"
    for kind in ("content", "clinics", "booklets"):
        shutil.copytree(ROOT / kind, lib / kind)
    if prepare:
        prepare(lib)
    port = _free_port()
    log = (tmp_path / "serve.log").open("w")
    process = subprocess.Popen([sys.executable, "-m", "handouts", "--library", str(lib),
                                *options, "serve", "--port", str(port)], stdout=log,
                               stderr=log)
    url = f"http://127.0.0.1:{port}/"
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(url + "healthz", timeout=2):
                break
        except OSError:
            time.sleep(0.2)
    else:
        process.kill()
        log.close()
        raise RuntimeError((tmp_path / "serve.log").read_text())
    yield url, lib
    process.terminate()
    process.wait(timeout=10)
    log.close()


@pytest.fixture
def browser():
    if not HAVE_BROWSER:
        pytest.skip("needs Debian's chromium and the playwright package")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield chromium
        chromium.close()


def test_print_desk_returns_the_clinics_pdf(server, browser, tmp_path):
    url, _ = server
    page = browser.new_page()
    page.goto(url)
    page.select_option("#clinic", "lakeside-spine")
    page.wait_for_url("**clinic=lakeside-spine**")
    card = page.locator('[data-topic="injection-care-checklist"]')
    expect(card).to_contain_text("Bone injection care checklist")
    expect(card.locator(".page-count")).to_have_text("1 page", timeout=60_000)
    with page.expect_download(timeout=60_000) as info:
        card.get_by_text("Download PDF").click()
    target = tmp_path / "desk.pdf"
    info.value.save_as(target)
    assert target.read_bytes().startswith(b"%PDF-")
    text = " ".join(pdftext(target).split())
    assert "Lakeside Spine & Pain Center" in text and "(555) 010-2499" in text
    with urllib.request.urlopen(url + "pdf?topic=injection-care-checklist&clinic="
                                "lakeside-spine&paper=letter&variant=standard",
                                timeout=30) as response:   # the card's own link
        assert response.read() == target.read_bytes()
        assert response.headers["X-Handouts-Cache"] == "hit"   # not rendered again


def test_live_preview_follows_edits_and_survives_errors(server, browser):
    url, lib = server
    page = browser.new_page()
    page.goto(url + "preview?topic=bone-protecting-injections&clinic=riverside-oncology")
    first = page.locator("#pages img").first
    expect(first).to_have_attribute("alt", __import__("re").compile("Bone-protecting"),
                                    timeout=60_000)
    topic = lib / "content" / "bone-protecting-injections.md"
    original = topic.read_text()
    topic.write_text(original.replace("## What are these injections?",
                                      "## What are these injections? Zebra crossing"))
    expect(first).to_have_attribute("alt", __import__("re").compile("Zebra crossing"),
                                    timeout=15_000)
    topic.write_text(original.replace("pages: 3", "pages: [broken"))
    error = page.locator("#error")
    expect(error).to_be_visible(timeout=15_000)
    expect(error).to_contain_text("bone-protecting-injections.md")
    expect(error).to_contain_text("not valid YAML")
    topic.write_text(original)
    expect(error).to_be_hidden(timeout=15_000)
    with urllib.request.urlopen(url + "healthz", timeout=5) as response:
        assert response.read() == b"ok"


def test_server_refuses_foreign_hosts_and_unknown_names(server):
    url, _ = server
    request = urllib.request.Request(url, headers={"Host": "attacker.example"})
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(request, timeout=10)
    assert info.value.code == 403
    info.value.close()
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(url + "pdf?topic=../../etc/passwd&clinic=lakeside-spine",
                               timeout=10)
    assert info.value.code == 422 and b"unknown topic" in info.value.read()
    info.value.close()


def test_a_render_over_the_time_limit_is_an_error_and_the_server_lives(tmp_path):
    """Renders run on the server's main thread, where the per-render limit works."""
    serving = _serve(tmp_path, "--time-limit", "0.05")
    url, _ = next(serving)
    try:
        with pytest.raises(urllib.error.HTTPError) as info:
            urllib.request.urlopen(url + "pdf?topic=bone-metastases&clinic=lakeside-spine",
                                   timeout=120)
        body = info.value.read().decode()
        info.value.close()
        assert info.value.code == 422 and "longer than 0.05 s" in body
        with urllib.request.urlopen(url + "healthz", timeout=10) as alive:
            assert alive.read() == b"ok"
    finally:
        next(serving, None)


def _get(url, **headers):
    """(status, body) of a GET, errors included."""
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        with error:
            return error.code, error.read()


def test_one_broken_topic_leaves_the_desk_and_the_other_topics_working(tmp_path):
    def break_one(lib):
        topic = lib / "content" / "bone-metastases.md"
        topic.write_text(topic.read_text().replace("last_reviewed: 2026-11-23",
                                                   "last_reviewed: 2026-02-30"))

    serving = _serve(tmp_path, prepare=break_one)
    url, _ = next(serving)
    try:
        status, page = _get(url + "?clinic=lakeside-spine")
        assert status == 200
        assert b"bone-metastases.md" in page and b"class=\"error\"" in page
        assert b'data-topic="injection-care-checklist"' in page
        status, pdf = _get(url + "pdf?topic=injection-care-checklist&clinic=lakeside-spine")
        assert status == 200 and pdf.startswith(b"%PDF-")
        status, body = _get(url + "pdf?topic=bone-metastases&clinic=lakeside-spine")
        assert status == 422 and b"bone-metastases.md" in body
    finally:
        next(serving, None)


def test_requests_from_other_sites_are_refused(server):
    url, _ = server
    target = url + "healthz"
    assert _get(target)[0] == 200                                  # typed or bookmarked
    assert _get(target, **{"Sec-Fetch-Site": "same-origin"})[0] == 200
    assert _get(target, Referer=url)[0] == 200
    assert _get(target, **{"Sec-Fetch-Site": "cross-site"})[0] == 403   # <img> elsewhere
    assert _get(target, Origin="http://evil.example")[0] == 403
    assert _get(target, Referer="http://evil.example/page")[0] == 403


def test_page_images_are_safe_from_many_threads(library, renderer):
    """PDFium is not thread-safe; the print desk makes page images from request threads."""
    from concurrent.futures import ThreadPoolExecutor

    from handouts.images import pdf_to_pngs
    from handouts.pipeline import Job, produce

    pdf = produce(Job("leaflet", "lakeside-spine", ("injection-care-checklist",)), library,
                  renderer).pdf
    with ThreadPoolExecutor(4) as pool:
        images = list(pool.map(lambda _: pdf_to_pngs(pdf, dpi=40)[0], range(16)))
    assert len(set(images)) == 1 and images[0].startswith(b"\x89PNG")
