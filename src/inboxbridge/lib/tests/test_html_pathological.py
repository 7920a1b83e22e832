"""inboxbridge.lib.html on hostile input: every entry point answers quickly, whatever the mail holds,
and no CSS a message carries makes the page request one of our own URLs.

The inputs are a few KB: regular expressions over CSS took seconds to minutes on them (cubic in a
run of blanks after "url("), holding the GIL, so every thread of the process stood still meanwhile.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable

import pytest

from inboxbridge.lib import html
from inboxbridge.lib.html import has_remote_content, html_to_text, sanitize_css, sanitize_email_html

# Far above the milliseconds these take, and far below the seconds to minutes of a backtracking
# matcher: a machine busy with other work must not fail it.
BOUND_SECONDS = 2.0

# CSS that sends a backtracking matcher into its worst case.
CSS = {
    "blanks after url(": "background:url(" + " " * 1500,
    "blanks after url( then text": "background:url(" + " " * 1500 + "x",
    "nested url(": "a:" + "url(" * 6000,
    "nested unclosed url( with blanks": "a:" + "url( " * 5000,
    "image-set with blanks": "a:image-set(url(" + " " * 1500,
    "image-set strings": "a:" + 'image-set("x" 1x, ' * 3000,
    "escapes": "a:url(" + "\\ " * 1500,
    "escaped url": "a:" + "\\75 rl( " * 3000,
    "comments": "a:url(" + "/**/ " * 1500,
    "deep brackets": "a:" + "(" * 5000 + "[{" * 2000,
    "unclosed string and comment": 'a:"' + "x" * 20000 + "/*" + " " * 20000,
}


def _within_bound(call: Callable[[], object]) -> None:
    start = time.perf_counter()
    call()
    took = time.perf_counter() - start
    assert took < BOUND_SECONDS, f"took {took:.2f} s"


@pytest.mark.parametrize("css", CSS.values(), ids=CSS.keys())
def test_every_entry_point_is_quick_on_pathological_css(css):
    _within_bound(lambda: sanitize_css(css))
    _within_bound(lambda: sanitize_email_html(f'<p style="{css}">x</p>'))
    _within_bound(lambda: sanitize_email_html(f"<style>{css}</style><p>x</p>", allow_remote=True))
    _within_bound(lambda: has_remote_content(f'<p style="{css}">x</p><style>{css}</style>'))
    _within_bound(lambda: html_to_text(f'<p style="{css}">x</p><style>{css}</style>'))


@pytest.mark.parametrize("source", [
    ('<p style="a:' + "url( " * 300 + '">x</p>') * 200,  # thousands of small bad style attributes
    "<style>" + "a{background:url(" + " " * 1500 + "}" + "p{color:red}" * 2000 + "</style>",  # a long block
    "<img src=" + " " * 15000,
    "<p>url(" + " " * 15000 + "</p>",
    "<td background=" + " " * 15000,
])
def test_every_entry_point_is_quick_on_pathological_html(source):
    _within_bound(lambda: sanitize_email_html(source))
    _within_bound(lambda: has_remote_content(source))
    _within_bound(lambda: html_to_text(source))


@pytest.mark.parametrize("style", [
    'background-image: image-set("/mail/threads/3/" 1x)',
    "background-image: -webkit-image-set('/mail/threads/3/' 1x, '/mail/1/' 2x)",
    "background: url(/mail/1/)",
    'background: url("/mail/1/")',
    "background: \\75 rl(/mail/1/)",
    "background: image('/mail/1/')",
    "background: cross-fade(url(/mail/1/), '/mail/1/' 50%)",
    '--u: "/mail/1/"; background: image-set(var(--u) 1x)',
    "background: url(//evil.example/mail/1/)",
    "background: url(/%6Dail/1/)",
])
def test_css_never_requests_our_own_urls(style):
    for out in (sanitize_email_html(f'<p style="{style}">x</p>', allow_remote=True).html,
                sanitize_email_html(f"<style>p {{ {style} }}</style>", allow_remote=True).html):
        assert "/mail/" not in out and "%6Dail" not in out and "evil.example" not in out


def test_image_set_keeps_allowed_images():
    png = "data:image/png;base64,iVBORw0KGgo="
    out = sanitize_email_html(f"<style>p {{ background-image: image-set('{png}' 1x, '/mail/1/' 2x) }}</style>")
    assert f'p {{ background-image: image-set(url("{png}") 1x, none 2x) }}' in out.html
    remote = sanitize_email_html('<p style="background: image-set(\'https://t.example/a.png\' 1x)">x</p>')
    assert "t.example" not in remote.html and remote.blocked_images == 1
    assert has_remote_content('<p style="background: image-set(\'https://t.example/a.png\' 1x)">x</p>')


@pytest.mark.parametrize("style", [
    "width: e\\78pression(alert(1))", "width: expr\\65 ssion(alert(1))", "w\\69 dth: expression(alert(1))",
    "background: url(java\\73 cript:alert(1))", "background: u\\72l('javascript:alert(1)')",
    "-moz-bind\\69ng: url(x.xml)", "behavio\\72: url(x.htc)", "content: 'java\\73 cript:'",
])
def test_escapes_cannot_hide_keywords(style):
    out = sanitize_email_html(f'<p style="color: red; {style}">x</p>').html.lower()
    assert "expression" not in out and "javascript" not in out and "binding" not in out
    assert "behavior" not in out and "color: red" in out


def test_at_rules_that_load_or_bind_are_dropped():
    out = sanitize_email_html(
        '<style>@import "https://evil.example/a.css"; @namespace url(https://evil.example/); '
        "@-moz-document url-prefix() { p { color: red } } @media screen { p { color: navy } }</style>",
        allow_remote=True,
    ).html
    assert "evil.example" not in out and "@import" not in out and "-moz-document" not in out
    assert "@media screen { p { color: navy } }" in out


@pytest.mark.parametrize("sheet", [
    'p { content: "</style><img src=x onerror=alert(1)>" }',
    "p { content: '\\3c/style>' }",
    "p { font-family: \\3c\\2fstyle\\3e }",
    "</stylex> p { color: red }",
])
def test_a_style_block_never_contains_a_closing_tag(sheet):
    out = sanitize_email_html(f"<style>{sheet}</style><p>after</p>").html
    blocks = re.findall(r"<style>(.*?)</style>", out, re.DOTALL)
    assert len(blocks) == 1 and "<" not in blocks[0]
    assert out.endswith("<p>after</p>") and "onerror" not in out


def test_an_attribute_naming_a_style_tag_does_not_open_a_block():
    out = sanitize_email_html('<p title="<style>">a</p><p title="</style>">b</p>'
                              "<style>p { color: red }</style>").html
    assert '<p title="&lt;style&gt;">a</p>' in out and "<style>p { color: red }</style>" in out


def test_html_over_the_limit_is_cut_and_says_so():
    body = "<p>" + "word " * 1000 + "</p>"
    result = sanitize_email_html(body + "<p>LATE</p>", max_bytes=len(body))
    assert result.cut and "LATE" not in result.html
    assert "too long to show in full: only its first" in result.html
    whole = sanitize_email_html(body + "<p>LATE</p>", max_bytes=len(body) + 100)
    assert not whole.cut and "LATE" in whole.html and "too long" not in whole.html


def test_the_html_limit_is_a_setting(settings):
    settings.HTML_MAX_BYTES = 100
    assert sanitize_email_html("<p>" + "é" * 200 + "</p>").cut
    assert not has_remote_content("<p>" + "x" * 200 + '</p><img src="https://t.example/a.png">')


def test_styles_past_the_budget_are_left_out_and_it_says_so(monkeypatch):
    monkeypatch.setattr(html, "CSS_MAX_CHARS", 1000)
    attribute = '<p style="color: red; padding: 1px">x</p>'
    result = sanitize_email_html(attribute * 100)
    assert result.styles_cut and 0 < result.html.count("color: red") < 100
    assert "styling was left out" in result.html
