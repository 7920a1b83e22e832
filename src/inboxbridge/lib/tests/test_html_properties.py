"""Property tests of inboxbridge.lib.html: whatever CSS and HTML a message holds, the sanitised
output runs nothing, loads nothing but the images the policy allows, and keeps <style> blocks shut."""

from __future__ import annotations

import html as html_lib
import re
from collections.abc import Iterable
from html.parser import HTMLParser

import tinycss2
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tinycss2 import ast

from inboxbridge.lib.html import _Rewriter, has_remote_content, sanitize_css, sanitize_email_html

CID_ROUTE = "/mail/7/cid/logo"
PNG = "data:image/png;base64,iVBORw0KGgo="
REMOTE = "https://t.example/a.png"

CSS_PIECES = [
    "url(", ")", "(", "[", "]", "{", "}", '"', "'", "\\", "\\75 ", "\\65 ", "\\3c ", "u\\72l(", " ", "  \n\t",
    ":", ";", ",", "/*", "*/", "<", "</style", "</style>", ">", "<!--", "-->", "&", "!important",
    "image-set(", "-webkit-image-set(", "image(", "cross-fade(", "src(", "var(", "--x", "env(", "attr(",
    "expression(", "expr", "ession(", "javascript:", "java", "script:", "vbscript:", "-moz-binding", "behavior",
    "@import", "@media screen", "@font-face", "@namespace", "@-moz-document", "@keyframes k",
    "/mail/1/", "/mail/threads/3/", "//evil.example/", "cid:logo", "cid:other", PNG, REMOTE, "1x",
    "color", "red", "background", "background-image", "font-family", "format(", "local(", "p", "a",
]
css_text = st.lists(st.one_of(st.sampled_from(CSS_PIECES), st.text(max_size=3)), max_size=40).map("".join)

HTML_PIECES = [
    '<p style="', "<p style='", '">', "'>", "</p>", "<style>", "</style>", "<style media=x>", '<img src="',
    '<a href="', '<table><tr><td background="', "</td></tr></table>", "<script>", "</script>", "<!--", "-->",
    "<svg>", "</svg>", "<div>", "</div>", "&quot;", "&lt;", "&#x3c;", '"', "'", " ", "<", ">", "x",
]
html_text = st.lists(st.one_of(st.sampled_from(HTML_PIECES), css_text), max_size=30).map("".join)

PROPERTIES = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
# Functions whose strings are text (fonts, counters): a string anywhere else would be an address.
TEXT_FUNCTIONS = {"format", "local", "tech", "counters", "string", "content", "leader", "symbols", "target-text"}


def _cid(content_id: str) -> str | None:
    return CID_ROUTE if content_id == "logo" else None


def _policy(allow_remote: bool) -> _Rewriter:
    return _Rewriter(_cid, allow_remote)


def _addresses(nodes: Iterable[ast.Node], inside: str = "") -> Iterable[str]:
    """Every address the CSS could load: url tokens, url() and strings outside text functions."""
    for node in nodes:
        if isinstance(node, ast.URLToken) or (
            isinstance(node, ast.StringToken) and inside and inside not in TEXT_FUNCTIONS
        ):
            yield node.value
        elif isinstance(node, ast.FunctionBlock):
            yield from _addresses(node.arguments, node.lower_name)
        elif isinstance(node, (ast.ParenthesesBlock, ast.SquareBracketsBlock, ast.CurlyBracketsBlock)):
            yield from _addresses(node.content, inside)
        elif isinstance(node, (ast.QualifiedRule, ast.AtRule)):
            yield from _addresses(node.prelude or [], inside)
            yield from _addresses(node.content or [], inside)
        elif isinstance(node, ast.Declaration):
            yield from _addresses(node.value, inside)


def _function_names(nodes: Iterable[ast.Node]) -> Iterable[str]:
    for node in nodes:
        if isinstance(node, ast.FunctionBlock):
            yield node.lower_name
        for child in ("arguments", "content", "prelude", "value"):
            inner = getattr(node, child, None)
            if isinstance(inner, list):
                yield from _function_names(inner)


def _property_names(nodes: Iterable[ast.Node]) -> Iterable[str]:
    for node in nodes:
        if isinstance(node, ast.Declaration):
            yield node.lower_name
        elif isinstance(node, (ast.QualifiedRule, ast.AtRule)) and node.content:
            yield from _property_names(tinycss2.parse_blocks_contents(node.content))


def _assert_safe_css(css: str, allow_remote: bool, *, sheet: bool) -> None:
    squashed = re.sub(r"\s|/\*.*?\*/", "", css.lower())
    for word in ("expression(", "javascript:", "vbscript:"):
        assert word not in squashed
    nodes = tinycss2.parse_stylesheet(css) if sheet else tinycss2.parse_blocks_contents(css)
    assert not {rule.lower_at_keyword for rule in nodes if isinstance(rule, ast.AtRule)} & {
        "import", "namespace", "-moz-document", "document", "charset"}
    for name in _property_names(nodes):
        assert "behavior" not in name and "binding" not in name and not name.startswith("--")
    assert not set(_function_names(nodes)) & {"expression", "var", "env", "attr"}
    allowed = {CID_ROUTE, PNG} | ({REMOTE} if allow_remote else set())
    assert set(_addresses(nodes)) <= allowed


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.images: list[str] = []
        self.links: list[str] = []
        self.styles: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in ("src", "background") and value is not None:
                self.images.append(value)
            elif name == "href" and value is not None:
                self.links.append(value)
            elif name == "style" and value is not None:
                self.styles.append(value)


@PROPERTIES
@given(css_text, st.booleans())
def test_style_attributes_are_safe_and_stable(css: str, allow_remote: bool) -> None:
    out = sanitize_css(css, _policy(allow_remote))
    _assert_safe_css(out, allow_remote, sheet=False)
    again = sanitize_css(out, _Rewriter(None, allow_remote))  # the cid route is already an address
    assert again == out.replace(f'url("{CID_ROUTE}")', "none")


@PROPERTIES
@given(css_text, st.booleans())
def test_style_blocks_are_safe_and_stay_shut(css: str, allow_remote: bool) -> None:
    out = sanitize_email_html(f"<style>{css}</style><p>after</p>", cid_url=_cid, allow_remote=allow_remote).html
    assert out.count("<style") == out.count("</style>")
    for block in re.findall(r"<style[^>]*>(.*?)</style>", out, re.DOTALL):
        assert "<" not in block
        _assert_safe_css(block, allow_remote, sheet=True)


@PROPERTIES
@given(html_text, st.booleans())
def test_html_is_safe_and_loads_only_allowed_images(source: str, allow_remote: bool) -> None:
    result = sanitize_email_html(source, cid_url=_cid, allow_remote=allow_remote)
    out = result.html
    assert "<script" not in out.lower() and "<svg" not in out.lower()
    collector = _Collector()
    collector.feed(out)
    for url in collector.images:
        assert url in {CID_ROUTE, PNG} or (allow_remote and url.startswith(("https://", "http://")))
    for url in collector.links:
        assert url.startswith(("https://", "http://", "mailto:", "tel:"))
    for style in collector.styles:
        _assert_safe_css(html_lib.unescape(style), allow_remote, sheet=False)
    for block in re.findall(r"<style[^>]*>(.*?)</style>", out, re.DOTALL):
        assert "<" not in block
        _assert_safe_css(block, allow_remote, sheet=True)


@PROPERTIES
@given(html_text)
def test_show_images_is_offered_exactly_when_images_are_blocked(source: str) -> None:
    assert has_remote_content(source) == (sanitize_email_html(source).blocked_images > 0)
