"""HTTP responses carrying stored message parts: attachments (always downloaded, never rendered) and
inline images (shown only when they are a plain raster image type).

A part's Content-Type comes from the sender. Served as is, text/html or image/svg+xml would run in
our origin; so only an allowlist of inert types is passed on, everything else becomes
application/octet-stream, and every response forbids sniffing, scripts and framing. No cache may
keep a part (the views are `never_cache`), not even the reader's browser after they sign out.
"""

from __future__ import annotations

import logging
import mimetypes
import re
import unicodedata
from urllib.parse import quote

from django.http import FileResponse, HttpResponse, HttpResponseNotFound
from django.http.response import HttpResponseBase

from inboxbridge.mail.blobs import ContentMissing, open_blob
from inboxbridge.mail.models import Attachment, Blob, Email
from inboxbridge.mail.original import original_filename

logger = logging.getLogger(__name__)

INLINE_IMAGE_TYPES = {"image/png", "image/jpeg", "image/gif", "image/webp", "image/bmp"}
_SAFE_TYPES = INLINE_IMAGE_TYPES | {
    "image/tiff", "application/pdf", "application/zip", "application/gzip", "application/x-zip-compressed",
    "application/x-7z-compressed", "application/msword", "application/rtf", "application/vnd.ms-excel",
    "application/vnd.ms-powerpoint", "application/vnd.ms-outlook", "application/ics", "text/plain", "text/csv",
    "text/calendar", "message/rfc822", "application/octet-stream",
}
_SAFE_PREFIXES = (
    "audio/", "video/", "application/vnd.openxmlformats-officedocument.", "application/vnd.oasis.opendocument.",
)
_TOKEN_TYPE = re.compile(r"[a-z0-9][a-z0-9!#$&^_.+-]{0,126}/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}")
_FALLBACK_UNSAFE = re.compile(r"[^A-Za-z0-9._ ()\[\]+,=@~-]+")
# No scripts, plugins, frames or styles, even if a browser decides to render the body anyway.
PART_CSP = "default-src 'none'; sandbox"


def safe_content_type(declared: str) -> str:
    kind = declared.split(";", 1)[0].strip().lower()
    if _TOKEN_TYPE.fullmatch(kind) and (kind in _SAFE_TYPES or kind.startswith(_SAFE_PREFIXES)):
        return kind
    return "application/octet-stream"


def download_name(part: Attachment) -> str:
    name = "".join(ch for ch in part.filename if unicodedata.category(ch)[0] != "C")
    name = name.replace("/", "_").replace("\\", "_").strip(" .")
    if name:
        return name[:200]
    extension = mimetypes.guess_extension(safe_content_type(part.content_type)) or ".bin"
    return f"attachment-{part.position + 1}{extension}"


def content_disposition(disposition: str, filename: str) -> str:
    """RFC 6266: an ASCII `filename` for old clients and the exact name as UTF-8 in `filename*`."""
    ascii_name = unicodedata.normalize("NFKD", filename).encode("ascii", "ignore").decode("ascii")
    ascii_name = _FALLBACK_UNSAFE.sub("_", ascii_name).strip(" ._") or "attachment"
    return f"{disposition}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename, safe='')}"


def _response(part: Attachment, content_type: str, disposition: str) -> HttpResponseBase:
    assert part.blob is not None
    return _blob_response(part.blob, content_type, content_disposition(disposition, download_name(part)),
                          f"Attachment {part.pk}")


def _blob_response(blob: Blob, content_type: str, disposition: str, what: str) -> HttpResponseBase:
    try:
        content = open_blob(blob)
    except ContentMissing as exc:
        logger.error("%s (blob %s): %s", what, blob.pk, exc)
        return HttpResponseNotFound("The content of this attachment is missing on the server. "
                                    "Please tell your administrator.", content_type="text/plain; charset=utf-8")
    # Streamed from the file (or the row): a 25 MB attachment is not held in memory whole.
    response: HttpResponseBase = FileResponse(content, content_type=content_type)
    return _inert(response, disposition)


def _inert(response: HttpResponseBase, disposition: str) -> HttpResponseBase:
    """No sniffing, scripts or framing, whatever the content."""
    response["Content-Disposition"] = disposition
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = PART_CSP
    response["X-Frame-Options"] = "DENY"
    return response


def attachment_response(part: Attachment) -> HttpResponseBase:
    return _response(part, safe_content_type(part.content_type), "attachment")


def inline_image_response(part: Attachment) -> HttpResponseBase:
    kind = safe_content_type(part.content_type)
    if kind not in INLINE_IMAGE_TYPES:
        return attachment_response(part)
    return _response(part, kind, "inline")


def stored_image_response(blob: Blob, content_type: str, filename: str, what: str) -> HttpResponseBase:
    """An image kept outside received mail (one inserted into a draft), served as an inline part is:
    shown only when its type is a plain raster image, downloaded otherwise."""
    kind = safe_content_type(content_type)
    disposition = "inline" if kind in INLINE_IMAGE_TYPES else "attachment"
    return _blob_response(blob, kind, content_disposition(disposition, filename or "image"), what)


def original_response(raw: bytes, email: Email) -> HttpResponseBase:
    """A message's original bytes as a .eml download (never shown in the browser)."""
    return _inert(HttpResponse(raw, content_type="message/rfc822"),
                  content_disposition("attachment", original_filename(email)))
