"""inboxbridge.lib.html: what survives sanitising, and what never does."""

from __future__ import annotations

import re

import pytest

from inboxbridge.lib.html import has_remote_content, html_to_text, sanitize_css, sanitize_email_html


def clean(source: str, **kwargs) -> str:
    return sanitize_email_html(source, **kwargs).html


def cid_route(cid: str) -> str | None:
    return f"/mail/7/cid/{cid}" if cid in {"logo@example", "a b@x"} else None


@pytest.mark.parametrize("source", [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    "<svg><script>alert(1)</script></svg>",
    "<math><mtext><script>alert(1)</script></mtext></math>",
    "<noscript><p title=\"</noscript><img src=x onerror=alert(1)>\"></noscript>",
    "<template><script>alert(1)</script></template>",
])
def test_scripts_are_removed_with_their_content(source):
    out = clean(source + "<p>kept</p>")
    assert "<script" not in out.lower() and "alert" not in out and "onerror" not in out
    assert "<p>kept</p>" in out


@pytest.mark.parametrize("attr", ["onclick", "onload", "onerror", "onmouseover", "ONFOCUS", "formaction"])
def test_event_handlers_are_removed(attr):
    out = clean(f'<p {attr}="alert(1)">x</p><img src="cid:logo@example" {attr}="alert(1)">', cid_url=cid_route)
    assert "alert" not in out and attr.lower() not in out.lower()


@pytest.mark.parametrize("url", [
    "javascript:alert(1)", "JaVaScRiPt:alert(1)", " javascript:alert(1)", "java\tscript:alert(1)",
    "vbscript:msgbox(1)", "data:text/html,<script>alert(1)</script>", "jav&#x09;ascript:alert(1)",
    "/relative/path", "//evil.example/", "file:///etc/passwd",
])
def test_unsafe_link_targets_are_removed(url):
    out = clean(f'<a href="{url}">link</a>')
    assert "href" not in out and ">link</a>" in out


def test_web_and_mail_links_are_kept_and_open_apart():
    out = clean('<a href="https://example.org/x?a=1&amp;b=2">w</a> <a href="mailto:bob@example.org">m</a>')
    assert '<a href="https://example.org/x?a=1&amp;b=2" target="_blank" rel="noopener noreferrer">w</a>' in out
    assert 'href="mailto:bob@example.org"' in out


@pytest.mark.parametrize("tag", [
    '<form action="https://evil.example/"><input name="password"><button>Go</button></form>',
    '<iframe src="https://evil.example/"></iframe>', '<frameset><frame src="x"></frameset>',
    '<object data="x.swf"></object>', '<embed src="x.swf">', '<applet code="x"></applet>',
    '<base href="https://evil.example/">', '<meta http-equiv="refresh" content="0;url=https://evil.example/">',
    '<link rel="stylesheet" href="https://evil.example/x.css">', '<textarea>x</textarea>',
    '<select><option>x</option></select>',
])
def test_forms_frames_and_active_elements_are_removed(tag):
    out = clean(tag + "<p>kept</p>")
    for name in ("form", "input", "button", "iframe", "frame", "object", "embed", "applet", "base", "meta",
                 "link", "textarea", "select"):
        assert f"<{name}" not in out
    assert "evil.example" not in out and "<p>kept</p>" in out


@pytest.mark.parametrize("style", [
    "width: expression(alert(1))", "width: EXPRESSION (alert(1))", "width: expr/**/ession(alert(1))",
    "width: expr\\65ssion(alert(1))", "behavior: url(x.htc)", "-moz-binding: url(x.xml#xss)",
    "background: url(javascript:alert(1))", "background-image: url('vbscript:x')",
])
def test_css_expressions_and_bindings_are_neutralised(style):
    out = clean(f'<p style="color: red; {style}">x</p>')
    lowered = out.lower()
    assert "expression(" not in lowered.replace(" ", "") and "behavior:" not in lowered
    assert "binding" not in lowered and "javascript" not in lowered and "vbscript" not in lowered
    assert "color: red" in out


def test_style_sheets_are_kept_but_filtered():
    out = clean(
        "<style>@import url(https://evil.example/x.css); p { color: navy } "
        "td { background: url(https://tracker.example/bg.png) } i { width: expression(alert(1)) }</style><p>x</p>"
    )
    assert "p { color: navy }" in out
    assert "evil.example" not in out and "tracker.example" not in out and "expression(" not in out
    assert "@import" not in out


def test_a_style_block_cannot_be_closed_early():
    out = clean("<style>a{} <\\/style><img src=x onerror=alert(1)></style><p>after</p>")
    assert out.count("<style") == out.count("</style>") == 1
    inside = re.search(r"<style>(.*?)</style>", out, re.DOTALL)[1]
    assert "<" not in inside
    assert "<img" not in out.split("</style>")[1]


def test_remote_images_are_blocked_unless_allowed():
    source = (
        '<img src="https://tracker.example/open.gif?u=42" alt="pixel"><img src="http://plain.example/a.png">'
        '<table background="https://tracker.example/bg.png"><tr><td style="background: url(https://t.example/c.png)">'
        "x</td></tr></table>"
    )
    blocked = sanitize_email_html(source)
    assert "tracker.example" not in blocked.html and "plain.example" not in blocked.html
    assert "t.example" not in blocked.html
    assert blocked.blocked_images == 4
    assert '<img alt="pixel">' in blocked.html

    allowed = sanitize_email_html(source, allow_remote=True)
    assert 'src="https://tracker.example/open.gif?u=42"' in allowed.html
    assert 'background="https://tracker.example/bg.png"' in allowed.html
    assert "url(&quot;https://t.example/c.png&quot;)" in allowed.html
    assert allowed.blocked_images == 0


def test_cid_images_are_rewritten_to_the_owner_checked_route():
    result = sanitize_email_html(
        '<img src="cid:logo@example"><img src="CID:a%20b@x"><img src="cid:unknown@example">'
        '<div style="background-image: url(cid:logo@example)">x</div>',
        cid_url=cid_route,
    )
    assert '<img src="/mail/7/cid/logo@example">' in result.html
    assert '<img src="/mail/7/cid/a b@x">' in result.html
    assert "unknown" not in result.html and "cid:" not in result.html
    assert "url(&quot;/mail/7/cid/logo@example&quot;)" in result.html
    assert result.cids == {"logo@example", "a b@x"}
    # Without a route for them (no stored parts), cid: images are simply dropped.
    assert "cid:" not in clean('<img src="cid:logo@example">')


def test_small_embedded_images_are_kept_but_not_svg():
    png = "data:image/png;base64,iVBORw0KGgo="
    out = clean(f'<img src="{png}"><img src="data:image/svg+xml;base64,PHN2Zz4=">')
    assert f'<img src="{png}">' in out and "svg" not in out


def test_comments_titles_and_conditional_comments_are_dropped():
    out = clean("<html><head><title>Secret title</title></head><body><!--[if mso]><p>x</p><![endif]-->"
                "<!-- note --><p>body</p></body></html>")
    assert "Secret title" not in out and "<!--" not in out and "<p>body</p>" in out


def test_layout_markup_of_real_mail_survives():
    source = ('<table width="600" cellpadding="0" border="0" align="center"><tbody><tr>'
              '<td style="padding: 8px; font-family: Arial" bgcolor="#ffffff" colspan="2">'
              '<font face="Calibri" color="#333">Hello <b>Alice</b></font></td></tr></tbody></table>')
    assert clean(source) == source


def test_css_url_forms():
    assert sanitize_css("background: url( 'x.png' )") == "background: none"
    assert sanitize_css('background: url("https://a.example/x.png")') == "background: none"
    assert sanitize_css("color: red /* comment */") == "color: red"


def test_remote_content_detection():
    assert has_remote_content('<img src="https://x.example/a.png">')
    assert has_remote_content("<table><tr><td background='http://x.example/a.png'>x</td></tr></table>")
    assert has_remote_content('<p style="background:url( https://x.example/a.png)">')
    assert not has_remote_content('<img src="cid:a@b"><a href="https://x.example/">link</a>')


def test_html_to_text():
    text = html_to_text("<html><head><style>p{color:red}</style><title>T</title></head><body>"
                        "<p>Hello&nbsp;<b>world</b></p><p>a &lt;b&gt; &amp; c</p><script>x()</script>"
                        "<ul><li>one</li><li>two</li></ul></body></html>")
    assert text == "Hello world\na <b> & c\none\ntwo"


def test_html_to_text_quotes_what_a_blockquote_holds_per_level():
    text = html_to_text("<p>Sounds good.</p><p>On Monday, Zoë wrote:</p><blockquote><p>Shall we meet?</p>"
                        "<blockquote>Earlier:<br>the plan &amp; the budget</blockquote><p>Tuesday?</p></blockquote>"
                        "<p>-- <br>Ana</p>")
    assert text.split("\n") == [
        "Sounds good.", "On Monday, Zoë wrote:", "> Shall we meet?", ">> Earlier:", ">> the plan & the budget",
        "> Tuesday?", "--", "Ana"]


def test_html_to_text_keeps_the_empty_lines_the_writer_made_and_joins_source_lines():
    assert html_to_text("<div>Hi,</div><div><br></div><div>the\n  report</div><blockquote><div>x<br><br>y</div>"
                        "</blockquote>") == "Hi,\n\nthe report\n> x\n>\n> y"
