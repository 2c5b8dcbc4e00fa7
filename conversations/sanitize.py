"""Making email bodies safe to show.

HTML from mail is cleaned on the server with nh3 (Ammonia): formatting tags
and attributes survive; scripts, event handlers, frames, forms, embedded
SVG and MathML, ``meta``/``base`` and every URL that is not a plain web,
mail or phone link are removed. A sanitizer cannot see every way CSS can
fetch a URL, so the cleaned document is only ever served inside a
sandboxed frame whose Content-Security-Policy blocks remote loads (see
``body_policy``); both layers must fail for mail to reach the network.

Plain-text bodies are escaped, with web addresses turned into links.
Quoted earlier messages are folded into a ``<details>`` in both kinds.
``html_as_text`` gives the words of an HTML body, for search and snippets.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from html import escape, unescape

import nh3
from django.utils.safestring import SafeString, mark_safe

# Formatting an email needs, and nothing that runs, embeds or submits.
ALLOWED_TAGS = frozenset(
    {
        "a", "abbr", "b", "bdi", "bdo", "big", "blockquote", "br", "caption",
        "center", "cite", "code", "col", "colgroup", "dd", "del", "details",
        "dfn", "div", "dl", "dt", "em", "font", "h1", "h2", "h3", "h4", "h5",
        "h6", "hr", "i", "img", "ins", "kbd", "li", "mark", "ol", "p", "pre",
        "q", "s", "samp", "small", "span", "strike", "strong", "sub",
        "summary", "sup", "table", "tbody", "td", "tfoot", "th", "thead",
        "tr", "tt", "u", "ul", "var", "wbr",
    }
)  # fmt: skip
# Removed together with what they contain, not just unwrapped.
DROPPED_WITH_CONTENT = frozenset(
    {
        "script", "style", "template", "noscript", "title", "iframe",
        "frame", "frameset", "object", "embed", "applet", "svg", "math",
        "form", "textarea", "select", "button", "audio", "video", "canvas",
        "noembed", "noframes", "xmp", "plaintext",
    }
)  # fmt: skip
_LAYOUT = {"align", "valign", "width", "height", "bgcolor", "dir", "lang"}
ALLOWED_ATTRIBUTES: dict[str, set[str]] = {
    "*": {"class", "style", "title", *_LAYOUT},
    "a": {"href", "name"},
    "img": {"src", "alt", "border", "hspace", "vspace"},
    "font": {"color", "face", "size"},
    "table": {"border", "cellpadding", "cellspacing", "summary"},
    "td": {"colspan", "rowspan", "nowrap"},
    "th": {"colspan", "rowspan", "nowrap", "scope"},
    "col": {"span"},
    "colgroup": {"span"},
    "ol": {"start", "type"},
    "ul": {"type"},
    "li": {"value"},
    "blockquote": {"cite", "type"},
    "q": {"cite"},
    "details": {"open"},
}
# Style properties for text, boxes and tables; none of them takes a URL.
STYLE_PROPERTIES = frozenset(
    {
        "color", "background-color", "font", "font-family", "font-size",
        "font-style", "font-weight", "font-variant", "line-height",
        "letter-spacing", "word-spacing", "text-align", "text-decoration",
        "text-indent", "text-transform", "white-space", "vertical-align",
        "direction", "margin", "margin-top", "margin-right",
        "margin-bottom", "margin-left", "padding", "padding-top",
        "padding-right", "padding-bottom", "padding-left", "border",
        "border-top", "border-right", "border-bottom", "border-left",
        "border-color", "border-style", "border-width", "border-radius",
        "border-collapse", "border-spacing", "width", "height", "min-width",
        "max-width", "min-height", "max-height", "display", "float", "clear",
        "list-style-type", "table-layout", "overflow",
    }
)  # fmt: skip
LINK_SCHEMES = ("http:", "https:", "mailto:", "tel:")
IMAGE_SCHEMES = ("http:", "https:")
_DATA_IMAGE = re.compile(
    r"data:image/(?:png|gif|jpe?g|webp);base64,[a-z0-9+/=\s]*\Z", re.I
)
# Anything in CSS that can load a resource or hide one from a plain
# substring check (a backslash escape turns "u\72l(" into "url(").
_UNSAFE_CSS = re.compile(
    r"\\|url|image|expression|@import|binding|behavior|javascript|<|&", re.I
)
MAX_STYLESHEET_CHARS = 50_000

_STYLE_ELEMENT = re.compile(r"<style\b[^>]*>(.*?)</style\s*>", re.I | re.S)
_CSS_IMPORT = re.compile(r"@import[^;]*;?", re.I)
_CSS_DECLARATION_WITH_URL = re.compile(r"[^;{}]*url\s*\([^)]*\)[^;{}]*;?", re.I)
_CSS_COMMENT = re.compile(r"/\*.*?\*/", re.S)

# Where quoted earlier messages begin, as mail apps mark them: Gmail, Yahoo
# and Thunderbird by class, Outlook by id, Apple Mail and others by a cited
# blockquote.
_QUOTE_MARKERS = re.compile(
    r"""<div[^>]*\bclass="[^"]*\b(?:gmail_quote|yahoo_quoted|moz-cite-prefix)\b"""
    r"""|<div[^>]*\bid="(?:appendonsend|divRplyFwdMsg)\""""
    r"""|<blockquote[^>]*\btype="cite\"""",
    re.I,
)
# "On Mon, 3 Mar 2025, Ann <ann@example.com> wrote:" right before a quote.
_ATTRIBUTION = re.compile(
    r"(?:<(?:div|p)\b[^>]*>\s*)?On\b(?:(?!</?(?:div|p|blockquote)\b).){1,500}?"
    r"wrote:(?:\s|<[^>]*>)*<blockquote\b",
    re.I | re.S,
)
_TAG = re.compile(r"<[^>]*>")
QUOTE_SUMMARY = "Show quoted text"
# Tags that break a line. In the plain-text rendering they separate words,
# where inline tags do not ("<b>Tues</b>day" is one word).
_LINE_BREAKING_TAG = re.compile(
    r"<(?=/?(?:address|article|aside|blockquote|br|caption|center|dd|details|div"
    r"|dl|dt|figcaption|figure|footer|h[1-6]|header|hr|li|ol|p|pre|section"
    r"|summary|table|tbody|td|tfoot|th|thead|tr|ul)\b)",
    re.I,
)


@dataclass(frozen=True)
class CleanHtml:
    """A sanitized email body, ready for the framed body document."""

    body: str
    stylesheet: str
    # Whether images from the web were left out (or, with images, kept).
    has_remote_images: bool


def clean_email_html(html: str, *, images: bool = False) -> CleanHtml:
    """Return ``html`` with everything that runs or fetches removed.

    Images from the web are kept only with ``images`` (the reader asked);
    images inside the mail (``data:``) always are.
    """
    stylesheet = _clean_stylesheets(_STYLE_ELEMENT.findall(html))
    remote_images: list[str] = []

    keep_attribute = _noting_remote_images(remote_images, keep=images)

    first_pass = _clean(html, keep_attribute)
    folded = _clean(_fold_html_quote(first_pass), keep_attribute)

    return CleanHtml(
        body=folded, stylesheet=stylesheet, has_remote_images=bool(remote_images)
    )


def has_remote_images(html: str) -> bool:
    """Whether ``html``, once cleaned, would show images from the web.

    Stored with the message, so a thread page can offer "Show images"
    without reading or cleaning every body it lists.
    """
    if not html:
        return False
    found: list[str] = []
    _clean(html, _noting_remote_images(found, keep=False))
    return bool(found)


def html_as_text(html: str) -> str:
    """The words of ``html`` as plain text on one line: tags removed,
    entities decoded, whitespace collapsed.

    What search and the snippet read of mail that has no text part. It is
    never shown as the body: the page shows the cleaned HTML in its frame.
    """
    spaced = _LINE_BREAKING_TAG.sub(" <", html)
    text = nh3.clean(
        spaced,
        tags=set(),
        clean_content_tags=set(DROPPED_WITH_CONTENT),
        attributes={},
        strip_comments=True,
        link_rel=None,
    )
    return " ".join(unescape(text).split())


AttributeFilter = Callable[[str, str, str], "str | None"]


def _noting_remote_images(found: list[str], *, keep: bool) -> AttributeFilter:
    """The attribute filter, noting each image from the web in ``found``
    and keeping it only when ``keep``."""

    def keep_attribute(tag: str, attribute: str, value: str) -> str | None:
        kept = _filter_attribute(tag, attribute, value)
        if _is_remote_image(tag, attribute, kept):
            found.append(str(kept))
            return kept if keep else None
        return kept

    return keep_attribute


def _clean(html: str, attribute_filter: AttributeFilter) -> str:
    return nh3.clean(
        html,
        tags=set(ALLOWED_TAGS),
        clean_content_tags=set(DROPPED_WITH_CONTENT),
        attributes={tag: set(names) for tag, names in ALLOWED_ATTRIBUTES.items()},
        attribute_filter=attribute_filter,
        strip_comments=True,
        link_rel="noopener noreferrer",
        set_tag_attribute_values={"a": {"target": "_blank"}},
        url_schemes={"http", "https", "mailto", "tel", "data"},
        url_relative="deny",
        filter_style_properties=set(STYLE_PROPERTIES),
    )


def _filter_attribute(tag: str, attribute: str, value: str) -> str | None:
    """Keep an attribute only when its value cannot run anything or load
    anything but an image.

    nh3 calls this with the value as parsed (entities decoded), before it
    filters style properties.
    """
    if attribute == "href":
        return value if _has_scheme(value, LINK_SCHEMES) else None
    if attribute == "src":
        if _has_scheme(value, IMAGE_SCHEMES) or _DATA_IMAGE.match(value.strip()):
            return value
        return None
    if attribute == "style" and _UNSAFE_CSS.search(value):
        return None
    return value


def _is_remote_image(tag: str, attribute: str, kept: str | None) -> bool:
    # nh3 also asks about attributes of elements it then drops with their
    # content (a script's src): only an image's source is shown.
    return (
        kept is not None
        and tag == "img"
        and attribute == "src"
        and _has_scheme(kept, IMAGE_SCHEMES)
    )


def _has_scheme(value: str, schemes: tuple[str, ...]) -> bool:
    # Browsers ignore control characters and spaces inside a scheme
    # ("java\tscript:"); removing them first keeps the check honest.
    compact = re.sub(r"[\x00-\x20]", "", value).lower()
    return compact.startswith(schemes)


def _clean_stylesheets(blocks: list[str]) -> str:
    """Keep the mail's own stylesheet rules that load nothing.

    A rule that names a URL is removed; a stylesheet that still holds
    anything doubtful after that is dropped whole.
    """
    kept: list[str] = []
    for block in blocks:
        css = _CSS_COMMENT.sub("", block)
        css = _CSS_IMPORT.sub("", css)
        css = _CSS_DECLARATION_WITH_URL.sub("", css)
        if not _UNSAFE_CSS.search(css):
            kept.append(css.strip())
    stylesheet = "\n".join(kept)
    return stylesheet if len(stylesheet) <= MAX_STYLESHEET_CHARS else ""


def _fold_html_quote(html: str) -> str:
    """Put the quoted earlier messages at the end into a ``<details>``.

    The markup is inserted where the quote starts and closed at the end;
    the second sanitizer pass parses the result again, which closes the
    ``<details>`` where the quote's parent element ends.
    """
    starts = [
        match.start()
        for match in (_QUOTE_MARKERS.search(html), _ATTRIBUTION.search(html))
        if match is not None
    ]
    if not starts:
        return html
    start = min(starts)

    if not _TAG.sub("", html[:start]).strip():
        # Nothing but the quote: folding it would hide the whole message.
        return html
    return (
        f'{html[:start]}<details class="quoted"><summary>{QUOTE_SUMMARY}'
        f"</summary>{html[start:]}</details>"
    )


# Plain text

_URL = re.compile(r"\bhttps?://[^\s<>\"']+", re.I)
_TRAILING_PUNCTUATION = ".,;:!?)]}'\""
_TEXT_ATTRIBUTION = re.compile(r"^\s*On\b.{0,300}\bwrote:\s*$", re.I)
_TEXT_FORWARD_MARKERS = re.compile(
    r"^\s*(?:-{2,}\s*Original Message\s*-{2,}|_{20,})\s*$", re.I
)


def render_plain_text(text: str) -> SafeString:
    """Return ``text`` as escaped HTML, with links and the quote folded."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    split = _text_quote_start(lines)
    own = _linkify("\n".join(lines[:split]).rstrip("\n"))
    if split == len(lines):
        return mark_safe(own)  # noqa: S308 - built from escaped parts
    quoted = _linkify("\n".join(lines[split:]))
    return mark_safe(  # noqa: S308 - built from escaped parts
        f'{own}\n<details class="quoted"><summary>{QUOTE_SUMMARY}</summary>'
        f"{quoted}</details>"
    )


def _text_quote_start(lines: list[str]) -> int:
    """The index of the first line of the quoted tail, or ``len(lines)``."""
    for index, line in enumerate(lines):
        rest = lines[index + 1 :]
        if _TEXT_FORWARD_MARKERS.match(line):
            found = index
        elif line.startswith(">") or _TEXT_ATTRIBUTION.match(line):
            # Only a tail made of quoted lines folds; interleaved answers
            # below a quote stay visible.
            if not all(not r.strip() or r.startswith(">") for r in rest):
                continue
            if not line.startswith(">") and not any(r.startswith(">") for r in rest):
                continue
            found = index
        else:
            continue
        if any(previous.strip() for previous in lines[:found]):
            return found
        return len(lines)
    return len(lines)


def _linkify(text: str) -> str:
    pieces: list[str] = []
    position = 0
    for match in _URL.finditer(text):
        url = match.group(0).rstrip(_TRAILING_PUNCTUATION)
        end = match.start() + len(url)
        pieces.append(escape(text[position : match.start()]))
        pieces.append(
            f'<a href="{escape(url)}" target="_blank" '
            f'rel="noopener noreferrer">{escape(url)}</a>'
        )
        position = end
    pieces.append(escape(text[position:]))
    return "".join(pieces)


# The framed document

BODY_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src {images}; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'self'; "
    "sandbox allow-popups allow-popups-to-escape-sandbox"
)


def body_policy(*, images: bool) -> str:
    """The Content-Security-Policy of a framed email body.

    Nothing loads but inline styles and images inside the mail itself;
    with ``images`` (the reader asked) images from the web load too.
    Scripts never run: ``default-src 'none'`` covers them, and the
    ``sandbox`` directive applies even when the body is opened on its own.
    """
    return BODY_POLICY.format(images="https: http: data:" if images else "data:")
