"""Sanitising the CSS of received mail (style attributes and <style> blocks) with tinycss2.

CSS is tokenised by a real CSS parser, never searched with regular expressions: the tokenizer is
linear in its input and decodes escapes, so "expr\\65ssion(", "\\75rl(...)" or a comment inside a
keyword reach the checks below as the words a browser would read. The output is serialised from
the cleaned tokens, so nothing the checks did not see can come out.

Kept: what mail needs to look right (colours, fonts, sizes, layout, @media, @font-face, keyframes).
Every address a style sheet could load goes through the caller's image policy (remote images are
a read receipt; same-origin addresses could act on other mail): url(...), and the strings of
image-set(), image(), cross-fade() and any other function that may read a string as an address.
An address the policy refuses becomes `none`. Dropped whole: script and binding hooks of old
engines (expression(), behavior, -moz-binding), javascript:/vbscript: anywhere, custom properties
and var()/env()/attr() (they would assemble values after this check), at-rules other than the few
listed, and anything the parser reports as malformed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

import tinycss2
from tinycss2 import ast
from tinycss2.serializer import serialize_identifier, serialize_string_value

__all__ = ["ImagePolicy", "sanitize_declarations", "sanitize_stylesheet"]

# url -> the address to load it from, or None to leave the image out.
ImagePolicy = Callable[[str], "str | None"]

# Deeper nesting than real style sheets ever use; it also keeps the (recursive) serialiser safe.
_MAX_DEPTH = 24
# In property names: IE behaviours (.htc files run script) and Mozilla's XBL bindings.
_BANNED_PROPERTY_PARTS = ("behavior", "behaviour", "binding")
# Decoded, lower-cased, without whitespace: never in a kept declaration, whatever the engine.
_BANNED_TEXT = ("expression(", "javascript:", "vbscript:", "livescript:", "-moz-binding")
# expression(): script in old IE. var(), env(), attr(): values assembled later from text this
# filter did not see as a value (a string in a custom property becomes an address in image-set()).
_BANNED_FUNCTIONS = frozenset({"expression", "var", "env", "attr"})
# Functions whose strings are text. Strings in every other function are read as addresses:
# image-set("x" 1x), image("x"), cross-fade(...), src("x") and whatever browsers add next.
_TEXT_FUNCTIONS = frozenset({"format", "local", "tech", "counters", "string", "content", "leader", "symbols",
                             "target-text"})
_URL_FUNCTIONS = frozenset({"url", "src"})
# At-rules holding rules, holding declarations, and none other (@import, @namespace, @document,
# @property, ... are dropped).
_RULE_BLOCKS = frozenset({"media", "supports", "container", "layer", "keyframes", "-webkit-keyframes",
                          "-moz-keyframes"})
_DECLARATION_BLOCKS = frozenset({"font-face", "page"})
_BLOCKS = {"() block": ast.ParenthesesBlock, "[] block": ast.SquareBracketsBlock, "{} block": ast.CurlyBracketsBlock}


class _Unsafe(Exception):
    """The declaration or rule cannot be made safe by rewriting: it is left out whole."""


def sanitize_declarations(css: str, image: ImagePolicy) -> str:
    """A style attribute's declarations, cleaned: "color: red; background: none"."""
    cleaner = _Cleaner(image)
    nodes = tinycss2.parse_blocks_contents(css, skip_comments=True, skip_whitespace=True)
    return "; ".join(cleaner.declarations(nodes, 0))


def sanitize_stylesheet(css: str, image: ImagePolicy) -> str:
    """A <style> block's rules, cleaned. The result holds no "<" (a string's is escaped as \\3c),
    so no "</style" can end the block early, whatever the input joined together."""
    cleaner = _Cleaner(image)
    rules = tinycss2.parse_stylesheet(css, skip_comments=True, skip_whitespace=True)
    return " ".join(cleaner.rules(rules, 0)).replace("<", "\\3c ")


class _Cleaner:
    def __init__(self, image: ImagePolicy) -> None:
        self.image = image

    # -- rules -----------------------------------------------------------------------------

    def rules(self, nodes: Iterable[ast.Node], depth: int) -> list[str]:
        kept = []
        for node in nodes:
            try:
                text = self.rule(node, depth)
            except _Unsafe:
                continue
            if text:
                kept.append(text)
        return kept

    def rule(self, node: ast.Node, depth: int) -> str:
        if depth > _MAX_DEPTH:
            raise _Unsafe
        if isinstance(node, ast.QualifiedRule):
            prelude = self.selector(node.prelude, depth)
            body = self.block(node.content, depth + 1)
            return f"{prelude} {{ {body} }}" if body else ""
        if not isinstance(node, ast.AtRule):
            return ""  # parse errors, stray tokens
        keyword = node.lower_at_keyword
        prelude = self.selector(node.prelude, depth)
        head = f"@{serialize_identifier(keyword)} {prelude}".rstrip()
        if node.content is None:
            if keyword != "layer":
                raise _Unsafe
            return f"{head};"
        if keyword in _RULE_BLOCKS:
            rules = tinycss2.parse_rule_list(node.content, skip_comments=True, skip_whitespace=True)
            body = " ".join(self.rules(rules, depth + 1))
        elif keyword in _DECLARATION_BLOCKS:
            nodes = tinycss2.parse_blocks_contents(node.content, skip_comments=True, skip_whitespace=True)
            body = "; ".join(self.declarations(nodes, depth + 1))
        else:
            raise _Unsafe
        return f"{head} {{ {body} }}" if body else ""

    def block(self, content: Sequence[ast.Node], depth: int) -> str:
        """A style rule's block: declarations, then nested rules (CSS nesting)."""
        nodes = tinycss2.parse_blocks_contents(content, skip_comments=True, skip_whitespace=True)
        parts = ["; ".join(self.declarations(nodes, depth))]
        parts += self.rules((n for n in nodes if not isinstance(n, ast.Declaration)), depth)
        return " ".join(p for p in parts if p)

    def selector(self, prelude: Sequence[ast.Node], depth: int) -> str:
        # Selectors and at-rule conditions load nothing: their strings are text, an address is junk.
        tokens = self.tokens(prelude, depth, urls=None)
        _check(_decoded(tokens))
        return tinycss2.serialize(tokens).strip()

    # -- declarations ----------------------------------------------------------------------

    def declarations(self, nodes: Iterable[ast.Node], depth: int) -> list[str]:
        kept = []
        for node in nodes:
            if isinstance(node, ast.Declaration):
                try:
                    kept.append(self.declaration(node, depth))
                except _Unsafe:
                    continue
        return kept

    def declaration(self, node: ast.Declaration, depth: int) -> str:
        name = node.lower_name
        if name.startswith("--") or any(part in name for part in _BANNED_PROPERTY_PARTS):
            raise _Unsafe
        value = self.tokens(node.value, depth, urls=False)
        _check(f"{name}:{_decoded(value)}")
        text = tinycss2.serialize(value).strip()
        if not text:
            raise _Unsafe
        return f"{serialize_identifier(node.name)}: {text}{' !important' if node.important else ''}"

    # -- component values ------------------------------------------------------------------

    def tokens(self, nodes: Iterable[ast.Node], depth: int, urls: bool | None) -> list[ast.Node]:
        """The cleaned tokens. ``urls``: strings are addresses (True), text (False), or this is a
        selector, where an address has no business (None)."""
        if depth > _MAX_DEPTH:
            raise _Unsafe
        out: list[ast.Node] = []
        for node in nodes:
            kind = node.type
            if kind == "comment":
                continue
            if kind == "error":  # bad string, bad url, unmatched bracket
                raise _Unsafe
            if kind == "url":
                out.append(self.address(node.value, urls))
            elif kind == "string":
                value = node.value
                out.append(self.address(value, urls) if urls else _string(node, value))
            elif kind == "function":
                out.append(self.function(node, depth, urls))
            elif kind in _BLOCKS:
                out.append(_BLOCKS[kind](node.source_line, node.source_column,
                                         self.tokens(node.content, depth + 1, urls)))
            else:
                out.append(node)  # idents, numbers, dimensions, hashes, delimiters, whitespace
        return out

    def function(self, node: ast.FunctionBlock, depth: int, urls: bool | None) -> ast.Node:
        name = node.lower_name
        if name in _BANNED_FUNCTIONS:
            raise _Unsafe
        if name in _URL_FUNCTIONS:
            first = next((a for a in node.arguments if a.type not in ("whitespace", "comment")), None)
            return self.address(first.value if isinstance(first, ast.StringToken) else "", urls)
        inner = urls if urls is None else name not in _TEXT_FUNCTIONS
        arguments = self.tokens(node.arguments, depth + 1, inner)
        return ast.FunctionBlock(node.source_line, node.source_column, node.name, arguments)

    def address(self, url: str, urls: bool | None) -> ast.Node:
        if urls is None:
            raise _Unsafe
        kept = self.image(url) if url else None
        if kept is None:
            # `none` keeps the declaration valid; an empty url() would load the page itself.
            return ast.IdentToken(0, 0, "none")
        return ast.FunctionBlock(0, 0, "url", [_string(None, kept)])


def _string(node: ast.StringToken | None, value: str) -> ast.StringToken:
    # Written again from the decoded value: the source's escapes never reach the output.
    line, column = (node.source_line, node.source_column) if node else (0, 0)
    return ast.StringToken(line, column, value, f'"{serialize_string_value(value)}"')


def _decoded(nodes: Iterable[ast.Node]) -> str:
    """What a browser reads, lower-cased and without whitespace, for the keyword checks."""
    out: list[str] = []
    _decode_to(nodes, out)
    return "".join(out).lower()


def _decode_to(nodes: Iterable[ast.Node], out: list[str]) -> None:
    for node in nodes:
        if isinstance(node, (ast.IdentToken, ast.StringToken, ast.URLToken, ast.LiteralToken)):
            out.append(node.value)
        elif isinstance(node, ast.FunctionBlock):
            out += [node.name, "("]
            _decode_to(node.arguments, out)
            out.append(")")
        elif isinstance(node, (ast.ParenthesesBlock, ast.SquareBracketsBlock, ast.CurlyBracketsBlock)):
            out.append("(")
            _decode_to(node.content, out)
            out.append(")")
        elif isinstance(node, ast.HashToken):
            out += ["#", node.value]
        elif isinstance(node, ast.DimensionToken):
            out += [node.representation, node.unit]
        elif isinstance(node, ast.AtKeywordToken):
            out += ["@", node.value]
        elif not isinstance(node, (ast.WhitespaceToken, ast.Comment)):
            out.append(tinycss2.serialize([node]))


def _check(decoded: str) -> None:
    if any(text in decoded for text in _BANNED_TEXT):
        raise _Unsafe
