"""Everyday use: --png, QR codes, CLI habits."""

from __future__ import annotations

import io
import os
import subprocess
import sys

import pytest

from handouts.build import build
from handouts.images import pdf_to_pngs
from tests.conftest import ROOT, pdftext


def test_png_pages_beside_the_pdf(tmp_path):
    result = subprocess.run([sys.executable, "-m", "handouts", "build", "bone-protecting-"
                             "injections", "-c", "riverside-oncology", "--png", "-o",
                             str(tmp_path)], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    folder = tmp_path / "riverside-oncology"
    pngs = sorted(folder.glob("bone-protecting-injections-a4-*.png"))
    pages = int(result.stdout.split("(")[-1].split()[0])
    assert [p.name for p in pngs] == [f"bone-protecting-injections-a4-{n}.png"
                                      for n in range(1, pages + 1)]
    assert all(p.read_bytes().startswith(b"\x89PNG") for p in pngs)


def test_qr_code_decodes_to_the_topic_url(library, renderer, tmp_path):
    zxingcpp = pytest.importorskip("zxingcpp")
    from PIL import Image

    [result] = build(["bone-metastases"], "riverside-oncology", library=library,
                     renderer=renderer, out=tmp_path)
    last = pdf_to_pngs(result.path.read_bytes(), dpi=200, first=result.pages)[0]
    codes = [code.text for code in zxingcpp.read_barcodes(Image.open(io.BytesIO(last)))]
    expected = "https://riverside-cancer.example.org/leaflets/bone-metastases"
    assert codes == [expected]
    flat = "".join(pdftext(result.path, result.pages, result.pages).split())
    assert "riverside-cancer.example.org/" in flat and "leaflets/" in flat  # URL under it


def test_no_qr_for_a_clinic_without_a_topic_url(library, renderer, tmp_path):
    [result] = build(["injection-care-checklist"], "lakeside-spine", library=library,
                     renderer=renderer, out=tmp_path)
    assert "leaflets/" not in pdftext(result.path)


def test_new_refuses_bad_names_and_existing_files(make_library):
    lib = make_library()
    args = [sys.executable, "-m", "handouts", "--library", str(lib.root), "new"]
    bad = subprocess.run(args + ["topic", "../escape"], capture_output=True, text=True)
    assert bad.returncode == 2 and "not a valid name" in bad.stderr
    assert subprocess.run(args + ["topic", "ok-name"], capture_output=True).returncode == 0
    again = subprocess.run(args + ["topic", "ok-name"], capture_output=True, text=True)
    assert again.returncode == 2 and "already exists" in again.stderr


def test_shell_completion_is_available():
    env = dict(os.environ, _HANDOUTS_COMPLETE="bash_source")
    result = subprocess.run([sys.executable, "-m", "handouts"], env=env, capture_output=True,
                            text=True, cwd=ROOT)
    assert "_handouts_completion" in result.stdout or "complete" in result.stdout


def test_a_qr_code_changed_in_the_cache_is_never_printed(library, renderer, tmp_path,
                                                         monkeypatch):
    from handouts import cache
    from handouts.pipeline import Job, produce

    monkeypatch.setenv("HANDOUTS_CACHE", str(tmp_path / "cache"))
    job = Job("leaflet", "riverside-oncology", ("injection-care-checklist",))
    first = produce(job, library, renderer).pdf
    [qr] = cache.entries(("qr",))
    genuine = qr.read_bytes()
    qr.write_bytes(b'<svg xmlns="http://www.w3.org/2000/svg"><rect width="9" height="9"/></svg>')
    assert produce(job, library, renderer).pdf == first
    assert qr.read_bytes() == genuine
