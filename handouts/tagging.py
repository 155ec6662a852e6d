"""Finish: the tag tree repairs WeasyPrint's PDF needs before a screen reader gets it.

WeasyPrint 70 tags what it lays out from the HTML, and most of that is right. What
the HTML and CSS cannot change is repaired here, on the written PDF, with pikepdf:

- Running heads, footers and page numbers (CSS margin boxes) are marked as `Span`s
  whose structure elements hang off nothing: neither content nor artifacts. They
  become pagination artifacts, and leave the parent tree.
- Every box inside a link gets a link annotation of its own, tagged where the box
  is (a `Span`, or a `Link` inside the link for `a::after`). Each annotation is
  moved to the outermost `Link`, and a `Link` inside a link becomes a `Span`.
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

from .finish import rule_notes_pages, save_pdf

# A marked-content sequence as WeasyPrint (pydyf) writes it: `/Span <</MCID 7>> BDC`.
_MARKED = re.compile(rb"/([A-Za-z]+)\s*<<\s*/MCID\s+(\d+)\s*>>\s*BDC")
_PAGINATION = b"/Artifact <</Type /Pagination>> BDC"
PRINT_FLAG = 4   # annotation flag bit 3: print the annotation with the page


def repair(data: bytes, notes=()) -> bytes:
    """The PDF `data` with its tag tree repaired (see the module's docstring) and, in
    the same pass, the lines of its Notes pages drawn (`notes`: finish.rule_notes_pages)."""
    import pikepdf  # noqa: PLC0415 - only when a PDF is finished

    pdf = pikepdf.open(BytesIO(data))
    root = pdf.Root.get("/StructTreeRoot")
    nums = root.get("/ParentTree", {}).get("/Nums") if root is not None else None
    if nums is None:   # untagged (pdf_variant None), or not a tree WeasyPrint wrote
        rule_notes_pages(pdf, notes)
        return save_pdf(pdf) if notes else data
    parents = {int(nums[i]): i + 1 for i in range(0, len(nums) - 1, 2)}
    reachable = _walk(root, nums, parents)
    _artifacts(pdf, nums, parents, reachable)
    for page in pdf.pages:
        for annotation in page.obj.get("/Annots", []):
            if annotation.get("/Subtype") == "/Link":
                annotation.F = int(annotation.get("/F", 0)) | PRINT_FLAG
    rule_notes_pages(pdf, notes)   # after the repairs: its drawing is an artifact already
    return save_pdf(pdf)


def _walk(root, nums, parents: dict[int, int]) -> set[tuple[int, int]]:
    """The structure elements reachable from the root (as object ids), with links
    and tables of contents repaired on the way."""
    from pikepdf import Array, Dictionary  # noqa: PLC0415

    seen: set[tuple[int, int]] = set()
    stack = [(kid, None) for kid in reversed(_kids(root))]
    while stack:
        node, link = stack.pop()
        # MCIDs are integers, and marked-content and annotation references have no /S.
        role = node.get("/S") if isinstance(node, Dictionary) else None
        if role is None or node.objgen in seen:
            continue
        seen.add(node.objgen)
        if role == "/L":
            _table_of_contents(node)
        elif role == "/Link" and link is None:
            link = node
        elif link is not None:   # inside a link: its annotations are the link's
            if role == "/Link":
                node.S = _name("/Span")
            _hand_over(node, link, nums, parents)
        kids = node.get("/K")
        if isinstance(kids, Array):
            stack.extend((kid, link) for kid in reversed(kids))   # in document order
        elif kids is not None:
            stack.append((kids, link))
    return seen


def _kids(node) -> list:
    import pikepdf  # noqa: PLC0415

    kids = node.get("/K")
    if kids is None:
        return []
    return list(kids) if isinstance(kids, pikepdf.Array) else [kids]


def _hand_over(node, link, nums, parents: dict[int, int]) -> None:
    """Move the annotation references (OBJR) of `node` to `link`, in the parent tree
    too: PDF/UA wants each link annotation inside a Link element."""
    import pikepdf  # noqa: PLC0415

    kids = _kids(node)
    moved = [kid for kid in kids if _role(kid, "/Type") == "/OBJR"]
    if not moved:
        return
    node.K = pikepdf.Array([kid for kid in kids if _role(kid, "/Type") != "/OBJR"])
    link.K = pikepdf.Array(_kids(link) + moved)
    for reference in moved:
        key = reference.Obj.get("/StructParent")
        if key is not None and int(key) in parents:
            nums[parents[int(key)]] = link


def _artifacts(pdf, nums, parents: dict[int, int], reachable: set[tuple[int, int]]) -> None:
    """Marked content owned by unreachable elements becomes pagination artifacts.

    WeasyPrint builds elements for the margin boxes but links them to nothing (an
    artifact in the tag tree needs PDF 2.0, its comment says); the content stream
    keeps their `Span` marks. In PDF 1.7 an artifact is marked in the content.
    """
    import pikepdf  # noqa: PLC0415

    for number, page in enumerate(pdf.pages):
        owners = nums[parents[number]] if number in parents else None
        if not isinstance(owners, pikepdf.Array):
            continue
        orphans = {mcid for mcid, owner in enumerate(owners)
                   if isinstance(owner, pikepdf.Dictionary) and owner.objgen not in reachable}
        if orphans:
            for mcid in orphans:
                owners[mcid] = None
            _mark_artifacts(page, orphans)


def _mark_artifacts(page, orphans: set[int]) -> None:
    import pikepdf  # noqa: PLC0415

    def artifact(match: re.Match) -> bytes:
        return _PAGINATION if int(match.group(2)) in orphans else match.group(0)

    contents = page.obj.Contents
    for stream in list(contents) if isinstance(contents, pikepdf.Array) else [contents]:
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
        if len(parts) != 1 or _role(parts[0]) != "/LBody" or not _internal_link(parts[0]):
            return
        bodies.append(parts[0])
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

    if not isinstance(node, pikepdf.Dictionary):
        return None
    value = node.get(key)
    return None if value is None else str(value)


def _name(value: str):
    import pikepdf  # noqa: PLC0415

    return pikepdf.Name(value)
