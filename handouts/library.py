"""Library: where a handout library's files are, layered over the bundled defaults.

A handout library is a folder with `content/`, `clinics/`, `templates/` and
`styles/`. Lookups search the user's library first and the defaults bundled with
the package second, so a library overrides only what it changes.
"""

from __future__ import annotations

import difflib
import os
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from . import record
from .errors import UsageError, ValidationError
from .timelimit import uninterrupted

KINDS = ("content", "clinics", "templates", "styles", "booklets")
MANIFEST_NAME = "handouts.toml"
_PACKAGE = Path(__file__).resolve().parent


def bundled_root() -> Path:
    """The defaults shipped with the package (a source checkout uses its own top level)."""
    inside = _PACKAGE / "_bundled"
    if inside.is_dir():
        return inside
    # Running from a source checkout or an editable install: the repository's
    # top-level library is the one source of the defaults.
    return _PACKAGE.parent


def is_library(path: Path) -> bool:
    """A folder is a library if it has a manifest or both content/ and clinics/."""
    return (path / MANIFEST_NAME).is_file() or (
        (path / "content").is_dir() and (path / "clinics").is_dir())


def find_library(start: Path | None = None) -> Path | None:
    """The library containing `start` (default: the current directory), if any."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if is_library(folder):
            return folder
    return None


@dataclass
class Library:
    """The ordered layers of a handout library: the user's, then the bundled defaults."""

    root: Path | None
    bundled: Path = field(default_factory=bundled_root)
    # While `listed_once` holds: each folder's file names and the topics found in them
    # (None: list afresh every time).
    _once: dict | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self):
        self.root = Path(self.root) if self.root is not None else None
        self.bundled = Path(self.bundled)

    @contextmanager
    def listed_once(self):
        """Within this block each folder is listed once. A print-desk
        page looks up every topic's editions, and each lookup listed the content
        folders again: a page of 105 topics listed them 631 times (half of its 2.5 s).
        Outside the block every lookup lists afresh (files come and go between
        commands and requests)."""
        outer, self._once = self._once, self._once if self._once is not None else {}
        try:
            yield self
        finally:
            self._once = outer

    def names(self, folder: Path) -> list[str]:
        """The names in `folder`, sorted (none if it is not a readable folder)."""
        return self._remembered(("names", folder), lambda: _listing(folder))

    def _remembered(self, key: tuple, make):
        """`make()`, made once for `key` while `listed_once` holds, else every time. What
        it raises is not remembered."""
        if self._once is None:
            return make()
        if key not in self._once:
            self._once[key] = make()
        return self._once[key]

    @classmethod
    def open(cls, path: Path | str | None = None) -> Library:
        """Open the library at `path`, or the one around the current directory."""
        if path is not None:
            root = Path(path).resolve()
            if not root.is_dir():
                raise UsageError(f"library folder {path} does not exist",
                                 hint="give --library an existing folder, or run "
                                      "`handouts init DIR` to start one")
            return cls(root)
        return cls(find_library())

    @cached_property
    def bundled_kinds(self) -> tuple[str, ...]:
        """The kinds of file the bundled defaults supply (`bundled = [...]` in handouts.toml).

        By default all of them: the shipped topics, demo clinics and booklets are
        listed beside the library's own. A clinic library that should show only its
        own topics and clinics says `bundled = ["templates", "styles"]`.
        """
        manifest = self.manifest_path()
        if manifest is None:
            return KINDS
        import re  # noqa: PLC0415
        import tomllib  # noqa: PLC0415

        try:
            # Non-blocking and bounded: every command reads this file, so a FIFO or a
            # huge file here must not hang them all.
            with uninterrupted():
                handle = os.open(manifest, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
                with os.fdopen(handle, "rb") as stream:
                    raw = stream.read(1_000_001)
            if len(raw) > 1_000_000:
                return KINDS
            text = raw.decode("utf-8")
            data = tomllib.loads(text)
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
            return KINDS  # `handouts batch` and `check` report the broken manifest itself
        except (ValueError, RecursionError) as error:
            # tomllib passes these on (a 5,000-digit number, [[[[...]]]] nested until
            # Python gives up); without this every command would end in a traceback.
            culprit = re.search(r"[0-9][0-9_]{1000}|(?:[\[{][^\[\]{}\n]{0,20}){50}", text)
            line = text[: culprit.start()].count("\n") + 1 if culprit else None
            what = "is nested too deeply" if isinstance(error, RecursionError) else \
                "has a number too long to read"
            raise ValidationError(f"the manifest {what}", file=manifest, line=line,
                                  hint="fix or remove that value") from None
        value = data.get("bundled", list(KINDS))
        if not isinstance(value, list) or not all(v in KINDS for v in value):
            line = next((n for n, row in enumerate(text.splitlines(), 1)
                         if row.lstrip().startswith("bundled")), None)
            raise ValidationError(
                f"`bundled` must be a list of {', '.join(KINDS)}, not {value!r}",
                file=manifest, line=line, field="bundled",
                hint='e.g. bundled = ["templates", "styles"] for only your own topics and '
                     "clinics")
        return tuple(value)

    @cached_property
    def layers(self) -> list[Path]:
        """Library roots, most specific first, without repeats."""
        roots: list[Path] = []
        for root in (self.root, self.bundled):
            if root is not None and root.resolve() not in roots:
                roots.append(root.resolve())
        return roots

    @property
    def output(self) -> Path:
        """Default output folder."""
        return (self.root or Path.cwd()) / "output"

    def _uses(self, root: Path, kind: str) -> bool:
        return root != self.layers[-1] or len(self.layers) == 1 or kind in self.bundled_kinds

    def dirs(self, kind: str) -> list[Path]:
        """Existing `kind` folders in layer order (the bundled one if `bundled` allows)."""
        return [root / kind for root in self.layers
                if (root / kind).is_dir() and self._uses(root, kind)]

    def search_dirs(self, kind: str) -> list[Path]:
        """The `kind` folders that lookups search, in layer order, existing or not (one
        created later is searched from then on)."""
        return [root / kind for root in self.layers if self._uses(root, kind)]

    def find(self, kind: str, name: str) -> Path | None:
        """The first layer's file `kind/name`, or None (the layers passed over are recorded:
        a file appearing there later would win)."""
        for folder in self.search_dirs(kind):
            candidate = folder / name
            if candidate.is_file():
                return candidate
            record.missed(candidate)
        return None

    def _winner(self, kind: str, found: dict[str, Path], slug: str, name: str) -> Path:
        """`found[slug]`, recording the layers before it that could have overridden it."""
        path = found[slug]
        for folder in self.search_dirs(kind):
            if path.is_relative_to(folder):
                break
            record.missed(folder / name)
        return path

    def topics(self) -> dict[str, Path]:
        """Every topic slug with the file that wins."""
        return dict(self._remembered(("topics",), self._topics))

    def _topics(self) -> dict[str, Path]:
        found: dict[str, Path] = {}
        for folder in self.dirs("content"):
            for name in self.names(folder):
                # <slug>.<language>.md is an edition of <slug> (editions.py), not a topic
                if name.endswith(".md") and not name.startswith(("_", ".")) \
                        and name.lower() != "readme.md" and "." not in name[:-3]:
                    found.setdefault(name[:-3], folder / name)
        return dict(sorted(found.items()))

    def clinics(self) -> dict[str, Path]:
        """Every clinic slug with the folder that wins."""
        found: dict[str, Path] = {}
        for folder in self.dirs("clinics"):
            for path in sorted(folder.glob("*/clinic.toml")):
                found.setdefault(path.parent.name, path.parent)
        return dict(sorted(found.items()))

    def booklets(self) -> dict[str, Path]:
        """Every declared booklet slug with the file that wins."""
        found: dict[str, Path] = {}
        for folder in self.dirs("booklets"):
            for path in sorted(folder.glob("*.toml")):
                found.setdefault(path.stem, path)
        return dict(sorted(found.items()))

    def booklet_path(self, slug: str) -> Path:
        """The file of booklet `slug`, or a UsageError naming what exists."""
        booklets = self.booklets()
        if slug in booklets:
            return self._winner("booklets", booklets, slug, f"{slug}.toml")
        raise UsageError(_unknown("booklet", slug, booklets, "handouts booklet --list"))

    def topic_path(self, slug: str) -> Path:
        """The file of topic `slug`, or a UsageError naming what exists."""
        topics = self.topics()
        if slug in topics:
            return self._winner("content", topics, slug, f"{slug}.md")
        raise UsageError(_unknown("topic", slug, topics, "handouts list"))

    def clinic_folder(self, slug: str) -> Path:
        """The folder of clinic `slug`, or a UsageError naming what exists."""
        clinics = self.clinics()
        if slug in clinics:
            return self._winner("clinics", clinics, slug, f"{slug}/clinic.toml")
        raise UsageError(_unknown("clinic", slug, clinics, "handouts clinics"))

    def asset_roots(self) -> list[Path]:
        """Folders whose files rendered documents may load (fonts, logos, images, CSS)."""
        from .fonts import font_dirs  # noqa: PLC0415 - keeps start-up lean

        roots = [root / kind for root in self.layers for kind in KINDS
                 if (root / kind).is_dir() and self._uses(root, kind)]
        return [Path(os.path.realpath(r)) for r in roots] + font_dirs()

    def manifest_path(self) -> Path | None:
        """The library's batch manifest, if it has one."""
        if self.root and (self.root / MANIFEST_NAME).is_file():
            return self.root / MANIFEST_NAME
        return None


def _listing(folder: Path) -> list[str]:
    try:
        return sorted(os.listdir(folder))
    except OSError:
        return []


def _unknown(kind: str, name: str, known: dict, command: str) -> str:
    close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.5)
    message = f"unknown {kind} {name!r}"
    if close:
        message += f"; did you mean {close[0]!r}?"
    listing = ", ".join(known) or "none"
    return f"{message}\n  {kind}s available: {listing}\n  (see `{command}`)"
