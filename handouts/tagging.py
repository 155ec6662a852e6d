"""Finish: the tag tree repairs WeasyPrint's PDF needs before a screen reader gets it.

WeasyPrint 70 tags what it lays out from the HTML, and most of that is right. What
the HTML and CSS cannot change is repaired here, on the written PDF, with pikepdf:

- Running heads, footers and page numbers (CSS margin boxes) are marked as `Span`s
  whose structure elements hang off nothing: neither content nor artifacts. They
  become pagination artifacts, and leave the parent tree.
- A list whose every item is only a link into the document (the booklet's contents)
  is a table of contents: `L`/`LI` become `TOC`/`TOCI`, the item bodies `Reference`.
- Link annotations get the Print flag, so that a printed copy and a validator agree.

Everything else (headings, tick boxes, leaders, reading order) is said in the
markup and the styles; docs/accessibility.md lists what belongs in WeasyPrint.
The repairs are deterministic and take a few milliseconds a page.
"""

from __future__ import annotations

import re
from io import BytesIO

# A marked-content sequence as WeasyPrint (pydyf) writes it: `/Span <</MCID 7>> BDC`.
_MARKED = re.compile(rb"/([A-Za-z]+)\s*<<\s*/MCID\s+(\d+)\s*>>\s*BDC")
_PAGINATION = b"/Artifact <</Type /Pagination>> BDC"
PRINT_FLAG = 4   # annotation flag bit 3: print the annotation with the page


def repair(data: bytes) -> bytes:
    """The PDF `data` with its tag tree repaired (see the module's docstring)."""
    import pikepdf  # noqa: PLC0415 - only when a PDF is finished

    pdf = pikepdf.open(BytesIO(data))
    root = pdf.Root.get("/StructTreeRoot")
    if root is None:   # an untagged PDF (pdf_variant None): nothing to repair
        return data
    reachable = _walk(root)
    _artifacts(pdf, root, reachable)
    for page in pdf.pages:
        for annotation in page.obj.get("/Annots", []):
            if annotation.get("/Subtype") == "/Link":
                annotation.F = int(annotation.get("/F", 0)) | PRINT_FLAG
    buffer = BytesIO()
    pdf.save(buffer, deterministic_id=True, compress_streams=True,
             object_stream_mode=pikepdf.ObjectStreamMode.preserve)
    return buffer.getvalue()


def _walk(root) -> set[tuple[int, int]]:
    """The structure elements reachable from the root (as object ids), repairing
    tables of contents on the way."""
    import pikepdf  # noqa: PLC0415

    seen: set[tuple[int, int]] = set()
    stack = list(_kids(root))
    while stack:
        node = stack.pop()
        if not isinstance(node, pikepdf.Dictionary) or node.get("/Type") in ("/MCR", "/OBJR"):
            continue
        if node.objgen in seen:
            continue
        seen.add(node.objgen)
        if node.get("/S") == "/L":
            _table_of_contents(node)
        stack.extend(_kids(node))
    return seen


def _kids(node) -> list:
    import pikepdf  # noqa: PLC0415

    kids = node.get("/K")
    if kids is None:
        return []
    return list(kids) if isinstance(kids, pikepdf.Array) else [kids]


def _artifacts(pdf, root, reachable: set[tuple[int, int]]) -> None:
    """Marked content owned by unreachable elements becomes pagination artifacts.

    WeasyPrint builds elements for the margin boxes but links them to nothing (an
    artifact in the tag tree needs PDF 2.0, its comment says); the content stream
    keeps their `Span` marks. In PDF 1.7 an artifact is marked in the content.
    """
    import pikepdf  # noqa: PLC0415

    nums = root.ParentTree.get("/Nums")
    if nums is None:   # WeasyPrint writes one flat number tree; anything else is left
        return
    pages = list(pdf.pages)
    for index in range(0, len(nums) - 1, 2):
        key, owners = int(nums[index]), nums[index + 1]
        if key >= len(pages) or not isinstance(owners, pikepdf.Array):
            continue   # an annotation's parent, not a page's marked content
        orphans = set()
        for mcid, owner in enumerate(owners):
            if isinstance(owner, pikepdf.Dictionary) and owner.objgen not in reachable:
                orphans.add(mcid)
        if not orphans:
            continue
        for mcid in orphans:
            owners[mcid] = None
        _mark_artifacts(pdf, pages[key], orphans)


def _mark_artifacts(pdf, page, orphans: set[int]) -> None:
    import pikepdf  # noqa: PLC0415

    def artifact(match: re.Match) -> bytes:
        return _PAGINATION if int(match.group(2)) in orphans else match.group(0)

    contents = page.obj.Contents
    streams = list(contents) if isinstance(contents, pikepdf.Array) else [contents]
    for stream in streams:
        data = stream.read_bytes()
        changed = _MARKED.sub(artifact, data)
        if changed != data:
            stream.write(changed)


def _table_of_contents(listing) -> None:
    """`L` -> `TOC` when every item's body is one link to a place in the document."""
    items = _kids(listing)
    bodies = []
    for item in items:
        parts = _kids(item) if _role(item) == "/LI" else []
        body = [p for p in parts if _role(p) == "/LBody"]
        if len(body) != 1 or len(parts) != 1 or not _internal_link(body[0]):
            return
        bodies.append(body[0])
    if not items:
        return
    listing.S = _name("/TOC")
    for item, body in zip(items, bodies, strict=True):
        item.S = _name("/TOCI")
        body.S = _name("/Reference")   # TOCI holds Lbl, Reference, NonStruct, P, TOC


def _internal_link(body) -> bool:
    kids = _kids(body)
    if len(kids) != 1 or _role(kids[0]) != "/Link":
        return False
    for kid in _kids(kids[0]):
        if _role(kid, "/Type") == "/OBJR":
            annotation = kid.Obj
            action = annotation.get("/A")
            return "/Dest" in annotation or (action is not None
                                             and action.get("/S") == "/GoTo")
    return False


def _role(node, key: str = "/S") -> str | None:
    """A structure element's type (or another name-valued key); None for an MCID."""
    import pikepdf  # noqa: PLC0415

    return str(node.get(key)) if isinstance(node, pikepdf.Dictionary) else None


def _name(value: str):
    import pikepdf  # noqa: PLC0415

    return pikepdf.Name(value)
