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

_CSS_COMMENT = re.compile(r"/\*.*?(?:\*/|\Z)", re.DOTALL)
_CSS_URL = re.compile(r"url\(\s*(?:\"([^\"]*)\"|'([^']*)'|([^)'\"]*))\s*\)", re.IGNORECASE)
_CSS_DANGER = re.compile(r"expression\s*\(|javascript:|vbscript:|-moz-binding|behavior\s*:|@import",
                         re.IGNORECASE)
_STYLE_BLOCK = re.compile(r"(<style[^>]*>)(.*?)(</style>)", re.DOTALL | re.IGNORECASE)


@dataclass
class SanitizedHtml:
    html: str
    blocked_images: int = 0  # remote images left out; the page offers "Show images" when > 0
    cids: set[str] = field(default_factory=set)  # content ids shown inline (not listed again as files)


CidUrl = Callable[[str], str | None]


class _Rewriter:
    """Per-message URL policy, called by ammonia for every kept attribute and by the CSS filter."""

    def __init__(self, cid_url: CidUrl | None, allow_remote: bool) -> None:
        self.cid_url = cid_url
        self.allow_remote = allow_remote
        self.result = SanitizedHtml("")

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
            return sanitize_css(value, self) or None
        if (tag, attr) in _IMAGE_ATTRS:
            return self.image(value)
        if attr == "href":
            return self.link(value)
        return value


def sanitize_css(css: str, rewriter: _Rewriter | None = None) -> str:
    """Neutralise the dangerous parts of a style sheet or style attribute: comments and escapes (which
    hide keywords from filters), expressions, bindings, @import and url()s other than allowed images."""
    # Removed outright (not replaced by a space): old engines read "expr/**/ession" as one word.
    css = _CSS_COMMENT.sub("", css).replace("\\", "")
    css = _CSS_DANGER.sub("x-blocked", css)

    def url(match: re.Match[str]) -> str:
        target = next((g for g in match.groups() if g is not None), "")
        kept = rewriter.image(target) if rewriter else None
        # `none` keeps the declaration valid; an empty url() would fetch the page itself.
        return f'url("{kept}")' if kept and '"' not in kept else "none"

    return _CSS_URL.sub(url, css)


def _sheet(css: str, rewriter: _Rewriter) -> str:
    # Removing comments and backslashes can join characters into a new "</style"; a style sheet has
    # no use for "<" outside strings, so none survives and the block cannot end early.
    css = css.replace("<!--", " ").replace("-->", " ")
    return sanitize_css(css, rewriter).replace("<", "")


def sanitize_email_html(source: str, *, cid_url: CidUrl | None = None, allow_remote: bool = False) -> SanitizedHtml:
    """Sanitise one message's HTML. ``cid_url`` maps a content id to the URL serving that part (None
    when the message has no such part); ``allow_remote`` is the reader's "Show images" choice."""
    rewriter = _Rewriter(cid_url, allow_remote)
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
    cleaned = cleaner.clean(source)
    # ammonia keeps <style> text as raw text (it cannot parse CSS): it ends at the first </style>, so
    # the blocks are found reliably in its output and filtered like style attributes.
    cleaned = _STYLE_BLOCK.sub(lambda m: m.group(1) + _sheet(m.group(2), rewriter) + m.group(3), cleaned)
    rewriter.result.html = cleaned
    return rewriter.result


_TEXT_BREAK_TAGS = {"br", "p", "div", "tr", "li", "table", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote"}
_TEXT_CLEANER = nh3.Cleaner(
    tags=_TEXT_BREAK_TAGS, attributes={}, link_rel=None,
    clean_content_tags={"script", "style", "title", "noscript", "template", "svg", "math"},
)
_BREAK = re.compile(r"<br>|</(?:p|div|tr|li|table|h[1-6]|blockquote)>")
_TAG = re.compile(r"<[^>]*>")
_SPACES = re.compile(r"[ \t\r\f\v\xa0]+")
_BLANK_LINES = re.compile(r"\n{3,}")


def html_to_text(source: str, limit: int = 1_000_000) -> str:
    """A plain-text rendering of mail HTML for previews and the search index (not for display: the
    output is text, to be escaped like any other). ammonia does the parsing, so this is linear time
    on hostile input, unlike regular expressions over raw HTML."""
    text = _TAG.sub("", _BREAK.sub("\n", _TEXT_CLEANER.clean(source[:limit])))
    lines = (_SPACES.sub(" ", line).strip() for line in html_lib.unescape(text).split("\n"))
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


_REMOTE_REFERENCE = re.compile(
    r"""(?:\bsrc|\bbackground)\s*=\s*["']?\s*https?:|url\(\s*["']?\s*https?:""", re.IGNORECASE
)


def has_remote_content(source: str) -> bool:
    """Whether the HTML refers to remote images (cheap: decides if "Show images" is offered)."""
    return bool(_REMOTE_REFERENCE.search(source))
