"""handouts: branded, printable patient-education leaflets and booklets from markdown.

The public API, for scripts and tests:

    import handouts
    library = handouts.load_library()            # the library around the current folder
    results = handouts.build(["bone-metastases"], clinic="riverside-oncology")

Names are imported lazily so that `import handouts` (and `handouts --help`) stays fast.
"""

from __future__ import annotations

from importlib import import_module

__version__ = "0.1.0"

__all__ = ["build", "build_booklet", "load_library", "HandoutsError", "Library",
           "Topic", "TopicMeta", "Clinic", "ClinicProfile", "BuildResult", "__version__"]

_LAZY = {
    "build": "build", "build_booklet": "build", "BuildResult": "build",
    "load_library": "build",
    "HandoutsError": "errors", "Library": "library", "Topic": "models",
    "TopicMeta": "models", "Clinic": "models", "ClinicProfile": "models",
}


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module 'handouts' has no attribute {name!r}")
