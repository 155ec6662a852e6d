"""Tagging: the structure tree of real leaflets, a checklist and a booklet, read back with
pikepdf, against what a screen reader and a PDF/UA validator need."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from io import BytesIO

import pikepdf
import pytest
from pypdf import PdfReader

from handouts.finish import accessibility_problems
from handouts.load import load_booklet, load_clinic
from handouts.pipeline import Job, produce
from tests.conftest import ROOT

DOCUMENTS = {
    "leaflet": Job("leaflet", "riverside-oncology", ("vertebroplasty-kyphoplasty",)),
    "two-column": Job("leaflet", "riverside-oncology", ("bone-protecting-injections",)),
    "checklist": Job("leaflet", "riverside-oncology", ("injection-care-checklist",)),
    "booklet": Job("booklet", "riverside-oncology", booklet="spine-procedure-pack"),
}


@pytest.fixture(scope="module")
def made(library, renderer):
    """Each document's PDF bytes, made the one way documents are made."""
    return {name: produce(job, library, renderer).pdf for name, job in DOCUMENTS.items()}


@dataclass
class Tagged:
    """A PDF's structure tree and marked content, as read back."""

    pdf: pikepdf.Pdf
    elements: list = field(default_factory=list)     # (role, element, roles above), in order
    tag_order: dict = field(default_factory=dict)    # page -> [(mcid, roles above)] in order
    painted: dict = field(default_factory=dict)      # page -> [(tag, properties)] as painted
    texts: dict = field(default_factory=dict)        # page -> {mcid or artifact n: text}

    def roles(self, name: str) -> list:
        return [element for role, element, _ in self.elements if role == name]


def read(data: bytes) -> Tagged:
    pdf = pikepdf.open(BytesIO(data))
    tagged = Tagged(pdf)
    pages = {page.objgen: number for number, page in enumerate(pdf.pages)}

    def walk(node, page, above):
        if isinstance(node, int):
            tagged.tag_order.setdefault(page, []).append((node, above))
        elif node.get("/Type") == "/MCR":
            tagged.tag_order.setdefault(pages[node.Pg.objgen], []).append(
                (int(node.MCID), above))
        elif node.get("/Type") != "/OBJR":
            role = str(node.S)
            tagged.elements.append((role, node, above))
            page = pages[node.Pg.objgen] if "/Pg" in node else page
            kids = node.get("/K")
            for kid in (kids if isinstance(kids, pikepdf.Array) else
                        [] if kids is None else [kids]):
                walk(kid, page, above + (role,))

    kids = pdf.Root.StructTreeRoot.K
    for kid in kids if isinstance(kids, pikepdf.Array) else [kids]:
        walk(kid, None, ())
    for number, page in enumerate(pdf.pages):
        tagged.painted[number] = [
            (str(operands[0]), operands[1] if str(op) == "BDC" else None)
            for operands, op in pikepdf.parse_content_stream(page, "BDC BMC")]
    return tagged


def marked_texts(data: bytes, number: int) -> dict:
    """Text of each marked-content sequence on a page: MCID -> text, and
    ("artifact", type) -> texts for artifacts."""
    page = PdfReader(BytesIO(data)).pages[number]
    current, stack, texts = [None], [], {}

    def before(op, args, cm, tm):
        if op in (b"BDC", b"BMC"):
            stack.append(current[0])
            props = args[1] if op == b"BDC" else {}
            if args[0] == "/Artifact":
                current[0] = ("artifact", str(props.get("/Type", "")))
            else:
                current[0] = props.get("/MCID")
        elif op == b"EMC":
            current[0] = stack.pop() if stack else None

    def text(value, cm, tm, font, size):
        if value.strip():
            texts.setdefault(current[0], []).append(value)

    page.extract_text(visitor_operand_before=before, visitor_text=text)
    return {key: "".join(value) for key, value in texts.items()}


@pytest.mark.parametrize("name", DOCUMENTS)
def test_every_marked_content_sequence_is_reachable_or_an_artifact(made, name):
    tagged = read(made[name])
    for number, painted in tagged.painted.items():
        reachable = {mcid for mcid, _ in tagged.tag_order.get(number, [])}
        for tag, properties in painted:
            if tag == "/Artifact":
                continue
            assert properties is not None and "/MCID" in properties, (name, number, tag)
            assert int(properties.MCID) in reachable, (name, number + 1, tag, properties)


@pytest.mark.parametrize("name", DOCUMENTS)
def test_parent_tree_names_the_reachable_owner_of_each_sequence(made, name):
    tagged = read(made[name])
    reachable = {element.objgen for _, element, _ in tagged.elements}
    nums = tagged.pdf.Root.StructTreeRoot.ParentTree.Nums
    for index in range(0, len(nums), 2):
        key, owners = int(nums[index]), nums[index + 1]
        if key < len(tagged.pdf.pages):
            for owner in owners:
                assert owner is None or owner.objgen in reachable, (name, key)
        else:   # an annotation's parent: a Link in the tree
            assert owners.objgen in reachable and owners.S == "/Link", (name, key)


@pytest.mark.parametrize("name", ["leaflet", "booklet"])
def test_running_heads_footers_and_page_numbers_are_pagination_artifacts(made, name):
    data = made[name]
    pages = len(PdfReader(BytesIO(data)).pages)
    for number in range(1, pages - 1):   # the covers have no footer
        texts = marked_texts(data, number)
        pagination = " ".join(v for k, v in texts.items() if k == ("artifact", "/Pagination"))
        content = " ".join(v for k, v in texts.items() if isinstance(k, int))
        assert f"Page {number + 1} of {pages}" in pagination, (name, number + 1)
        assert f"of {pages}" not in content, (name, number + 1)


def test_tick_boxes_are_announced(made):
    tagged = read(made["checklist"])
    items = [element for element in tagged.roles("/LI")
             if _first_figure(element) is not None]
    boxes = (ROOT / "content" / "injection-care-checklist.md").read_text().count("\n- [ ]")
    assert len(items) == boxes
    for item in items:
        assert str(_first_figure(item).Alt) == "Tick box"
    # What a screen reader heard before: an empty Span where the box is.
    for body in tagged.roles("/LBody"):
        first = body.K[0] if isinstance(body.K, pikepdf.Array) and len(body.K) else None
        assert not (isinstance(first, pikepdf.Dictionary) and first.get("/S") == "/Span"
                    and len(first.get("/K", [])) == 0)


def _first_figure(item):
    bodies = [kid for kid in item.K if kid.get("/S") == "/LBody"]
    if not bodies or not len(bodies[0].K):
        return None
    first = bodies[0].K[0]
    return first if isinstance(first, pikepdf.Dictionary) and first.get("/S") == "/Figure" \
        else None


def test_booklet_cover_heading_and_table_of_contents(made, library):
    tagged = read(made["booklet"])
    headings = [(role, element) for role, element, _ in tagged.elements
                if re.fullmatch(r"/H\d|/Title", role)]
    role, cover = headings[0]
    assert role == "/H1" and cover.Pg.objgen == tagged.pdf.pages[0].objgen
    assert headings[1][0] == "/H2"   # Contents
    [toc] = tagged.roles("/TOC")
    entries = list(toc.K)
    topics = load_booklet(library.booklet_path("spine-procedure-pack")).topics
    assert len(entries) == len(topics) + 1   # and the back cover
    for entry in entries:
        assert entry.S == "/TOCI"
        [reference] = list(entry.K)
        assert reference.S == "/Reference" and reference.K[0].S == "/Link"
    contents = marked_texts(made["booklet"], 1)
    tagged_text = " ".join(v for k, v in contents.items() if isinstance(k, int))
    assert "..." not in tagged_text and "…" not in tagged_text   # no leader read out


@pytest.mark.parametrize("name", DOCUMENTS)
def test_links_are_whole_printable_and_hold_their_annotations(made, name):
    tagged = read(made[name])
    for role, element, above in tagged.elements:
        assert not (role == "/Link" and "/Link" in above), name   # no link inside a link
        for kid in element.get("/K", []) if isinstance(element.get("/K"), pikepdf.Array) \
                else []:
            if isinstance(kid, pikepdf.Dictionary) and kid.get("/Type") == "/OBJR":
                assert role == "/Link", (name, role)
    annotations = [a for page in tagged.pdf.pages for a in page.obj.get("/Annots", [])]
    for annotation in annotations:
        assert int(annotation.get("/F", 0)) & 4, name   # the Print flag


def test_an_email_address_is_a_mailto_link(made, library):
    email = load_clinic(library.clinic_folder("riverside-oncology")).clinic.email
    tagged = read(made["booklet"])
    uris = [str(a.A.URI) for page in tagged.pdf.pages for a in page.obj.get("/Annots", [])
            if "/A" in a and "/URI" in a.A]
    assert f"mailto:{email}" in uris


@pytest.mark.parametrize("name", DOCUMENTS)
def test_text_is_tagged_in_the_order_it_is_painted(made, name):
    """Reading order: the text of every page (two-column pages too) is in the tag tree
    in the order it is painted. List labels and pictures are left out: WeasyPrint
    paints them after the text of their block, and their tags sit where they are read."""
    tagged = read(made[name])
    for number, painted in tagged.painted.items():
        text = [mcid for mcid, above in tagged.tag_order.get(number, [])
                if above[-1:] in (("/Span",), ("/Link",)) and "/Lbl" not in above]
        wanted = set(text)
        order = [int(p.MCID) for tag, p in painted if p is not None and "/MCID" in p
                 and int(p.MCID) in wanted]
        assert text == order, (name, number + 1)


@pytest.mark.parametrize("name", DOCUMENTS)
def test_smoke_check_and_deterministic_repair(made, name, library, renderer):
    data = made[name]
    assert accessibility_problems(data) == []
    assert produce(DOCUMENTS[name], library, renderer, reuse=False).pdf == data
