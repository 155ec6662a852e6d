"""Finish: what HTML cannot do, on the rendered PDF (atomic writes, imposition)."""

from __future__ import annotations

import contextlib
import os
import secrets
from io import BytesIO
from pathlib import Path

from .timelimit import uninterrupted


def write_atomic(path: Path, data: bytes) -> None:
    """Write `data` to `path` so readers see the old file or the whole new one, never part.

    The bytes go to a temporary file in the same folder, are flushed to disk, and
    replace the target in one rename; a crash or kill leaves at most a stray
    temporary file, which the next write of that folder removes.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    # Not mkstemp: its files are 0600 whatever the umask, so a PDF shared through a
    # group or web folder would be unreadable. Created 0666, the kernel applies the
    # umask (and any default ACL) itself: no reading of the process-wide umask,
    # which a threaded server cannot do safely.
    # Uninterrupted: a time limit landing between os.open and the `try` would leak
    # the handle and leave the temporary file (a write of bytes in memory is short).
    with uninterrupted():
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
        for _attempt in range(100):   # 32 random bits each: a clash is rare, a hundred a bug
            temp = path.parent / f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.part"
            try:
                handle = os.open(temp, flags, 0o666)
                break
            except FileExistsError:
                continue
        else:
            raise FileExistsError(f"no free temporary file name beside {path}")
        try:
            with os.fdopen(handle, "wb") as stream:
                stream.write(data)
                stream.flush()
                os.fsync(stream.fileno())
            _hold_for_tests(path)
            os.replace(temp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temp)
            raise


_PDF_WRITES = [0]


def _hold_for_tests(path: Path) -> None:
    """HANDOUTS_TEST_HOLD=N:MARKER stops the Nth PDF write of this process between its
    temporary file and the rename: it creates MARKER and waits there to be killed, so
    kill-and-resume tests stop a build at a chosen point, not wherever a sleep lands."""
    hold = os.environ.get("HANDOUTS_TEST_HOLD")
    if not hold or path.suffix != ".pdf":
        return
    count, _, marker = hold.partition(":")
    _PDF_WRITES[0] += 1
    if _PDF_WRITES[0] == int(count):
        import time  # noqa: PLC0415

        Path(marker).touch()
        while True:
            time.sleep(60)


def clean_stale_parts(folder: Path, max_age: float = 900) -> int:
    """Remove temporary `.part` files left by a killed build; returns how many.

    A temporary file is stale when the process that wrote it (its name carries the
    PID) is gone, or when it is older than `max_age` seconds (another machine's).
    """
    import time  # noqa: PLC0415

    removed = 0
    if not folder.is_dir():
        return 0
    now = time.time()
    for temp in folder.rglob(".*.part"):
        with contextlib.suppress(OSError):
            if _writer_gone(temp.name) or now - temp.stat().st_mtime >= max_age:
                temp.unlink()
                removed += 1
    return removed


def _writer_gone(name: str) -> bool:
    parts = name.split(".")
    pid = next((int(p) for p in reversed(parts[:-2]) if p.isdigit()), None)
    if pid is None or pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


# Sheet sizes (landscape) that booklet pages are imposed on, in points.
SHEETS = {"a4": (841.89, 595.28), "letter": (792.0, 612.0)}


def saddle_stitch_order(pages: int) -> tuple[int, list[tuple[int | None, ...]]]:
    """Padded page count and, per sheet side, the (left, right) 0-based pages.

    Blank pages (None) go before the back cover, so the back cover stays last.
    For 8 pages the sides are 8|1, 2|7, 6|3, 4|5 (1-based).
    """
    total = -(-pages // 4) * 4
    sequence: list[int | None] = list(range(pages - 1)) + [None] * (total - pages) + [pages - 1]
    sides = []
    for sheet in range(total // 4):
        sides.append((sequence[total - 1 - 2 * sheet], sequence[2 * sheet]))        # front
        sides.append((sequence[2 * sheet + 1], sequence[total - 2 - 2 * sheet]))    # back
    return total, sides


def impose(data: bytes, sheet: str, rtl: bool = False) -> bytes:
    """Impose a reading-order booklet PDF for saddle stitching, two pages a side.

    Print the result duplex, flipping on the short edge; fold the stack in half and
    staple on the fold. Pages are centred on the sheet at their own size. A booklet
    in a right-to-left language (`rtl`) is bound on the right: each side mirrored.
    """
    import pikepdf  # noqa: PLC0415 - only for imposition and print-shop files
    from pikepdf import Dictionary  # noqa: PLC0415

    source = pikepdf.open(BytesIO(data))
    x0, y0, x1, y1 = (float(v) for v in source.pages[0].mediabox)
    width, height = x1 - x0, y1 - y0
    sheet_w, sheet_h = SHEETS[sheet]
    offset_x, offset_y = (sheet_w - 2 * width) / 2, (sheet_h - height) / 2
    _, sides = saddle_stitch_order(len(source.pages))
    out = pikepdf.new()
    for pair in sides:
        # Each page is placed whole as a form XObject: no content is reparsed, and the
        # fonts and images the pages share are copied once (qpdf maps foreign objects).
        forms, ops = Dictionary(), []
        for slot, index in enumerate(reversed(pair) if rtl else pair):
            if index is None:
                continue
            page = source.pages[index]
            left, bottom = (float(v) for v in page.mediabox[:2])
            forms[f"/P{index}"] = out.copy_foreign(page.as_form_xobject())
            ops.append(f"q 1 0 0 1 {offset_x + slot * width - left:.4f} "
                       f"{offset_y - bottom:.4f} cm /P{index} Do Q")
        _add_sheet_side(out, (sheet_w, sheet_h), forms, ops)
    return _save_sheets(out, source, "handouts (imposed)")


def _add_sheet_side(out, sheet_pt: tuple[float, float], forms, ops: list[str]) -> None:
    """A page of `sheet_pt` that draws `ops` with the form XObjects `forms`."""
    import pikepdf  # noqa: PLC0415
    from pikepdf import Array, Dictionary, Name  # noqa: PLC0415

    out.pages.append(pikepdf.Page(out.make_indirect(Dictionary(
        Type=Name.Page, MediaBox=Array([0, 0, *sheet_pt]), Resources=Dictionary(XObject=forms),
        Contents=out.make_stream("\n".join(ops).encode())))))


def _save_sheets(out, source, producer: str) -> bytes:
    """The sheets' bytes, with the source document's title, author and dates."""
    for key in ("/Title", "/Author", "/Subject", "/Keywords", "/CreationDate", "/ModDate",
                "/Creator"):
        if key in source.docinfo:
            out.docinfo[key] = source.docinfo[key]
    out.docinfo["/Producer"] = producer
    return save_pdf(out)


def card_sheet(paper: str) -> dict:
    """Where each card and crop mark goes on a sheet of `paper` (millimetres from the
    top left).

    The cards are centred, touching one another, so one cut separates two cards;
    each back sits behind its front when the sheet is printed on both sides with
    a long-edge flip (its column mirrored). Crop marks sit 2 mm outside the cards.
    """
    from .models import CARD_MM, PAPER_SIZES  # noqa: PLC0415 - pydantic; finish stays light

    size = PAPER_SIZES[paper]
    columns, rows = size.cards
    width, height = CARD_MM
    sheet_w, sheet_h = size.width / 72 * 25.4, size.height / 72 * 25.4
    left, top = (sheet_w - columns * width) / 2, (sheet_h - rows * height) / 2
    front = [{"x": round(left + c * width, 2), "y": round(top + r * height, 2), "card": (c, r)}
             for r in range(rows) for c in range(columns)]
    back = [{"x": round(left + (columns - 1 - c) * width, 2), "y": round(top + r * height, 2),
             "card": (c, r)} for r in range(rows) for c in range(columns)]
    offset, length, thick = 2.0, 5.0, 0.25
    marks = []
    for c in range(columns + 1):   # vertical cuts: marks above and below the cards
        x = round(left + c * width - thick / 2, 2)
        marks += [{"x": x, "y": round(top - offset - length, 2), "w": thick, "h": length},
                  {"x": x, "y": round(top + rows * height + offset, 2), "w": thick,
                   "h": length}]
    for r in range(rows + 1):      # horizontal cuts: marks left and right
        y = round(top + r * height - thick / 2, 2)
        marks += [{"x": round(left - offset - length, 2), "y": y, "w": length, "h": thick},
                  {"x": round(left + columns * width + offset, 2), "y": y, "w": length,
                   "h": thick}]
    return {"paper": paper, "sides": [{"name": "front", "slots": front},
                                      {"name": "back", "slots": back}], "marks": marks}


def card_sheets(data: bytes, paper: str) -> bytes:
    """Sheets of wallet cards for an office printer, from the card's own two pages: its
    front in every slot of one side and its back in every slot of the other, with crop
    marks, on sheets of `paper` (placed as card_sheet says).

    Like impose(), each page is placed whole as a form XObject, so the card is laid out
    once: making the sheets with WeasyPrint laid out ten more cards on each side.
    """
    import pikepdf  # noqa: PLC0415 - only for print files
    from pikepdf import Dictionary  # noqa: PLC0415

    from .models import PAPER_SIZES  # noqa: PLC0415 - pydantic; finish stays light

    layout = card_sheet(paper)
    source = pikepdf.open(BytesIO(data))
    size = PAPER_SIZES[paper]
    sheet_pt = (size.width, size.height)
    sheet_h = size.height
    out = pikepdf.new()
    for side, page in zip(layout["sides"], source.pages, strict=True):
        left, bottom, _, top = (float(v) for v in page.mediabox)
        height = top - bottom
        ops = [f"q 1 0 0 1 {slot['x'] * MM - left:.4f} "
               f"{sheet_h - slot['y'] * MM - height - bottom:.4f} cm /Card Do Q"
               for slot in side["slots"]]
        marks = [f"{m['x'] * MM:.3f} {sheet_h - (m['y'] + m['h']) * MM:.3f} "
                 f"{m['w'] * MM:.3f} {m['h'] * MM:.3f} re" for m in layout["marks"]]
        ops.append("/Artifact BMC q 0 g\n" + "\n".join(marks) + "\nf Q EMC")
        _add_sheet_side(out, sheet_pt, Dictionary(Card=out.copy_foreign(
            page.as_form_xobject())), ops)
    return _save_sheets(out, source, "handouts (card sheets)")


def save_pdf(pdf) -> bytes:
    """PDF bytes, streams compressed, with an /ID from the content (byte-identical runs)."""
    import pikepdf  # noqa: PLC0415

    buffer = BytesIO()
    pdf.save(buffer, deterministic_id=True, compress_streams=True,
             object_stream_mode=pikepdf.ObjectStreamMode.preserve)
    return buffer.getvalue()


MM = 72 / 25.4
SLUG_MM = 10.0   # room outside the bleed for the marks


def crop_marks(data: bytes, bleed_mm: float) -> bytes:
    """Crop marks outside the bleed, at the usual offset, on a page grown to hold them.

    WeasyPrint's own marks sit inside the bleed, where the guillotine's waste is
    printed with the background that runs off the edge. Here the media box grows by
    SLUG_MM beyond the bleed box and each corner gets two hairlines in registration
    black, from 1 mm beyond the bleed to 6 mm beyond it, marked as artifacts (they
    are not content, for a screen reader). The trim and bleed boxes stay as they are.
    """
    import pikepdf  # noqa: PLC0415 - only for print-shop files
    from pikepdf import Array  # noqa: PLC0415

    pdf = pikepdf.open(BytesIO(data))
    near, far, grow = (bleed_mm + 1) * MM, (bleed_mm + 6) * MM, (bleed_mm + SLUG_MM) * MM
    for page in pdf.pages:
        x0, y0, x1, y1 = (float(v) for v in page.trimbox)
        lines = []
        for x, y, sx, sy in ((x0, y0, -1, -1), (x1, y0, 1, -1), (x0, y1, -1, 1),
                             (x1, y1, 1, 1)):
            lines.append(f"{x + sx * near:.2f} {y:.2f} m {x + sx * far:.2f} {y:.2f} l S")
            lines.append(f"{x:.2f} {y + sy * near:.2f} m {x:.2f} {y + sy * far:.2f} l S")
        # The page's own drawing is wrapped in q/Q so the marks start from a clean state.
        page.contents_add(pdf.make_stream(b"q\n"), prepend=True)
        marks = "\nQ\n/Artifact BMC q 0.25 w 1 1 1 1 K\n" + "\n".join(lines) + "\nQ EMC\n"
        page.contents_add(pdf.make_stream(marks.encode()), prepend=False)
        media = Array([x0 - grow, y0 - grow, x1 + grow, y1 + grow])
        page.obj.MediaBox = media
        page.obj.CropBox = media
    return save_pdf(pdf)


NOTES_LINE_MM = 10.0      # the spacing of a Notes page's lines, as on ruled paper
NOTES_CLEAR_MM = 5.0      # kept clear above the footer's rule
NOTES_RGB = (0x9A / 255, 0xA5 / 255, 0xB1 / 255)   # tagging.rule_notes_pages draws them


def accessibility_problems(data: bytes) -> list[str]:
    """A PDF/UA smoke check: the structure a screen reader needs is present.

    Checks the catalogue (tagged, language, title shown), the XMP PDF/UA claim,
    and that every Figure in the tag tree has alternative text. It is a smoke
    test, not a full PDF/UA validator such as veraPDF.
    """
    from pypdf import PdfReader  # noqa: PLC0415

    reader = PdfReader(BytesIO(data))
    root = reader.trailer["/Root"]
    problems = []
    if not root.get("/MarkInfo", {}).get("/Marked"):
        problems.append("not marked as tagged (/MarkInfo /Marked)")
    if "/StructTreeRoot" not in root:
        problems.append("no structure tree (/StructTreeRoot)")
    if not root.get("/Lang"):
        problems.append("no document language (/Lang)")
    if not root.get("/ViewerPreferences", {}).get("/DisplayDocTitle"):
        problems.append("viewer is not told to show the title (/DisplayDocTitle)")
    if not (reader.metadata and reader.metadata.title):
        problems.append("no document title")
    metadata = root.get("/Metadata")
    xmp = metadata.get_object().get_data() if metadata else b""
    if b"pdfuaid:part" not in xmp and b"pdfaid:part" not in xmp:
        problems.append("no PDF/UA (or PDF/A) identification in the XMP metadata")
    figures = without_alt = 0
    if "/StructTreeRoot" in root:
        stack = [root["/StructTreeRoot"].get_object()]
        while stack:
            node = stack.pop()
            if hasattr(node, "get_object"):
                node = node.get_object()
            if isinstance(node, list):
                stack.extend(node)
                continue
            if not hasattr(node, "get"):
                continue
            if node.get("/S") == "/Figure":
                figures += 1
                if not node.get("/Alt") and not node.get("/ActualText"):
                    without_alt += 1
            kids = node.get("/K")
            if kids is not None:
                stack.extend(kids if isinstance(kids, list) else [kids])
    if without_alt:
        problems.append(f"{without_alt} of {figures} figures have no alternative text")
    return problems
