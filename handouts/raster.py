"""Raster images: decide whether a PNG or JPEG from the library is whole and safe to print.

WeasyPrint embeds what it is given: a PNG cut short by a failed copy prints as half a
logo, with no warning, and a file that is not an image at all is left out of the page
with only a log line. A small file can also declare a huge picture (a "decompression
bomb": 1 MB of PNG that unpacks to gigabytes of pixels). So each raster image a
document uses is opened with Pillow (which WeasyPrint already depends on) before it
is laid out, and refused with its file and the fix when:

- it is not the format its name says (a renamed file, an HTML error page);
- it declares more than MAX_PIXELS pixels (read from its header, before decoding);
- it does not decode to the end (cut short, or damaged).

A file that passed is remembered by its format and contents for the process (a logo is in
every document of a batch), so it is decoded once.
"""

from __future__ import annotations

import hashlib
import threading
import warnings
from io import BytesIO
from pathlib import Path

from .errors import ValidationError
from .files import MAX_ASSET_BYTES, read_file

# 40 million pixels: a full-page photo at 300 dpi on A4 is under 9 million.
MAX_PIXELS = 40_000_000
FORMATS = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG"}
_HINT = "open it in an image editor and export it again as {format}"
_SMALLER = "scale it down: 300 pixels an inch at its printed size is enough"
_TRUNCATED_ARE_ERRORS = threading.Lock()
_PASSED: set[tuple[str, bytes]] = set()   # (format, digest) of images that passed


def check_raster(data: bytes, path: Path, field: str | None = None) -> None:
    """Refuse a PNG or JPEG (by `path`'s suffix) that is not whole (see the module)."""
    expected = FORMATS[path.suffix.lower()]
    digest = (expected, hashlib.blake2b(data, digest_size=16).digest())
    if digest in _PASSED:
        return
    from PIL import Image, ImageFile  # noqa: PLC0415 - Pillow, only for raster images

    hint = _HINT.format(format=expected)
    try:
        # WeasyPrint sets LOAD_TRUNCATED_IMAGES for the whole process (a cut image is
        # padded with grey, without a word): here, and only while one image is
        # checked, a cut image is an error again. A render on another thread meanwhile
        # (the print desk's) sees no difference for topics' and clinics' pictures,
        # which have all passed this check; only a cut picture in the library's own
        # stylesheets would fail that render instead of printing padded.
        with _TRUNCATED_ARE_ERRORS, warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            padded, ImageFile.LOAD_TRUNCATED_IMAGES = ImageFile.LOAD_TRUNCATED_IMAGES, False
            try:
                with Image.open(BytesIO(data), formats=[expected]) as image:
                    width, height = image.size
                    if width * height > MAX_PIXELS:
                        raise ValidationError(
                            f"image is {width} x {height} pixels, more than "
                            f"{MAX_PIXELS // 1_000_000} million", file=path, field=field,
                            code="image-size", hint=_SMALLER)
                    image.load()
            finally:
                ImageFile.LOAD_TRUNCATED_IMAGES = padded
    except ValidationError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ValidationError(f"image has more than {MAX_PIXELS // 1_000_000} million pixels",
                              file=path, field=field, code="image-size",
                              hint=_SMALLER) from None
    except Image.UnidentifiedImageError:
        raise ValidationError(f"file is not a {expected} image", file=path, field=field,
                              code="damaged-image", hint=hint) from None
    except (OSError, SyntaxError, ValueError) as error:
        raise ValidationError(f"{expected} image is damaged or cut short ({error})",
                              file=path, field=field, code="damaged-image",
                              hint=hint) from None
    if len(_PASSED) > 1024:
        _PASSED.clear()
    _PASSED.add(digest)


def check_raster_file(path: Path, field: str | None = None) -> None:
    """Read a PNG or JPEG of the library (files.read_file: bounded, no FIFO, no link
    out) and check it; a file over MAX_ASSET_BYTES is refused as the renderer would."""
    check_raster(read_file(path, MAX_ASSET_BYTES, field=field), path, field)
