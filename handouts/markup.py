"""Markup: a topic's markdown body -> safe HTML (part of the compose stage).

Raw HTML is switched off in the markdown parser, every link and image is checked
against the library, and the result goes through an allow-list sanitiser (nh3) so
a topic can never inject markup, script, styles or a fetch of its own.
"""

from __future__ import annotations

import html
import os
import re
import xml.etree.ElementTree as etree
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote

import markdown
import nh3
from markdown.extensions import Extension
from markdown.preprocessors import Preprocessor
from markdown.treeprocessors import Treeprocessor
from markdown.util import AMP_SUBSTITUTE

from . import record
from .errors import Problem, UnsafeResourceError, ValidationError
from .messages import TICK_BOX_WORDS, direction
from .models import ClinicProfile, Topic
from .raster import check_raster_file
from .svg import check_svg_file
from .timelimit import uninterrupted

IMAGE_TYPES = {".svg", ".png", ".jpg", ".jpeg"}
_FILL_IN = re.compile(r"^(?P<label>[^\n:_]{1,60}):[ \t]*_{3,}[ \t]*$")
_TASK = re.compile(r"^\[(?P<mark>[ xX])\]\s+")
# Bounded ({0,400}): an unclosed `{{` must not make each later `{{` scan to the end.
_PLACEHOLDER = re.compile(r"\{\{(?P<expr>.{0,400}?)\}\}|\{%.{0,400}?%\}|\{#.{0,400}?#\}", re.S)
_FIELD = re.compile(r"clinic\.(?P<name>[a-z_]+)")
URGENT_MARKER = "\ue000URGENT_HELP\ue001"
TICK_MARKERS = {False: "\ue000TICKBOX\ue001", True: "\ue000TICKED\ue001"}
# A tick box is drawn by CSS on an empty inline SVG whose <title> WeasyPrint gives its
# Figure tag as /Alt: a screen reader says "Tick box" before the item, where an empty
# span said nothing (docs/accessibility.md). Its words: messages.TICK_BOX_WORDS,
# in the document's language.

ALLOWED_TAGS = {
    "p", "br", "h2", "h3", "h4", "ul", "ol", "li", "strong", "em", "b", "i", "a", "img",
    "figure", "figcaption", "table", "thead", "tbody", "tr", "th", "td", "div", "span",
    "blockquote", "hr", "dl", "dt", "dd", "code", "sup", "sub", "abbr",
}
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"}, "img": {"src", "alt", "title"}, "th": {"align"},
    "td": {"align"}, "abbr": {"title"}, "h2": {"id"}, "h3": {"id"}, "h4": {"id"},
    "div": {"aria-label"},
}
ALLOWED_CLASSES = {
    "div": {"admonition", "note", "tip", "warning", "important", "fill-in-group"},
    "p": {"admonition-title", "fill-in"},
    "span": {"fill-label", "fill-line"},
    "ul": {"checklist", "short"}, "ol": {"short"}, "li": {"task"}, "figure": {"diagram"},
    "img": {"wide"},
}


@dataclass
class MarkupResult:
    """A topic body as safe HTML plus what was found on the way."""

    html: str
    text: str                          # plain text of the body, for reading level
    images: list[tuple[str, str]] = field(default_factory=list)   # (src file URI, alt)
    problems: list[Problem] = field(default_factory=list)          # warnings
    fields_used: set[str] = field(default_factory=set)
    heading_ids: set[str] = field(default_factory=set)
    internal_links: list[str] = field(default_factory=list)


class _FillInLines(Preprocessor):
    """`Label: ____` on its own line -> a labelled line to write on by hand. Lines next
    to each other (blank lines between them allowed) are one group, which a page break
    does not split: "Date of my procedure" and "Stop eating and drinking from" belong
    together on the paper a patient fills in."""

    def run(self, lines):
        out, group, blanks = [], [], []
        for line in lines:
            match = _FILL_IN.match(line.strip())
            if match:
                label = html.escape(match.group("label").strip())
                group.append(f'<p class="fill-in"><span class="fill-label">{label}:</span>'
                             f'<span class="fill-line"></span></p>')
                blanks = []
            elif group and not line.strip():
                blanks.append(line)
            else:
                out.extend(self._group(group) + blanks)
                group, blanks = [], []
                out.append(line)
        return out + self._group(group) + blanks

    def _group(self, blocks: list[str]) -> list[str]:
        if not blocks:
            return []
        block = blocks[0] if len(blocks) == 1 else \
            '<div class="fill-in-group">' + "".join(blocks) + "</div>"
        return ["", self.md.htmlStash.store(block), ""]


class _Leaflet(Treeprocessor):
    """Tick boxes, figures with captions, and checked links and images."""

    def __init__(self, md, state: _State):
        super().__init__(md)
        self.state = state

    def run(self, root):
        for parent in list(root.iter()):
            for index, child in enumerate(list(parent)):
                if child.tag == "p" and len(child) == 1 and child[0].tag == "img" \
                        and not (child.text or "").strip() and not (child[0].tail or "").strip():
                    parent[index] = self._figure(child[0])
        for element in root.iter():
            if element.tag == "li":
                self._task(element)
            elif element.tag == "img":
                self._image(element)
            elif element.tag == "a":
                self._link(element)
        for ul in root.iter("ul"):
            if any("task" in (li.get("class") or "") for li in ul):
                ul.set("class", "checklist")
        for kind in ("ul", "ol"):   # a short list is kept whole on one page
            for listing in root.iter(kind):
                if len(listing) <= 4:
                    listing.set("class", ((listing.get("class") or "") + " short").strip())

    def _task(self, li):
        target = li[0] if len(li) and li[0].tag == "p" and not (li.text or "").strip() else li
        match = _TASK.match(target.text or "")
        if not match:
            return
        target.text = target.text[match.end():]
        li.set("class", "task")
        # A marker, not the box: the sanitiser allows no SVG (render_body puts it in).
        ticked = match.group("mark") in "xX"
        target.text = TICK_MARKERS[ticked] + target.text

    def _figure(self, img):
        figure = etree.Element("figure", {"class": "diagram"})
        figure.append(img)
        caption = img.get("title")
        if caption:
            figcaption = etree.SubElement(figure, "figcaption")
            figcaption.text = caption
            del img.attrib["title"]
        return figure

    def _image(self, img):
        src, alt = img.get("src", ""), (img.get("alt") or "").strip()
        url = self.state.image_url(src)
        if not alt:
            self.state.problems.append(Problem(
                f"image {src!r} has no alt text", file=self.state.topic.path,
                code="missing-alt",
                hint="write ![what the picture shows](path)"))
        if url is None:
            img.set("src", "")
        else:
            img.set("src", url)
            self.state.images.append((url, alt))
            if _wide(url):   # a diagram: large print sets it the column's width
                img.set("class", "wide")

    def _link(self, a):
        href = a.get("href", "")
        if AMP_SUBSTITUTE in href:
            # An e-mail autolink, <nurse@example.org>: markdown hides the address from
            # spam robots as character references; the check needs the real mailto:.
            href = html.unescape(href.replace(AMP_SUBSTITUTE, "&"))
            a.set("href", href)
        if href.startswith("#"):
            self.state.internal_links.append(href[1:])
            a.set("href", f"#{self.state.prefix}{href[1:]}")
        elif not re.match(r"^(https?:|mailto:|tel:)", href, re.I):
            self.state.refuse(href, "link", "links may point to web pages (https://...), "
                                            "mailto: or tel: only")
            del a.attrib["href"]


class _State:
    def __init__(self, topic: Topic, content_dirs: list[Path], prefix: str):
        self.topic, self.content_dirs, self.prefix = topic, content_dirs, prefix
        self.images: list[tuple[str, str]] = []
        self.problems: list[Problem] = []
        self.refused: list[Problem] = []
        self.internal_links: list[str] = []
        self.looked_up = 0   # images looked up in the library

    def refuse(self, target: str, kind: str, hint: str) -> None:
        self.refused.append(Problem(f"{kind} to {target!r} refused", file=self.topic.path,
                                    hint=hint, code="unsafe-resource"))

    def image_url(self, src: str) -> str | None:
        """The file URI of a library image, or None (and a refusal) for anything else."""
        hint = "images must be files in the library's content/images folder"
        self.looked_up += 1
        if re.match(r"^[a-z][a-z0-9+.-]*:", src, re.I) or src.startswith(("/", "\\")):
            self.refuse(src, "image", hint)
            return None
        if Path(src).suffix.lower() not in IMAGE_TYPES:
            self.refuse(src, "image", "use an SVG, PNG or JPEG image")
            return None
        for folder in self.content_dirs:
            real_folder = os.path.realpath(folder)
            candidate = os.path.realpath(os.path.join(folder, src))
            if os.path.commonpath([candidate, real_folder]) != real_folder:
                self.refuse(src, "image", hint)
                return None
            if os.path.isfile(candidate):
                record.read(candidate)
                if candidate.lower().endswith(".svg"):
                    check_svg_file(Path(candidate))
                else:   # whole, and not a huge picture
                    check_raster_file(Path(candidate))
                return Path(candidate).as_uri()
            record.missed(candidate)
        self.problems.append(Problem(f"image {src!r} not found", file=self.topic.path,
                                     code="missing-image",
                                     hint=f"put it in {self.content_dirs[0] / 'images'}"))
        return None


class _LeafletExtension(Extension):
    def __init__(self, state: _State):
        super().__init__()
        self.state = state

    def extendMarkdown(self, md):   # markdown's API name
        # No raw HTML, block or inline: it is escaped and shown as text.
        md.preprocessors.deregister("html_block")
        md.inlinePatterns.deregister("html")
        md.preprocessors.register(_FillInLines(md), "fill_in", 25)
        md.treeprocessors.register(_Leaflet(md, self.state), "leaflet", 5)


# Bodies converted in this process: (body, prefix, folders, file) -> (HTML, problems,
# internal links). A body is the same in every clinic's copy of a topic (its fields are
# markers until after the conversion), so a batch converts each topic once.
_CONVERTED: dict[tuple, tuple[str, list[Problem], list[str]]] = {}
_CONVERTED_AT_MOST = 512


def _converted(body: str, state: _State) -> str:
    """The body as sanitised HTML (markdown, then nh3), noting in `state` what was
    found on the way. A conversion that looked up no image and refused nothing is
    kept and used again for the same body: the rest is the same text turned into the
    same HTML. One with images is made again each time, as looking them up reads the
    library's files (and records them as the document's inputs)."""
    key = (body, state.prefix, tuple(map(str, state.content_dirs)), str(state.topic.path))
    kept = _CONVERTED.get(key)
    if kept is not None:
        clean, problems, links = kept
        state.problems += problems
        state.internal_links += links
        return clean
    prefix = state.prefix
    md = markdown.Markdown(
        extensions=["tables", "admonition", "sane_lists", "toc", _LeafletExtension(state)],
        extension_configs={"toc": {"slugify": lambda value, sep: prefix + _slug(value, sep),
                                   "toc_depth": "2-3"}},
        output_format="html",
    )
    raw = md.convert(body)
    clean = nh3.clean(raw, tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES,
                      allowed_classes=ALLOWED_CLASSES, attribute_filter=_attribute_filter,
                      url_schemes={"http", "https", "mailto", "tel", "file"},
                      link_rel=None, strip_comments=True)
    if not state.looked_up and not state.refused:
        if len(_CONVERTED) >= _CONVERTED_AT_MOST:
            _CONVERTED.clear()
        _CONVERTED[key] = (clean, list(state.problems), list(state.internal_links))
    return clean


def _attribute_filter(element: str, attribute: str, value: str) -> str | None:
    # Second line of defence after the treeprocessor: only library files as images,
    # only web, mail and phone links.
    if element == "img" and attribute == "src":
        return value if value.startswith("file:///") else None
    if element == "a" and attribute == "href":
        return value if re.match(r"^(https?:|mailto:|tel:|#)", value, re.I) else None
    return value


def _line_of(text: str, offset: int, first_line: int) -> int:
    return first_line + text.count("\n", 0, offset)


def render_body(topic: Topic, clinic: ClinicProfile | None, content_dirs: list[Path],
                prefix: str = "", gettext=str) -> MarkupResult:
    """Convert a topic body to safe HTML, with clinic fields filled in; `gettext`
    words what the reader hears of a tick box in the document's language."""
    state = _State(topic, content_dirs, prefix)
    body, fields_used, field_problems = _check_placeholders(topic, clinic)
    field_problems += _raw_html(topic)
    clean = _converted(body, state)
    if state.refused:
        raise UnsafeResourceError(problems=state.refused)
    field_problems += [p for p in state.problems if p.code == "missing-image"]
    if any(p.severity == "error" for p in field_problems):
        raise ValidationError(problems=field_problems)
    values = clinic.fields() if clinic else {}
    rtl = direction(topic.meta.language or "en") == "rtl"
    clean = re.sub(r"<p>\s*\ue000URGENT_HELP\ue001\s*</p>|\ue000URGENT_HELP\ue001", URGENT_MARKER,
                   clean)
    # quote=True: a marker may sit inside an attribute (an image's alt or title),
    # where a clinic name with `"` would otherwise end the attribute and add its own.
    clean = re.sub(r"\ue000FIELD:([a-z_]+)\ue001",
                   lambda m: html.escape(_keep_together(m.group(1), values.get(m.group(1), ""),
                                                        rtl), quote=True), clean)
    clean = keep_together(clean, rtl)
    text = plain_text(clean)
    for ticked, marker in TICK_MARKERS.items():
        clean = clean.replace(marker, _tick_box(ticked, gettext))
    ids = set(re.findall(r'\sid="([^"]+)"', clean))
    return MarkupResult(html=clean, text=text, images=state.images,
                        problems=[p for p in state.problems if p.code != "missing-image"],
                        fields_used=fields_used,
                        heading_ids=ids, internal_links=state.internal_links)


def _tick_box(ticked: bool, gettext=str) -> str:
    words = html.escape(gettext(TICK_BOX_WORDS[ticked]), quote=True)
    return (f'<svg class="tickbox{" ticked" if ticked else ""}" viewBox="0 0 10 10" '
            f'role="img" aria-label="{words}"><title>{words}</title></svg>')


_NUMBERS = {"phone", "urgent_phone", "emergency_number"}
# A dose or temperature kept together (below), for isolating in right-to-left text:
# "38 °C (100.4 °F)" must not print as "C (100.4 °F)° 38".
_ISOLATE = re.compile(r"\d+(?:[.,]\d+)?\u00a0(?:°[CF]|(?:mg|micrograms?|IU|ml|mL|g|kg)\b)")
_MONTHS = ("January|February|March|April|May|June|July|August|September|October|"
           "November|December")
# A no-break space between the parts of what must never be broken across lines
# (preflight checks the laid-out page for the same things).
_TOGETHER = [re.compile(p, re.I if "zoledronic" in p else 0) for p in (
    r"(\d) ((?:mg|micrograms?|IU|ml|mL|g|kg)\b)",             # 500 mg
    r"(\d) (°[CF])",                                          # 38 °C
    rf"\b(\d{{1,2}}) ({_MONTHS}) (\d{{4}})\b",                  # 1 November 2029
    rf"\b({_MONTHS}) (\d{{4}})\b",                              # November 2029
    r"\b(zoledronic) (acid)\b",
)]


def _wide(url: str) -> bool:
    """True for an SVG drawn 300 px or wider (a diagram, not an icon)."""
    if not url.lower().endswith(".svg"):
        return False
    try:
        with uninterrupted(), open(unquote(url.removeprefix("file://")), "rb") as handle:
            head = handle.read(2048).decode("utf-8", "replace")
    except OSError:
        return False
    match = re.search(r'<svg[^>]*?\swidth="(\d+(?:\.\d+)?)(?:px)?"', head)
    return bool(match) and float(match.group(1)) >= 300


def keep_together(text: str, rtl: bool = False) -> str:
    """Doses, temperatures, dates and drug names in HTML text, their spaces made
    no-break spaces (only between words and numbers: tags hold none of these); in
    right-to-left text, doses and temperatures also isolated left to right."""
    for pattern in _TOGETHER:
        text = pattern.sub(lambda m: "\u00a0".join(m.groups()), text)
    return _ISOLATE.sub(lambda m: f"\u2066{m.group(0)}\u2069", text) if rtl else text


def _keep_together(name: str, value: str, rtl: bool = False) -> str:
    # A phone number is one word on paper, and reads left to right in any language:
    # in Arabic text, between LEFT-TO-RIGHT ISOLATE and POP DIRECTIONAL ISOLATE, or
    # the bidi algorithm would print "020 7946 0999" as "0999 7946 020".
    if name not in _NUMBERS:
        return value
    value = value.replace(" ", "\u00a0")
    return f"\u2066{value}\u2069" if rtl else value


def _check_placeholders(topic: Topic, clinic: ClinicProfile | None):
    """Replace {{ clinic.x }} and {{ urgent_help }} with inert markers; refuse the rest.

    Topic text is never run through a template engine: only these two forms exist,
    so there is nothing to reach Python internals with.
    """
    problems: list[Problem] = []
    used: set[str] = set()
    known = set(clinic.fields()) if clinic else None
    from .models import Clinic  # noqa: PLC0415

    possible = {"name", "department", "phone", "phone_label", "urgent_phone",
                "urgent_label", "emergency_number", "website", "email", "address"}
    assert possible <= set(Clinic.model_fields) | {"address"}

    def replace(match: re.Match) -> str:
        expr = (match.group("expr") or "").strip() if match.group(0).startswith("{{") else None
        line = _line_of(topic.body, match.start(), topic.body_line)
        if expr == "urgent_help":
            return "\n\n\ue000URGENT_HELP\ue001\n\n"
        field_match = _FIELD.fullmatch(expr or "")
        if not field_match or field_match.group("name") not in possible:
            problems.append(Problem(
                f"template code {match.group(0)[:60]!r} is not allowed in topic text",
                file=topic.path, line=line, code="template",
                hint="use {{ clinic.phone }}, {{ clinic.urgent_phone }}, {{ clinic.name }} "
                     "... or {{ urgent_help }}"))
            return ""
        name = field_match.group("name")
        used.add(name)
        if known is not None and name not in known:
            problems.append(Problem(
                f"uses {{{{ clinic.{name} }}}} but the clinic profile has no {name!r}",
                file=topic.path, line=line, code="missing-clinic-field",
                hint=f"add {name} to clinic.toml or remove it from the topic"))
        return f"\ue000FIELD:{name}\ue001"

    body = _PLACEHOLDER.sub(replace, topic.body.replace("\ue000", "").replace("\ue001", ""))
    return body, used, problems


# A tag may run over lines (`<img` then `src=x>` below it), never over a blank line.
# Autolinks, <https://...> and <nurse@example.org>, have no space after their first
# word and never match.
_RAW_TAG = re.compile(r"</?[a-zA-Z][a-zA-Z0-9-]*(?:\s(?:[^<>\n]|\n(?![ \t]*\r?\n))*)?/?>"
                      r"|<!--")


def _raw_html(topic: Topic) -> list[Problem]:
    """Raw HTML tags in a topic: refused, with the line, rather than printed as text."""
    text = _without_code(topic.body)
    problems, line, counted = [], topic.body_line, 0
    for match in _RAW_TAG.finditer(text):
        line += text.count("\n", counted, match.start())   # counted once: linear
        counted = match.start()
        problems.append(Problem(
            f"raw HTML {' '.join(match.group(0).split())[:60]!r} is not allowed in topics",
            file=topic.path, line=line, code="raw-html",
            hint="use markdown instead, e.g. ![alt text](images/picture.svg)"))
    return problems


def _without_code(body: str) -> str:
    """`body` with ``` blocks and `code spans` blanked, its newlines kept for line numbers."""
    lines, in_code = [], False
    for line in body.split("\n"):
        fence = line.lstrip().startswith("```")
        in_code ^= fence
        lines.append("" if in_code or fence else
                     re.sub(r"`[^`]*`", lambda m: " " * len(m.group(0)), line))
    return "\n".join(lines)


def _slug(value: str, separator: str) -> str:
    value = re.sub(r"[^\w\s-]", "", value.lower()).strip()
    return re.sub(r"[\s_-]+", separator, value)[:60] or "section"


def plain_text(fragment: str) -> str:
    """Text of an HTML fragment, one line per block, for reading-level measures."""
    # Soft line breaks inside a paragraph are not sentence ends; block ends are.
    text = re.sub(r"\s*\n\s*", " ", fragment)
    text = re.sub(r"</(p|li|h\d|dt|dd|td|th|figcaption|div)>|<br\s*/?>", "\n", text)
    text = re.sub(r"<[^>]+>", " ", text)
    text = re.sub(r"\ue000[^\ue001]*\ue001", " ", text)
    return html.unescape(re.sub(r"[ \t]+", " ", text))
