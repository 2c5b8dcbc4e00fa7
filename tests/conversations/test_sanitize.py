"""Email HTML runs nothing and fetches nothing until the reader asks."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from conversations.sanitize import (
    ALLOWED_TAGS,
    body_policy,
    clean_email_html,
    has_remote_images,
    html_as_text,
    render_plain_text,
)

# Each entry is hostile in its own way; the names say how.
HOSTILE = {
    "script element": "<p>Hi</p><script>alert(1)</script>",
    "script in attribute-less case": "<SCRIPT SRC=https://evil.example/x.js></SCRIPT>",
    "event handler": '<img src="x" onerror="alert(1)"><b onmouseover=alert(1)>b</b>',
    "body onload": "<body onload=alert(1)><p>x</p></body>",
    "javascript link": '<a href="javascript:alert(1)">x</a>',
    "javascript link, mixed case": '<a href="JaVaScRiPt:alert(1)">x</a>',
    "javascript link, entity encoded": (
        '<a href="&#106;avascript:alert(1)">x</a>'
        '<a href="&#x6A;&#x61;vascript&#58;alert(1)">y</a>'
    ),
    "javascript link, tab inside": '<a href="java&#09;script:alert(1)">x</a>',
    "vbscript link": '<a href="vbscript:msgbox(1)">x</a>',
    "data html link": (
        '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">x</a>'
    ),
    "data svg image": '<img src="data:image/svg+xml,<svg onload=alert(1)>">',
    "svg with script": "<svg><script>alert(1)</script><circle onload=alert(1)/></svg>",
    "svg use and animate": (
        '<svg><use href="https://evil.example/s.svg#x"/>'
        '<animate attributeName="href" to="javascript:alert(1)"/></svg>'
    ),
    "mathml": (
        "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>"
        "</style></mglyph></table></mtext></math>"
    ),
    "mathml link": '<math href="javascript:alert(1)"><mi>x</mi></math>',
    "iframe": (
        '<iframe src="https://evil.example"></iframe>'
        '<iframe srcdoc="<script>alert(1)</script>"></iframe>'
    ),
    "frameset": '<frameset><frame src="https://evil.example"></frameset>',
    "object and embed": (
        '<object data="https://evil.example/x.swf"></object>'
        '<embed src="https://evil.example/x.swf">'
    ),
    "form": (
        '<form action="https://evil.example/phish"><input name=password>'
        '<button formaction="javascript:alert(1)">Go</button></form>'
    ),
    "meta refresh": '<meta http-equiv="refresh" content="0;url=https://evil.example">',
    "base": '<base href="https://evil.example/"><a href="/x">x</a>',
    "link stylesheet": '<link rel="stylesheet" href="https://evil.example/x.css">',
    "remote image": '<img src="https://tracker.example/open.gif?u=1">',
    "remote image, protocol relative": '<img src="//tracker.example/open.gif">',
    "srcset": (
        '<img srcset="https://tracker.example/a.png 1x, '
        'https://tracker.example/b.png 2x">'
    ),
    "picture source": (
        '<picture><source srcset="https://tracker.example/a.webp"><img alt=x></picture>'
    ),
    "video poster": (
        '<video poster="https://tracker.example/p.png">'
        '<source src="https://tracker.example/v.mp4"></video>'
    ),
    "audio": '<audio src="https://tracker.example/a.mp3" autoplay></audio>',
    "background attribute": (
        '<table background="https://tracker.example/bg.png"><tr>'
        '<td background="https://tracker.example/c.png">x</td></tr>'
        "</table>"
    ),
    "style element url": (
        "<style>body{background:url(https://tracker.example/s.png)}</style><p>x</p>"
    ),
    "style element import": (
        "<style>@import 'https://evil.example/x.css'; p{color:red}</style>"
    ),
    "style element escaped url": r"<style>p{background:u\72l(https://tracker.example/e.png)}</style>",
    "style element font face": (
        "<style>@font-face{font-family:x;src:url(https://evil.example/f.woff)}</style>"
    ),
    "style attribute url": (
        '<p style="background-image:url(https://tracker.example/a.png)">x</p>'
    ),
    "style attribute escaped url": r'<p style="background:u\72l(https://tracker.example/b.png)">x</p>',
    "style attribute entity url": (
        '<p style="background:u&#114;l(https://tracker.example/c.png)">x</p>'
    ),
    "style attribute expression": '<p style="width:expression(alert(1))">x</p>',
    "style attribute image-set": (
        "<p style=\"background:image-set('https://tracker.example/d.png' 1x)\">x</p>"
    ),
    "style attribute binding": (
        '<p style="-moz-binding:url(https://evil.example/x.xml#x)">x</p>'
    ),
    "noscript mutation": (
        '<noscript><p title="</noscript><img src=x onerror=alert(1)>"></noscript>'
    ),
    "style mutation": "<style><img src=x onerror=alert(1)></style>",
    "title mutation": "<title><img src=x onerror=alert(1)></title>",
    "textarea mutation": "<textarea><img src=x onerror=alert(1)></textarea>",
    "xmp mutation": "<xmp><img src=x onerror=alert(1)></xmp>",
    "comment mutation": "<!--><img src=x onerror=alert(1)>-->",
    "cdata in svg": "<svg><![CDATA[><img src=x onerror=alert(1)>]]></svg>",
    "template": "<template><script>alert(1)</script></template>",
    "nested form and select mutation": (
        "<form><math><mtext></form><form><mglyph><svg><mtext><textarea>"
        '<path id="</textarea><img onerror=alert(1) src=1>">'
    ),
    "unclosed attribute": '<a href="https://ok.example" title="x onclick=alert(1)>y',
    "formaction and target": (
        '<a href="https://ok.example" target="_top" '
        'ping="https://tracker.example">x</a>'
    ),
    "area map": '<map><area href="javascript:alert(1)"></map>',
    "relative url": '<a href="/account/delete">x</a><img src="/media/x.png">',
    "cid image": '<img src="cid:logo@example">',
    "xlink": '<a xlink:href="javascript:alert(1)">x</a>',
}

REMOTE = re.compile(r"https?:|//", re.I)
ALLOWED_URL = re.compile(
    r"(https?:|mailto:|tel:|data:image/(png|gif|jpe?g|webp);)", re.I
)


class _Elements(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, attrs))


def elements(html: str) -> list[tuple[str, list[tuple[str, str | None]]]]:
    parser = _Elements()
    parser.feed(html)
    return parser.elements


def assert_inert(html: str, *, images: bool = False) -> None:
    """Nothing in ``html`` runs, and nothing loads but what is allowed."""
    lowered = html.lower()
    for construct in ("<script", "javascript:", "vbscript:", "<svg", "<math",
                      "<iframe", "<object", "<embed", "<form", "<meta", "<base",
                      "<link", "<style", "<noscript", "<template", "url(",
                      "@import", "expression("):  # fmt: skip
        assert construct not in lowered, construct
    for tag, attrs in elements(html):
        assert tag in ALLOWED_TAGS, tag
        for name, value in attrs:
            assert not name.startswith("on"), (tag, name)
            assert name not in {
                "srcset",
                "poster",
                "background",
                "formaction",
                "ping",
                "action",
            }
            if name in {"href", "src"}:
                assert ALLOWED_URL.match(value or ""), (tag, name, value)
            if name == "src" and not images:
                assert not REMOTE.match(value or ""), (tag, value)
            if name == "target":
                assert value == "_blank"
        if tag == "a" and dict(attrs).get("href"):
            assert dict(attrs).get("rel") == "noopener noreferrer"


@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_html_is_made_inert(name: str) -> None:
    clean = clean_email_html(HOSTILE[name])

    assert_inert(clean.body)
    assert not REMOTE.search(clean.stylesheet)
    assert "<" not in clean.stylesheet and "\\" not in clean.stylesheet


@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_html_with_images_loads_only_images(name: str) -> None:
    clean = clean_email_html(HOSTILE[name], images=True)

    assert_inert(clean.body, images=True)


def test_formatting_survives() -> None:
    html = (
        '<div style="color:#333;font-family:Arial"><p><b>Bold</b> <i>it</i></p>'
        '<table cellpadding="4"><tr><td align="right">1</td></tr></table>'
        '<a href="https://example.com/offer">offer</a>'
        '<img alt="logo" src="data:image/png;base64,iVBORw0KGgo="></div>'
    )

    body = clean_email_html(html).body

    assert '<div style="color:#333;font-family:Arial">' in body
    assert "<b>Bold</b>" in body and '<td align="right">1</td>' in body
    assert (
        '<a href="https://example.com/offer" target="_blank" '
        'rel="noopener noreferrer">offer</a>'
    ) in body
    assert 'src="data:image/png;base64,iVBORw0KGgo="' in body


def test_the_mails_own_stylesheet_keeps_its_harmless_rules() -> None:
    html = (
        "<style>@import url(https://fonts.example/f.css);"
        " .lead{font-weight:bold} p{color:red;background:url(https://t.example/x)}"
        "</style><p class=lead>x</p>"
    )

    clean = clean_email_html(html)

    assert ".lead{font-weight:bold}" in clean.stylesheet
    assert "color:red" in clean.stylesheet
    assert "url" not in clean.stylesheet and "import" not in clean.stylesheet


def test_remote_images_come_back_only_when_asked() -> None:
    html = '<p>Hi</p><img src="https://cdn.example/banner.png" alt="banner">'

    hidden = clean_email_html(html)
    shown = clean_email_html(html, images=True)

    assert hidden.has_remote_images and "cdn.example" not in hidden.body
    assert '<img src="https://cdn.example/banner.png" alt="banner">' in shown.body


def test_a_gmail_quote_is_folded() -> None:
    html = (
        '<div>Sounds good.</div><div class="gmail_quote"><div class="gmail_attr">'
        "On Mon, 3 Mar 2025 Carol &lt;carol@client.example&gt; wrote:<br></div>"
        '<blockquote class="gmail_quote">Earlier text</blockquote></div>'
    )

    body = clean_email_html(html).body

    assert body.startswith("<div>Sounds good.</div><details")
    assert body.index("<summary>") < body.index("On Mon") < body.index("Earlier text")


def test_an_apple_mail_quote_is_folded_with_its_attribution() -> None:
    html = (
        "<div>Yes.</div><div>On 3 Mar 2025, at 10:00, Carol wrote:</div>"
        '<blockquote type="cite"><div>Earlier</div></blockquote>'
    )

    body = clean_email_html(html).body

    assert body.index("<details") < body.index("On 3 Mar") < body.index("Earlier")


def test_a_message_that_is_only_a_quote_is_not_hidden() -> None:
    body = clean_email_html('<blockquote type="cite">All of it</blockquote>').body

    assert "<details" not in body


def test_plain_text_is_escaped_and_links_are_safe() -> None:
    html = render_plain_text(
        'See https://example.com/a?b=1&c=2. <script>alert("x")</script>\n'
        "javascript:alert(1) and www.example.com"
    )

    assert "&lt;script&gt;" in html and "<script" not in html
    assert (
        '<a href="https://example.com/a?b=1&amp;c=2" target="_blank" '
        'rel="noopener noreferrer">'
    ) in html
    assert 'href="javascript' not in html


def test_a_plain_text_quote_tail_is_folded() -> None:
    html = render_plain_text(
        "Thanks!\n\nOn Mon, 3 Mar 2025, Carol wrote:\n> Earlier\n> text\n"
    )

    assert html.startswith("Thanks!")
    assert html.index("<details") < html.index("On Mon") < html.index("&gt; Earlier")


def test_interleaved_answers_stay_visible() -> None:
    html = render_plain_text("> Question one\nAnswer one\n> Question two\nAnswer two")

    assert "<details" not in html


def test_the_policy_blocks_scripts_and_remote_loads() -> None:
    policy = body_policy(images=False)

    assert "default-src 'none'" in policy
    assert "script-src" not in policy
    assert "img-src data:;" in policy
    assert "sandbox" in policy and "allow-scripts" not in policy
    assert "allow-same-origin" not in policy
    assert "img-src https: http: data:" in body_policy(images=True)


@pytest.mark.parametrize(
    ("html", "expected"),
    [
        ('<p>Logo</p><img src="https://cdn.example/logo.png">', True),
        ('<img src="http://cdn.example/logo.png">', True),
        ('<img src="data:image/png;base64,iVBORw0KGgo=">', False),
        ("<p>No pictures at all</p>", False),
        ('<script src="https://evil.example/x.js"></script>', False),
        ('<iframe src="https://evil.example/frame.html"></iframe>', False),
        ("", False),
    ],
)
def test_remote_images_are_noted_as_the_cleaned_body_would_show_them(
    html: str, expected: bool
) -> None:
    assert has_remote_images(html) is expected
    assert clean_email_html(html).has_remote_images is expected


@pytest.mark.parametrize(
    ("html", "expected"),
    [
        ("<p>Price</p><p>Total&nbsp;&amp; tax</p>", "Price Total & tax"),
        ("<table><tr><td>Qty</td><td>40</td></tr></table>", "Qty 40"),
        ("Line one<br>Line two", "Line one Line two"),
        ("<b>Tues</b>day &lt;noon&gt;", "Tuesday <noon>"),
        ("<style>p { color: red }</style><script>track()</script>Hi", "Hi"),
        ("<!-- a comment -->\n\n  Spaced \t out\n", "Spaced out"),
        ("", ""),
    ],
)
def test_html_as_text_keeps_the_words_and_drops_the_markup(
    html: str, expected: str
) -> None:
    assert html_as_text(html) == expected
