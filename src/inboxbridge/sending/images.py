"""Images a writer inserts into the text of a message: which ones are accepted, told by their content.

The declared type is the browser's guess from the file name (or whatever a crafted request says),
so it decides nothing on its own: the first bytes must be those of an image every mail client
shows inline. No image library is a dependency of inboxbridge (no Pillow, `filetype` or
`puremagic`), and the four formats have fixed signatures at the start of the file, which is all
a check needs. SVG is refused whatever it is called: it is XML that may carry scripts and links,
and recipients' clients handle it unevenly."""

from __future__ import annotations

import unicodedata

# What each accepted format starts with. WebP is a RIFF container: "RIFF", its size, then "WEBP".
_SIGNATURES: tuple[tuple[str, bytes, int], ...] = (
    ("image/png", b"\x89PNG\r\n\x1a\n", 0),
    ("image/jpeg", b"\xff\xd8\xff", 0),
    ("image/gif", b"GIF87a", 0),
    ("image/gif", b"GIF89a", 0),
    ("image/webp", b"WEBP", 8),
)
ACCEPTED = "PNG, JPEG, GIF or WebP"
# The file picker's `accept`: the formats above, so the picker offers images first.
ACCEPT_ATTRIBUTE = "image/png,image/jpeg,image/gif,image/webp"
FILENAME_MAX_CHARS = 200
_UNKNOWN = {"", "application/octet-stream"}


class ImageRefused(Exception):
    """Why a file cannot be inserted, in words for the writer."""


def sniffed_type(data: bytes) -> str | None:
    """The image type the content starts with, or None when it is none of the accepted ones."""
    for content_type, signature, offset in _SIGNATURES:
        if data[offset:offset + len(signature)] == signature and (offset == 0 or data.startswith(b"RIFF")):
            return content_type
    return None


def image_type(filename: str, declared_type: str, data: bytes) -> str:
    """The type to send the image as (its content's, not the declared one), or ImageRefused."""
    declared = declared_type.split(";", 1)[0].strip().lower()
    shown = filename or "The file"
    if "svg" in declared or filename.lower().endswith((".svg", ".svgz")):
        raise ImageRefused(f"“{shown}” is an SVG image, which cannot be inserted: it can carry scripts. "
                           f"Insert a {ACCEPTED} image instead.")
    # A browser that cannot tell a file's type says so ("" or application/octet-stream): its content decides.
    if declared not in _UNKNOWN and not declared.startswith("image/"):
        raise ImageRefused(f"“{shown}” is not an image. Insert a {ACCEPTED} image, or attach the file "
                           "with Attach files.")
    found = sniffed_type(data)
    if found is None:
        raise ImageRefused(f"“{shown}” is not a {ACCEPTED} image: its content is something else "
                           "(or it is damaged).")
    return found


def image_filename(filename: str, content_type: str) -> str:
    """The name the image part carries: no control characters (a header line), not too long."""
    name = "".join(ch for ch in filename if unicodedata.category(ch)[0] != "C").strip()
    return name[-FILENAME_MAX_CHARS:] or f"image.{content_type.partition('/')[2]}"
