"""Sanitising the HTML of received mail for display (nh3, the Python binding of ammonia).

Mail HTML is hostile input. The allowlists below keep what mail needs to look right (tables, inline
styles, <style> blocks, images) and drop everything active: scripts, event handlers, forms, frames,
objects, javascript: and other non-web URLs, CSS expressions and bindings. Remote content (images,
CSS backgrounds) is blocked unless the reader allowed it for this message, because loading it tells
the sender that and when the mail was read. Images sent inside the message (cid: URLs) are rewritten
to an owner-checked route of the application and never fetched from the network.

The sanitised markup is served in a sandboxed frame under a Content-Security-Policy without scripts
(see inboxbridge.mail.views): this module is one of two fences, not the only one.
"""

from __future__ import annotations

import html as html_lib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import unquote

import nh3

from .css import sanitize_declarations, sanitize_stylesheet
from .mime_text import size_text, utf8_prefix

__all__ = ["SanitizedHtml", "has_remote_content", "html_to_text", "sanitize_css", "sanitize_email_html"]

TAGS = {
    "a", "abbr", "address", "article", "aside", "b", "bdi", "bdo", "big", "blockquote", "br", "caption",
    "center", "cite", "code", "col", "colgroup", "dd", "del", "details", "dfn", "div", "dl", "dt", "em",
    "figcaption", "figure", "font", "footer", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "i", "img",
    "ins", "kbd", "li", "main", "mark", "nav", "ol", "p", "pre", "q", "rp", "rt", "ruby", "s", "samp",
    "section", "small", "span", "strike", "strong", "style", "sub", "summary", "sup", "table", "tbody", "td",
    "tfoot", "th", "thead", "time", "tr", "tt", "u", "ul", "var", "wbr",
}
# Tags whose content is dropped with them (the text of a <title> or <script> is not part of the mail).
CLEAN_CONTENT_TAGS = {
    "script", "title", "noscript", "template", "iframe", "frame", "frameset", "object", "embed", "applet",
    "noembed", "noframes", "xmp", "textarea", "select", "button", "svg", "math", "audio", "video",
}
_GENERIC = {"align", "bgcolor", "class", "dir", "height", "lang", "style", "title", "valign", "width"}
ATTRIBUTES: dict[str, set[str]] = {
    "*": _GENERIC,
    "a": {"href", "name"},
    "img": {"alt", "border", "hspace", "src", "vspace"},
    "font": {"color", "face", "size"},
    "table": {"background", "border", "cellpadding", "cellspacing", "frame", "rules", "summary"},
    "td": {"abbr", "background", "colspan", "headers", "nowrap", "rowspan", "scope"},
    "th": {"abbr", "background", "colspan", "headers", "nowrap", "rowspan", "scope"},
    "tr": {"background"},
    "col": {"span"},
    "colgroup": {"span"},
    "ol": {"reversed", "start", "type"},
    "ul": {"type"},
    "li": {"value"},
    "time": {"datetime"},
    "hr": {"noshade", "size"},
}
# Checked by ammonia before our filter; the filter narrows further per attribute.
URL_SCHEMES = {"http", "https", "mailto", "tel", "cid", "data"}
_IMAGE_ATTRS = {("img", "src"), ("table", "background"), ("td", "background"), ("th", "background"),
                ("tr", "background")}
_DATA_IMAGE = re.compile(r"data:image/(?:png|gif|jpeg|jpg|webp|bmp);base64,[a-z0-9+/=\s]*\Z", re.IGNORECASE)
_REMOTE = re.compile(r"https?://", re.IGNORECASE)
_MAY_BE_REMOTE = re.compile(r"http|\\", re.IGNORECASE)

# What is sanitised of one message's HTML, in UTF-8 bytes (INBOXBRIDGE_HTML_MAX_BYTES): the work is
# linear, but it holds the GIL, so it is bounded too.
DEFAULT_HTML_MAX_BYTES = 2 * 1024 * 1024
# CSS (style attributes and blocks together) tokenised per message. tinycss2 is pure Python: 0.1 to
# 4.5 microseconds a character depending on the tokens (more on a busy machine), so about half a
# second at worst here; real mail has a few dozen KB. Styles past it are left out.
CSS_MAX_CHARS = 128 * 1024
CUT_NOTE = "This message is too long to show in full: only its first {size} are shown."
STYLES_CUT_NOTE = "Some of this message's styling was left out: it has more than {size} of it."


@dataclass
class SanitizedHtml:
    html: str
    blocked_images: int = 0  # remote images left out; the page offers "Show images" when > 0
    cids: set[str] = field(default_factory=set)  # content ids shown inline (not listed again as files)
    cut: bool = False  # the HTML was over HTML_MAX_BYTES: only its beginning was sanitised and shown
    styles_cut: bool = False  # the styles were over CSS_MAX_CHARS: those past it were left out


CidUrl = Callable[[str], str | None]


class _Rewriter:
    """Per-message URL policy, called by ammonia for every kept attribute and by the CSS filter."""

    def __init__(self, cid_url: CidUrl | None, allow_remote: bool) -> None:
        self.cid_url = cid_url
        self.allow_remote = allow_remote
        self.result = SanitizedHtml("")
        self.css_left = CSS_MAX_CHARS

    def image(self, url: str) -> str | None:
        url = url.strip()
        low = url.lower()
        if low.startswith("cid:"):
            cid = unquote(url[4:]).strip().strip("<>")
            target = self.cid_url(cid) if self.cid_url and cid else None
            if target:
                self.result.cids.add(cid)
            return target
        if _REMOTE.match(url):
            if self.allow_remote:
                return url
            self.result.blocked_images += 1
            return None
        if _DATA_IMAGE.match(url):
            return url
        return None  # relative, protocol-relative, other schemes: nothing the message can mean for us

    def link(self, url: str) -> str | None:
        url = url.strip()
        if _REMOTE.match(url) or url.lower().startswith(("mailto:", "tel:")):
            return url
        return None

    def attribute(self, tag: str, attr: str, value: str) -> str | None:
        if attr == "style":
            return self.style(value) or None
        if (tag, attr) in _IMAGE_ATTRS:
            return self.image(value)
        if attr == "href":
            return self.link(value)
        return value

    def style(self, css: str) -> str:
        return sanitize_declarations(css, self.image) if self.afford(css) else ""

    def sheet(self, css: str) -> str:
        return sanitize_stylesheet(css, self.image) if self.afford(css) else ""

    def afford(self, css: str) -> bool:
        if len(css) > self.css_left:
            self.result.styles_cut = True
            return False
        self.css_left -= len(css)
        return True


class _RemoteProbe(_Rewriter):
    """Only counts remote images: CSS that cannot name one (no "http", no escape) is not parsed.
    It is charged to the budget all the same, so the probe parses what the sanitiser would."""

    def __init__(self) -> None:
        super().__init__(None, allow_remote=False)

    def afford(self, css: str) -> bool:
        return super().afford(css) and _MAY_BE_REMOTE.search(css) is not None


def sanitize_css(css: str, rewriter: _Rewriter | None = None) -> str:
    """The declarations of a style attribute, without anything that could run, bind or load other
    than images the rewriter allows (none without one). See inboxbridge.lib.css."""
    return sanitize_declarations(css, rewriter.image if rewriter else lambda url: None)


def sanitize_email_html(
    source: str, *, cid_url: CidUrl | None = None, allow_remote: bool = False, max_bytes: int | None = None
) -> SanitizedHtml:
    """Sanitise one message's HTML. ``cid_url`` maps a content id to the URL serving that part (None
    when the message has no such part); ``allow_remote`` is the reader's "Show images" choice;
    ``max_bytes`` defaults to the HTML_MAX_BYTES setting."""
    limit = _html_limit(max_bytes)
    source, cut = utf8_prefix(source, limit)
    result = _sanitize(source, _Rewriter(cid_url, allow_remote))
    result.cut = cut
    # Said in the body itself, so every page showing it says it.
    notes = [CUT_NOTE.format(size=size_text(limit))] if cut else []
    if result.styles_cut:
        notes.append(STYLES_CUT_NOTE.format(size=size_text(CSS_MAX_CHARS)))
    result.html += "".join(f'<hr><p style="font-style: italic">{html_lib.escape(n)}</p>' for n in notes)
    return result


def has_remote_content(source: str, *, max_bytes: int | None = None) -> bool:
    """Whether the HTML refers to remote images that sanitising blocks: the page offers "Show
    images" then. Decided by the sanitiser's own parse, so it agrees with what is blocked."""
    source, _ = utf8_prefix(source, _html_limit(max_bytes))
    return _sanitize(source, _RemoteProbe()).blocked_images > 0


def _sanitize(source: str, rewriter: _Rewriter) -> SanitizedHtml:
    cleaner = nh3.Cleaner(
        tags=TAGS,
        clean_content_tags=CLEAN_CONTENT_TAGS,
        attributes=ATTRIBUTES,
        attribute_filter=rewriter.attribute,
        url_schemes=URL_SCHEMES,
        set_tag_attribute_values={"a": {"target": "_blank"}},
        link_rel="noopener noreferrer",
        strip_comments=True,
    )
    rewriter.result.html = _filter_style_blocks(cleaner.clean(source), rewriter.sheet)
    return rewriter.result


def _filter_style_blocks(html: str, sheet: Callable[[str], str]) -> str:
    """Run each <style> block of ammonia's output through ``sheet``. ammonia keeps a block's text as
    raw text (it cannot parse CSS), ending at the first "</style>"; everywhere else in its output a
    "<" is escaped (text and attribute values alike), and no other kept tag starts with "<style", so
    every "<style" outside a block opens one. str.find only: linear on any input."""
    out: list[str] = []
    pos = 0
    while (start := html.find("<style", pos)) != -1:
        open_end = html.find(">", start)
        if open_end == -1:
            break
        close = html.find("</style>", open_end)
        body_end = len(html) if close == -1 else close
        out += [html[pos : open_end + 1], sheet(html[open_end + 1 : body_end]), "</style>"]
        pos = body_end + len("</style>")
    out.append(html[pos:])
    return "".join(out)


def _html_limit(max_bytes: int | None) -> int:
    if max_bytes is not None:
        return max_bytes
    from django.conf import settings  # here: lib stays importable without configured settings

    return int(getattr(settings, "HTML_MAX_BYTES", DEFAULT_HTML_MAX_BYTES))


_TEXT_BREAK_TAGS = {"br", "p", "div", "tr", "li", "table", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote"}
_TEXT_CLEANER = nh3.Cleaner(
    tags=_TEXT_BREAK_TAGS, attributes={}, link_rel=None,
    clean_content_tags={"script", "style", "title", "noscript", "template", "svg", "math"},
)
# ammonia's output is well formed, with no attributes left: every tag is exactly one of these.
_TEXT_TOKEN = re.compile(r"<(/?)(\w+)>|([^<]+)")
_SPACES = re.compile(r"[ \t\n\r\f\v\xa0]+")  # in HTML a line break in the source is a space
_BLANK_LINES = re.compile(r"\n{3,}")


def html_to_text(source: str, limit: int = 1_000_000) -> str:
    """The plain-text alternative of HTML mail (not for display: the output is text, to be escaped
    like any other): a line per paragraph, item or <br>, and what a <blockquote> quotes prefixed
    with ">" per level, as mail clients show a quoted reply in plain text. ammonia does the
    parsing, so this is linear time on hostile input, unlike regular expressions over raw HTML."""
    lines: list[tuple[int, str]] = []  # (quote depth, text)
    depth, current = 0, ""

    def end_line(*, even_empty: bool) -> None:
        nonlocal current
        line = _SPACES.sub(" ", current).strip()
        if line or even_empty:
            lines.append((depth, line))
        current = ""

    for match in _TEXT_TOKEN.finditer(_TEXT_CLEANER.clean(source[:limit])):
        closing, tag, text = match.groups()
        if text is not None:
            current += html_lib.unescape(text)
        elif tag == "br":
            end_line(even_empty=True)  # an empty line the writer made (<div><br></div>)
        else:
            end_line(even_empty=False)  # a block begins or ends a line, never adds an empty one
            if tag == "blockquote":
                depth = max(depth - 1, 0) if closing else depth + 1
    end_line(even_empty=False)
    text = "\n".join(_quoted(level, line) for level, line in lines)
    return _BLANK_LINES.sub("\n\n", text).strip()


def _quoted(depth: int, line: str) -> str:
    return ">" * depth + (" " + line if line else "") if depth else line
