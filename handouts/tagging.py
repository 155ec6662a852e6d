"""Finish: the tag tree repairs WeasyPrint's PDF needs before a screen reader gets it.

WeasyPrint 70 tags what it lays out from the HTML, and most of that is right. What
the HTML and CSS cannot change is repaired here, on WeasyPrint's own PDF objects
(pydyf) before they are written: `Repair` is a `write_pdf` finisher.

- Running heads, footers and page numbers (CSS margin boxes) are marked as `Span`s
  whose structure elements hang off nothing: neither content nor artifacts. They
  become pagination artifacts, and leave the parent tree (and the file).
- Every box inside a link gets a link annotation of its own, tagged where the box
  is (a `Span`, or a `Link` inside the link for `a::after`). Each annotation is
  moved to the outermost `Link`, and a `Link` inside a link becomes a `Span`.
- A list whose every item is only a link into the document (the booklet's contents)
  is a table of contents: `L`/`LI` become `TOC`/`TOCI`, the item bodies `Reference`.
- Link annotations get the Print flag, so that a printed copy and a validator agree.

Everything else (headings, tick boxes, leaders, reading order) is said in the
markup and the styles; docs/accessibility.md lists what belongs in WeasyPrint.
The repairs are deterministic and take under a millisecond a page. Made on the written
file with pikepdf, which opened and saved every document again for them, they took 16 ms
of a 0.34 s leaflet; on pydyf's objects they take 3 ms.
"""

from __future__ import annotations

from functools import cache

from .finish import MM, NOTES_CLEAR_MM, NOTES_LINE_MM, NOTES_RGB

_PAGINATION = b"<</Type /Pagination>>"
PRINT_FLAG = 4   # annotation flag bit 3: print the annotation with the page


class Repair:
    """A `write_pdf` finisher: the tag tree repaired (see the module's docstring) and,
    in the same pass, the lines of the Notes pages drawn (`notes`: pages as
    `pipeline._notes_pages` gives them; see `rule_notes_pages`)."""

    def __init__(self, notes=()):
        self.notes = notes

    def __call__(self, document, pdf) -> None:
        repair(pdf, self.notes)


def repair(pdf, notes=()) -> None:
    """Repair the tag tree of the pydyf `pdf` WeasyPrint is about to write."""
    objects = _Objects(pdf)
    pages = objects.pages()
    root = objects.get(pdf.catalog.get("StructTreeRoot"))
    mapping = objects.get(root.get("ParentTree")) if root is not None else None
    nums = mapping.get("Nums") if mapping is not None else None
    if nums is None:   # untagged (pdf_variant None), or not a tree WeasyPrint wrote
        rule_notes_pages(objects, pages, notes)
        return
    parents = {int(nums[i]): i + 1 for i in range(0, len(nums) - 1, 2)}
    reachable = _walk(objects, root, nums, parents)
    _artifacts(objects, pages, nums, parents, reachable)
    _drop_unreachable(objects, nums, reachable)
    for page in pages:
        for reference in page.get("Annots", ()):
            annotation = objects.get(reference)
            if annotation is not None and annotation.get("Subtype") == "/Link":
                annotation["F"] = int(annotation.get("F", 0)) | PRINT_FLAG
    rule_notes_pages(objects, pages, notes)   # after the repairs: an artifact already


class _Objects:
    """pydyf's objects by reference: pydyf keeps them in a list, numbered by place,
    and refers to them by `b"12 0 R"`."""

    def __init__(self, pdf):
        self.pdf = pdf
        self.list = pdf.objects

    def get(self, reference):
        """The object `reference` names (None for anything else: an MCID, a name)."""
        if isinstance(reference, bytes) and reference.endswith(b" R"):
            return self.list[int(reference.split(b" ", 1)[0])]
        return reference if isinstance(reference, dict) else None

    def pages(self) -> list:
        kids = self.pdf.pages["Kids"]   # flat: number, 0, "R", number, 0, "R", ...
        return [self.list[number] for number in kids[::3]]


def _kids(node) -> list:
    kids = node.get("K")
    if kids is None:
        return []
    return list(kids) if isinstance(kids, list) else [kids]


def _role(objects: _Objects, node, key: str = "S") -> str | None:
    """A structure element's type (or another name-valued key); None for an MCID."""
    node = objects.get(node)
    return None if node is None else node.get(key)


def _walk(objects: _Objects, root, nums, parents: dict[int, int]) -> set[int]:
    """The structure elements reachable from the root (as object numbers), with links
    and tables of contents repaired on the way."""
    seen: set[int] = set()
    stack = [(kid, None) for kid in reversed(_kids(root))]
    while stack:
        reference, link = stack.pop()
        node = objects.get(reference)
        # MCIDs are integers, and marked-content and annotation references have no S.
        role = node.get("S") if node is not None else None
        if role is None or node.number in seen:
            continue
        seen.add(node.number)
        if role == "/L":
            _table_of_contents(objects, node)
        elif role == "/Link" and link is None:
            link = node
        elif link is not None:   # inside a link: its annotations are the link's
            if role == "/Link":
                node["S"] = "/Span"
            _hand_over(objects, node, link, nums, parents)
        kids = node.get("K")
        if isinstance(kids, list):
            stack.extend((kid, link) for kid in reversed(kids))   # in document order
        elif kids is not None:
            stack.append((kids, link))
    return seen


def _hand_over(objects: _Objects, node, link, nums, parents: dict[int, int]) -> None:
    """Move the annotation references (OBJR) of `node` to `link`, in the parent tree
    too: PDF/UA wants each link annotation inside a Link element."""
    import pydyf  # noqa: PLC0415

    kids = _kids(node)
    moved = [kid for kid in kids if _role(objects, kid, "Type") == "/OBJR"]
    if not moved:
        return
    node["K"] = pydyf.Array([kid for kid in kids if kid not in moved])
    link["K"] = pydyf.Array(_kids(link) + moved)
    for reference in moved:
        annotation = objects.get(objects.get(reference).get("Obj"))
        key = annotation.get("StructParent") if annotation is not None else None
        if key is not None and int(key) in parents:
            nums[parents[int(key)]] = link.reference


def _artifacts(objects: _Objects, pages: list, nums, parents: dict[int, int],
               reachable: set[int]) -> None:
    """Marked content owned by unreachable elements becomes pagination artifacts.

    WeasyPrint builds elements for the margin boxes but links them to nothing (an
    artifact in the tag tree needs PDF 2.0, its comment says); the content stream
    keeps their `Span` marks. In PDF 1.7 an artifact is marked in the content.
    """
    for number, page in enumerate(pages):
        owners = nums[parents[number]] if number in parents else None
        if not isinstance(owners, list):
            continue
        orphans = set()
        for mcid, owner in enumerate(owners):
            element = objects.get(owner)
            if element is not None and element.number not in reachable:
                orphans.add(mcid)
                owners[mcid] = b"null"
        if orphans:
            _mark_artifacts(objects.get(page["Contents"]), orphans)


def _mark_artifacts(stream, orphans: set[int]) -> None:
    """`/Span <</MCID 7>> BDC` -> `/Artifact <</Type /Pagination>> BDC` for the
    orphans, in the page's content stream as WeasyPrint's `Stream.marked` made it."""
    import pydyf  # noqa: PLC0415

    items = stream.stream
    for index, item in enumerate(items):
        if type(item) is pydyf.Dictionary and len(item) == 1 and \
                item.get("MCID") in orphans and items[index + 1:index + 2] == [b"BDC"]:
            items[index - 1], items[index] = "/Artifact", _PAGINATION


def _drop_unreachable(objects: _Objects, nums, reachable: set[int]) -> None:
    """The margin boxes' elements, now referred to by nothing, become `null` objects
    (pydyf writes every object it holds; renumbering them all is not worth it)."""
    import pydyf  # noqa: PLC0415

    referred = {element.number for value in nums[1::2]
                for element in [objects.get(value)] if element is not None}
    for number, element in enumerate(objects.list):
        if number and number not in reachable and number not in referred and \
                type(element) is pydyf.Dictionary and element.get("Type") == "/StructElem":
            null = _null_class()()
            null.number = number
            objects.list[number] = null


@cache
def _null_class():
    """A pydyf object written as `null` (pydyf has none)."""
    import pydyf  # noqa: PLC0415

    class Null(pydyf.Object):
        data = b"null"

    return Null


def _table_of_contents(objects: _Objects, listing) -> None:
    """`L` -> `TOC` when every item's body is one link to a place in the document."""
    items = [objects.get(item) for item in _kids(listing)]
    bodies = []
    for item in items:
        parts = _kids(item) if item is not None and item.get("S") == "/LI" else []
        if len(parts) != 1 or _role(objects, parts[0]) != "/LBody" or \
                not _internal_link(objects, objects.get(parts[0])):
            return
        bodies.append(objects.get(parts[0]))
    if not items:
        return
    listing["S"] = "/TOC"
    for item, body in zip(items, bodies, strict=True):
        item["S"] = "/TOCI"
        body["S"] = "/Reference"   # TOCI holds Lbl, Reference, NonStruct, P, TOC


def _internal_link(objects: _Objects, body) -> bool:
    kids = _kids(body)
    if len(kids) != 1 or _role(objects, kids[0]) != "/Link":
        return False
    for kid in _kids(objects.get(kids[0])):
        if _role(objects, kid, "Type") == "/OBJR":
            annotation = objects.get(objects.get(kid).get("Obj"))
            action = objects.get(annotation.get("A"))
            return "Dest" in annotation or (action is not None
                                            and action.get("S") == "/GoTo")
    return False


def rule_notes_pages(objects: _Objects, pages: list, notes) -> None:
    """Draw lines to write on, every NOTES_LINE_MM across the page area of each page in
    `notes` ((index, (left, top, width, height) in pt from the trim box's top left)):
    the pages a booklet leaves blank before a topic that opens on the right. They are
    pagination artifacts: a screen reader has nothing to read there."""
    step = NOTES_LINE_MM * MM
    red, green, blue = NOTES_RGB
    for index, (left, top, width, height) in notes:
        page = pages[index]
        x0, _, _, y1 = (float(value) for value in page["TrimBox"])
        lines = [f"{x0 + left:.2f} {y:.2f} m {x0 + left + width:.2f} {y:.2f} l S"
                 for n in range(1, int((height - NOTES_CLEAR_MM * MM) // step) + 1)
                 for y in [y1 - top - n * step]]
        items = objects.get(page["Contents"]).stream
        items.insert(0, b"q")   # WeasyPrint's drawing starts with a flip of the page
        items.append((f"Q\n/Artifact <</Type /Pagination>> BDC q 0.75 w "
                      f"{red:.3f} {green:.3f} {blue:.3f} RG\n" + "\n".join(lines) +
                      "\nQ EMC").encode())
