"""Parsing RFC 822 sources from either provider, and building outbound ones."""

from __future__ import annotations

import base64
import random
from datetime import UTC, datetime, timedelta, timezone
from email import message_from_bytes
from pathlib import Path
from typing import Any

import pytest

from mailsync.parsing import (
    MAX_BODY_CHARS,
    Address,
    ParsedMessage,
    build_message,
    extract_part,
    parse_message,
)

CORPUS = Path(__file__).parent / "mime"


def eml(source: str) -> bytes:
    """Turn readable test source into CRLF bytes, as providers hand it over."""
    return source.lstrip("\n").replace("\n", "\r\n").encode("utf-8")


def with_headers(headers: str, body: str = "Hello.\n") -> bytes:
    return eml(f"{headers.strip()}\n\n{body}")


def b_word(text: str, charset: str) -> str:
    encoded = base64.b64encode(text.encode(charset)).decode("ascii")
    return f"=?{charset}?B?{encoded}?="


def corpus(name: str) -> bytes:
    return (CORPUS / name).read_bytes()


def outbound(**overrides: Any) -> dict[str, Any]:
    arguments: dict[str, Any] = {
        "sender": Address("gina@revstackr.test", "Gina Ölund"),
        "to": [Address("renee@northwind.test", "Renée Müller")],
        "subject": "Quote",
        "text_body": "Hello.\n",
        "message_id": "<out-1@revstackr.test>",
        "date": datetime(2024, 5, 14, 9, 30, tzinfo=UTC),
    }
    arguments.update(overrides)
    return arguments


# Message IDs and threading headers


def test_message_id_keeps_angle_brackets_and_drops_whitespace() -> None:
    parsed = parse_message(with_headers("Message-ID:  \n <abc.123@mail.test>  "))

    assert parsed.message_id == "<abc.123@mail.test>"


def test_message_id_without_angle_brackets_gets_them() -> None:
    parsed = parse_message(with_headers("Message-ID: abc.123@mail.test"))

    assert parsed.message_id == "<abc.123@mail.test>"


def test_garbage_message_id_is_empty_and_noted() -> None:
    parsed = parse_message(with_headers("Message-ID: not an id at all"))

    assert parsed.message_id == ""
    assert "unreadable Message-ID header" in parsed.problems


def test_missing_message_id_is_empty() -> None:
    parsed = parse_message(with_headers("Subject: hi"))

    assert parsed.message_id == ""
    assert parsed.in_reply_to == ""
    assert parsed.references == []


def test_in_reply_to_is_the_first_message_id() -> None:
    parsed = parse_message(
        with_headers("In-Reply-To: <one@mail.test> (Gina's note) <two@mail.test>")
    )

    assert parsed.in_reply_to == "<one@mail.test>"


def test_references_keep_order_through_commas_newlines_and_garbage() -> None:
    parsed = parse_message(
        with_headers(
            "References: <a@mail.test>,<b@mail.test>\n"
            "\tgarbage (comment) <c@mail.test>\n"
            " <a@mail.test> <>, <d@mail.test"
        )
    )

    assert parsed.references == ["<a@mail.test>", "<b@mail.test>", "<c@mail.test>"]


# Subject


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("Subject: =?utf-8?q?Caf=C3=A9_menu?=", "Café menu"),
        (f"Subject: Re: {b_word('見積もりの件', 'shift_jis')}", "Re: 見積もりの件"),
        (f"Subject: {b_word('見積もりの件', 'iso-2022-jp')}", "見積もりの件"),
        (f"Subject: {b_word('Привет, мир', 'koi8-r')}", "Привет, мир"),
        ("Subject: =?KOI8-R?Q?=F0=D2=C9=D7=C5=D4?=", "Привет"),
        # Two words split one UTF-8 character between them.
        ("Subject: =?utf-8?b?w6k=?= =?utf-8?q?=C3?= =?utf-8?q?=A9t=C3=A9?=", "éété"),
        # Whitespace between encoded words is dropped, around plain text kept.
        ("Subject: =?utf-8?q?a?=\n =?utf-8?q?b?= c =?utf-8?q?d?=", "ab c d"),
        (
            "Subject: A long subject\n\tfolded over\n  three lines",
            ("A long subject folded over three lines"),
        ),
        ("Subject: =?utf-8?q?line=0D=0Abreak?=", "line break"),
        ("Subject: =?utf-8*en?q?with_language?=", "with language"),
        ("Subject: =?utf-8?b?Q2Fmw6k?=", "Café"),  # missing padding
        ("Subject: =?x-no-such-charset?q?caf=C3=A9?=", "café"),
        ("Subject: =?utf-8?q?broken", "=?utf-8?q?broken"),
        ("Subject:", ""),
    ],
)
def test_subject_is_decoded_to_one_line(header: str, expected: str) -> None:
    assert parse_message(with_headers(header)).subject == expected


def test_subject_in_raw_utf8_is_read() -> None:
    raw = "Subject: Grüße aus Köln\r\n\r\nHi\r\n".encode()

    assert parse_message(raw).subject == "Grüße aus Köln"


def test_subject_in_raw_windows_1252_is_read() -> None:
    parsed = parse_message(corpus("mislabelled_windows1252.eml"))

    assert parsed.subject == "Café “menu”"
    assert parsed.sender == Address("chloe@example.fr", "Chloé")


def test_unknown_charset_in_subject_is_noted() -> None:
    parsed = parse_message(with_headers("Subject: =?x-no-such-charset?q?hi?="))

    assert "unknown charset 'x-no-such-charset' in Subject" in parsed.problems


# Date


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("Tue, 14 May 2024 18:15:00 +0200", datetime(2024, 5, 14, 16, 15, tzinfo=UTC)),
        ("14 May 2024 18:15:00 -0700 (PDT)", datetime(2024, 5, 15, 1, 15, tzinfo=UTC)),
        ("Tue, 14 May 2024 18:15:00 -0000", datetime(2024, 5, 14, 18, 15, tzinfo=UTC)),
        ("Tue, 14 May 2024 18:15:00", datetime(2024, 5, 14, 18, 15, tzinfo=UTC)),
        ("Tue, 14 May 24 18:15 GMT", datetime(2024, 5, 14, 18, 15, tzinfo=UTC)),
        ("2024-05-14T18:15:00+02:00", datetime(2024, 5, 14, 16, 15, tzinfo=UTC)),
    ],
)
def test_date_becomes_an_aware_utc_datetime(header: str, expected: datetime) -> None:
    sent_at = parse_message(with_headers(f"Date: {header}")).sent_at

    assert sent_at == expected
    assert sent_at is not None and sent_at.tzinfo == UTC


@pytest.mark.parametrize(
    "header", ["yesterday at noon", "Tue, 45 Foo 2024 99:99:99 +0200", "", "\x00"]
)
def test_garbage_date_is_none_and_noted(header: str) -> None:
    parsed = parse_message(with_headers(f"Date: {header}"))

    assert parsed.sent_at is None
    assert "unreadable Date header" in parsed.problems


def test_missing_date_is_none_and_noted() -> None:
    parsed = parse_message(with_headers("Subject: hi"))

    assert parsed.sent_at is None
    assert "no Date header" in parsed.problems


# Addresses


def test_addresses_are_lower_cased_with_decoded_names() -> None:
    parsed = parse_message(corpus("outlook_nested.eml"))

    assert parsed.sender == Address("renee.mueller@northwind.test", "Renée Müller")
    assert parsed.to == [
        Address("gina@revstackr.test", "Gina, Sales"),
        Address("sam@revstackr.test", "Sam"),
    ]
    assert parsed.participants == {
        "renee.mueller@northwind.test",
        "gina@revstackr.test",
        "sam@revstackr.test",
    }


def test_group_syntax_yields_its_members() -> None:
    parsed = parse_message(corpus("outlook_nested.eml"))

    assert parsed.cc == []
    assert parsed.reply_to == [
        Address("help@northwind.test"),
        Address("ops@northwind.test", "Ops"),
    ]
    assert not any("address" in problem for problem in parsed.problems)


def test_malformed_addresses_are_skipped_and_noted() -> None:
    parsed = parse_message(
        with_headers(
            "From: sam@revstackr.test\n"
            "To: Gina <gina@revstackr.test>, just-a-name, <@nowhere>, a@b@c,"
            " <renee@northwind.test>"
        )
    )

    assert [person.address for person in parsed.to] == [
        "gina@revstackr.test",
        "renee@northwind.test",
    ]
    assert "malformed address in To header" in parsed.problems


def test_duplicate_addresses_keep_the_first() -> None:
    parsed = parse_message(
        with_headers(
            "To: Gina <gina@revstackr.test>, GINA@revstackr.test\n"
            "To: Sam <sam@revstackr.test>, Other Gina <Gina@RevStackr.test>"
        )
    )

    assert parsed.to == [
        Address("gina@revstackr.test", "Gina"),
        Address("sam@revstackr.test", "Sam"),
    ]


def test_encoded_name_in_quotes_and_raw_utf8_name_are_decoded() -> None:
    raw = (
        b'From: "=?utf-8?q?Zo=C3=AB?=" <zoe@mail.test>\r\n'
        b"To: J\xc3\xbcrgen <jurgen@mail.test>\r\n\r\nHi\r\n"
    )

    parsed = parse_message(raw)

    assert parsed.sender == Address("zoe@mail.test", "Zoë")
    assert parsed.to == [Address("jurgen@mail.test", "Jürgen")]


@pytest.mark.parametrize(
    "hostile",
    [
        '"' * 20_001,
        "(" * 900 + "x@y.test",
        "\\" * 50_001,
        "=?utf-8?q?a?= " * 20_000 + "<x@y.test>",
        "<" * 50_000,
        "a:" * 50_000,
    ],
)
def test_hostile_address_list_costs_only_its_own_item(hostile: str) -> None:
    parsed = parse_message(
        with_headers(f"To: Gina <gina@revstackr.test>, sam@revstackr.test, {hostile}")
    )

    assert [person.address for person in parsed.to] == [
        "gina@revstackr.test",
        "sam@revstackr.test",
    ]


def test_message_without_from_has_no_sender() -> None:
    parsed = parse_message(with_headers("To: gina@revstackr.test"))

    assert parsed.sender is None
    assert "no sender address" in parsed.problems


# Bodies


def test_nested_alternative_gives_both_bodies() -> None:
    parsed = parse_message(corpus("outlook_nested.eml"))

    assert parsed.text_body == "Hello Gina,\n\nHere is the révision. Thanks!\n"
    assert parsed.html_body == (
        '<p>Hello Gina,</p><p>Here is the révision.</p><img src="cid:logo@northwind">'
    )
    assert parsed.subject == "Quote for Q3 \u2013 révision 2"
    assert parsed.message_id == (
        "<DM6PR11MB4321ABCD@DM6PR11MB4321.namprd11.prod.outlook.test>"
    )
    assert parsed.in_reply_to == "<first@revstackr.test>"
    assert parsed.references == ["<root@revstackr.test>", "<first@revstackr.test>"]
    assert parsed.sent_at == datetime(2024, 5, 14, 16, 15, tzinfo=UTC)
    assert parsed.problems == []


def test_last_alternative_of_a_kind_wins() -> None:
    raw = eml("""
Content-Type: multipart/alternative; boundary=b

--b
Content-Type: text/plain

plain first
--b
Content-Type: text/enriched

<bold>rich</bold>
--b
Content-Type: text/plain; charset=utf-8

plain best
--b--
""")

    parsed = parse_message(raw)

    assert parsed.text_body == "plain best"
    assert [part.content_type for part in parsed.attachments] == ["text/enriched"]


def test_html_only_message_leaves_text_empty() -> None:
    parsed = parse_message(
        with_headers("Content-Type: text/html; charset=utf-8", "<p>Hi</p>\n")
    )

    assert parsed.text_body == ""
    assert parsed.html_body == "<p>Hi</p>\n"
    assert parsed.attachments == []


def test_inline_text_parts_after_the_body_are_appended() -> None:
    raw = eml("""
Content-Type: multipart/mixed; boundary=b

--b
Content-Type: text/plain

Body
--b
Content-Type: text/plain

-- list footer
--b--
""")

    assert parse_message(raw).text_body == "Body\n-- list footer"


def test_iso_2022_jp_message_is_read() -> None:
    parsed = parse_message(corpus("japanese_iso2022jp.eml"))

    assert parsed.subject == "見積もりの件"
    assert parsed.sender == Address("yamada@example.jp", "山田太郎")
    assert parsed.text_body == "山田様\nお世話になっております。\n"
    assert parsed.problems == []


def test_windows_1252_labelled_utf8_falls_back() -> None:
    parsed = parse_message(corpus("mislabelled_windows1252.eml"))

    assert parsed.text_body == "Le café est “prêt” \u2013 à bientôt.\n"
    assert parsed.problems == ["text in part 1 does not match charset 'utf-8'"]


@pytest.mark.parametrize("charset", ["unknown-8bit", "x-user-defined", "8bit"])
def test_placeholder_charsets_are_guessed_quietly(charset: str) -> None:
    raw = with_headers(
        f"Content-Type: text/plain; charset={charset}\nContent-Transfer-Encoding: 8bit"
    )
    raw = raw.replace(b"Hello.", "Grüße".encode())

    parsed = parse_message(raw)

    assert parsed.text_body == "Grüße\n"
    assert parsed.problems == [
        "no Message-ID header",
        "no Date header",
        "no sender address",
    ]


def test_unknown_charset_is_guessed_and_noted() -> None:
    raw = with_headers("Content-Type: text/plain; charset=klingon-1")
    raw = raw.replace(b"Hello.", "caf\xe9".encode("cp1252"))

    parsed = parse_message(raw)

    assert parsed.text_body == "café\n"
    assert "unknown charset 'klingon-1' in part 1" in parsed.problems


def test_mostly_utf8_body_with_a_stray_byte_stays_utf8() -> None:
    raw = with_headers("Content-Type: text/plain; charset=utf-8")
    raw = raw.replace(b"Hello.", "Grüße aus Köln ".encode() + b"\xff")

    assert parse_message(raw).text_body == "Grüße aus Köln \ufffd\n"


def test_broken_base64_body_is_noted_and_kept() -> None:
    raw = with_headers(
        "Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: base64",
        "SGVsbG8gd29y!!bGQ\n",
    )

    parsed = parse_message(raw)

    assert parsed.text_body.startswith("Hello wor")
    assert "broken base64 in part 1" in parsed.problems


def test_quoted_printable_latin1_body_is_decoded() -> None:
    raw = with_headers(
        "Content-Type: text/plain; charset=iso-8859-1\n"
        "Content-Transfer-Encoding: quoted-printable",
        "Caf=E9 cr=E8me=\n br=FBl=E9e\n",
    )

    assert parse_message(raw).text_body == "Café crème brûlée\n"


def test_body_over_the_cap_is_truncated_and_noted() -> None:
    raw = with_headers("Subject: big", "x" * (MAX_BODY_CHARS + 10))

    parsed = parse_message(raw)

    assert len(parsed.text_body) == MAX_BODY_CHARS
    assert f"text body truncated to {MAX_BODY_CHARS} characters" in parsed.problems


# Attachments


def test_attachments_carry_path_type_size_and_content_id() -> None:
    parsed = parse_message(corpus("outlook_nested.eml"))

    logo, quote, forwarded = parsed.attachments
    assert (logo.part_path, logo.content_type, logo.content_id) == (
        "1.2.2",
        "image/png",
        "logo@northwind",
    )
    assert logo.inline is True
    assert logo.size == 8 + 256 * 4
    assert logo.filename == "untitled.png"

    assert quote.filename == "Devis Q3 \u2013 révision.pdf"
    assert (quote.part_path, quote.content_type, quote.inline) == (
        "2",
        "application/pdf",
        False,
    )
    assert quote.size == len(b"%PDF-1.4\n" + b"\x00\x01\x02binary" * 50)

    assert forwarded.content_type == "message/rfc822"
    assert forwarded.filename == "Earlier quote.eml"
    assert forwarded.part_path == "3"
    assert "forwarded" not in parsed.text_body


@pytest.mark.parametrize(
    ("disposition", "expected"),
    [
        ('attachment; filename="=?utf-8?b?UsOpc3Vtw6kucGRm?="', "Résumé.pdf"),
        ("attachment; filename*=iso-8859-1'fr'R%E9sum%E9.pdf", "Résumé.pdf"),
        ("attachment; filename*=utf-8''%E8%A6%8B%E7%A9%8D.pdf", "見積.pdf"),
        ("attachment; filename*=x-bogus''caf%C3%A9.pdf", "café.pdf"),
        ('attachment; filename="../../etc/passwd"', "passwd"),
        ('attachment; filename="C:\\Users\\gina\\report.pdf"', "report.pdf"),
        ('attachment; filename="evil\u202egnp.exe"', "evilgnp.exe"),
        ('attachment; filename="tab\there\x07.txt"', "tab here.txt"),
        ('attachment; filename=".."', "untitled.pdf"),
        ("attachment", "untitled.pdf"),
    ],
)
def test_attachment_filenames_are_decoded_and_made_safe(
    disposition: str, expected: str
) -> None:
    raw = eml(f"""
Content-Type: multipart/mixed; boundary=b

--b
Content-Type: text/plain

Body
--b
Content-Type: application/pdf
Content-Disposition: {disposition}
Content-Transfer-Encoding: base64

JVBERg==
--b--
""")

    (attachment,) = parse_message(raw).attachments

    assert attachment.filename == expected
    assert attachment.size == 4


def test_named_text_part_is_an_attachment_not_the_body() -> None:
    raw = eml("""
Content-Type: multipart/mixed; boundary=b

--b
Content-Type: text/plain

Body
--b
Content-Type: text/plain; name="notes.txt"

Notes
--b
Content-Type: text/calendar; method=REQUEST

BEGIN:VCALENDAR
--b--
""")

    parsed = parse_message(raw)

    assert parsed.text_body == "Body"
    assert [(item.filename, item.part_path) for item in parsed.attachments] == [
        ("notes.txt", "2"),
        ("untitled.ics", "3"),
    ]


def test_single_part_attachment_message_has_path_1() -> None:
    raw = with_headers(
        "Content-Type: application/pdf; name=scan.pdf\n"
        "Content-Transfer-Encoding: base64",
        "JVBERg==\n",
    )

    parsed = parse_message(raw)

    assert parsed.text_body == ""
    assert [(item.filename, item.part_path) for item in parsed.attachments] == [
        ("scan.pdf", "1")
    ]
    assert extract_part(raw, "1") == (b"%PDF", "application/pdf", "scan.pdf")


# Extracting a part for download


def test_extract_part_returns_the_decoded_attachment() -> None:
    raw = corpus("outlook_nested.eml")

    content, content_type, filename = extract_part(raw, "2")

    assert content == b"%PDF-1.4\n" + b"\x00\x01\x02binary" * 50
    assert (content_type, filename) == (
        "application/pdf",
        "Devis Q3 \u2013 révision.pdf",
    )
    assert extract_part(raw, "1.2.2")[0].startswith(b"\x89PNG")


def test_extract_part_returns_an_attached_email_as_source() -> None:
    raw = corpus("outlook_nested.eml")

    content, content_type, filename = extract_part(raw, "3")

    attached = parse_message(content)
    assert content_type == "message/rfc822"
    assert filename == "Earlier quote.eml"
    assert attached.message_id == "<earlier@revstackr.test>"
    assert attached.text_body == "This forwarded text is not the body.\n"
    assert len(content) == parse_message(raw).attachments[2].size


@pytest.mark.parametrize("path", ["4", "1.5", "2.1", "0", "", "1..2", "a", "1"])
def test_extract_part_raises_key_error_for_a_missing_part(path: str) -> None:
    # "1" names the multipart/alternative, which has no content of its own.
    with pytest.raises(KeyError):
        extract_part(corpus("outlook_nested.eml"), path)


# Odd sources


def test_non_mime_message_is_plain_text() -> None:
    raw = b"From: sam@revstackr.test\nSubject: old school\n\nJust text, \xe9.\n"

    parsed = parse_message(raw)

    assert parsed.subject == "old school"
    assert parsed.text_body == "Just text, é.\n"


@pytest.mark.parametrize(
    "raw", [b"", b"\r\n", b"just some text\nwith no headers\n", b"\x00\x00"]
)
def test_source_without_headers_is_read_as_text(raw: bytes) -> None:
    parsed = parse_message(raw)

    assert parsed.message_id == ""
    assert parsed.sender is None
    assert parsed.size == len(raw)
    assert "\x00" not in parsed.text_body


def test_nul_bytes_are_dropped_from_headers_and_bodies() -> None:
    raw = b"From: sam@revstackr.test\r\nSubject: a\x00b\r\n\r\nbo\x00dy\r\n"

    parsed = parse_message(raw)

    assert parsed.subject == "ab"
    assert parsed.text_body == "body\n"
    assert "NUL characters removed from part 1" in parsed.problems


def test_bare_lf_line_endings_are_read() -> None:
    raw = corpus("outlook_nested.eml").replace(b"\r\n", b"\n")

    parsed = parse_message(raw)

    assert parsed.text_body == "Hello Gina,\n\nHere is the révision. Thanks!\n"
    assert len(parsed.attachments) == 3
    assert parsed.problems == []


def test_ten_thousand_line_header_is_read() -> None:
    references = "\n".join(f" <id{number}@mail.test>" for number in range(10_000))
    subject = "\n".join(" word" for _ in range(10_000))
    raw = with_headers(f"References:{references}\nSubject:{subject}")

    parsed = parse_message(raw)

    assert len(parsed.references) == 10_000
    assert parsed.references[-1] == "<id9999@mail.test>"
    assert parsed.subject.startswith("word word")
    assert "subject truncated to 2000 characters" in parsed.problems


def test_very_long_header_line_is_read() -> None:
    raw = with_headers(f"Subject: {'x' * 100_000}\nX-Long: {'y' * 100_000}")

    assert parse_message(raw).subject == "x" * 2000


def deeply_nested(depth: int) -> bytes:
    opening = "".join(
        f"--b{level}\nContent-Type: multipart/mixed; boundary=b{level + 1}\n\n"
        for level in range(depth)
    )
    closing = "".join(f"--b{level}--\n" for level in reversed(range(depth)))
    innermost = f"--b{depth}\nContent-Type: text/plain\n\ndeep\n--b{depth}--\n"
    return eml(
        f"Content-Type: multipart/mixed; boundary=b0\n\n{opening}{innermost}{closing}"
    )


def test_moderately_nested_multiparts_are_read() -> None:
    parsed = parse_message(deeply_nested(20))

    assert parsed.text_body == "deep"


@pytest.mark.parametrize("depth", [100, 1500])
def test_absurdly_nested_multiparts_do_not_crash(depth: int) -> None:
    parsed = parse_message(deeply_nested(depth))

    assert parsed.text_body == ""
    assert any("nested too deeply" in problem for problem in parsed.problems)


def test_multipart_without_boundary_is_read_as_text() -> None:
    parsed = parse_message(with_headers("Content-Type: multipart/mixed", "Text.\n"))

    assert parsed.text_body == "Text.\n"
    assert "multipart part 1 has no parts; read as text" in parsed.problems


def test_random_corruption_never_raises() -> None:
    source = corpus("outlook_nested.eml")
    chaos = random.Random(20240514)
    garbage = [b"\x00", b"\r", b"\n", b"=?", b"?=", b"<", b">", b"--", b";", b'"']

    for _ in range(500):
        mutated = bytearray(source)
        for _ in range(chaos.randint(1, 20)):
            position = chaos.randrange(len(mutated))
            action = chaos.random()
            if action < 0.4:
                mutated[position] = chaos.randrange(256)
            elif action < 0.7:
                mutated[position:position] = chaos.choice(garbage)
            else:
                del mutated[position : position + chaos.randint(1, 200)]

        parsed = parse_message(bytes(mutated))

        assert isinstance(parsed, ParsedMessage)
        for attachment in parsed.attachments:
            content, _, _ = extract_part(bytes(mutated), attachment.part_path)
            assert len(content) == attachment.size


# Building outbound mail


def test_round_trip_keeps_everything() -> None:
    attachments = [
        (
            "Devis Q3 \u2013 révision très détaillée, version finale.pdf",
            "application/pdf",
            b"%PDF\x00\xff" * 300,
        ),
        ("notes.txt", "text/plain", b"line one\r\nline two\n"),
        ("photo.png", "image/png", b"\x89PNG\r\n\x1a\n"),
    ]
    raw = build_message(
        sender=Address("gina@revstackr.test", 'Gina "G" Ölund, Sales'),
        to=[
            Address("renee@northwind.test", "Renée Müller"),
            Address("sam@revstackr.test"),
        ],
        cc=[Address("ops@northwind.test", "Ёжик")],
        bcc=[Address("boss@revstackr.test", "Boss")],
        subject=(
            "Re: Привет — 😀 a long subject that has to be folded over several "
            "lines, with =?odd?= text"
        ),
        text_body="Hello Renée,\n\nSee attached.\n" + "long line " * 50 + "\n",
        html_body="<p>Hello Renée,</p>\n",
        message_id="<" + "a" * 100 + "@revstackr.test>",
        in_reply_to="<theirs@northwind.test>",
        references=["<root@northwind.test>", "<" + "r" * 90 + "@x.test>"],
        attachments=attachments,
        date=datetime(2024, 5, 14, 9, 30, tzinfo=timezone(timedelta(hours=-7))),
        extra_headers={"X-RevStackr-Message": "42"},
        include_bcc=True,
    )

    parsed = parse_message(raw)

    assert parsed.problems == []
    assert parsed.message_id == "<" + "a" * 100 + "@revstackr.test>"
    assert parsed.in_reply_to == "<theirs@northwind.test>"
    assert parsed.references == ["<root@northwind.test>", "<" + "r" * 90 + "@x.test>"]
    assert parsed.subject == (
        "Re: Привет — 😀 a long subject that has to be folded over several "
        "lines, with =?odd?= text"
    )
    assert parsed.sent_at == datetime(2024, 5, 14, 16, 30, tzinfo=UTC)
    assert parsed.sender == Address("gina@revstackr.test", 'Gina "G" Ölund, Sales')
    assert parsed.to == [
        Address("renee@northwind.test", "Renée Müller"),
        Address("sam@revstackr.test"),
    ]
    assert parsed.cc == [Address("ops@northwind.test", "Ёжик")]
    assert parsed.bcc == [Address("boss@revstackr.test", "Boss")]
    assert parsed.text_body == (
        "Hello Renée,\n\nSee attached.\n" + "long line " * 50 + "\n"
    )
    assert parsed.html_body == "<p>Hello Renée,</p>\n"
    assert [
        (item.filename, item.content_type, item.size) for item in parsed.attachments
    ] == [(name, kind, len(content)) for name, kind, content in attachments]
    for item, (name, kind, content) in zip(
        parsed.attachments, attachments, strict=True
    ):
        assert extract_part(raw, item.part_path) == (content, kind, name)


def test_round_trip_of_an_attached_email() -> None:
    forwarded = eml("""
From: Sam <sam@revstackr.test>
Subject: Earlier quote
Message-ID: <earlier@revstackr.test>

Old text.
""")
    raw = build_message(
        **outbound(attachments=[("earlier.eml", "message/rfc822", forwarded)])
    )

    (attachment,) = parse_message(raw).attachments
    content, content_type, filename = extract_part(raw, attachment.part_path)

    assert (content_type, filename) == ("message/rfc822", "earlier.eml")
    assert parse_message(content).message_id == "<earlier@revstackr.test>"
    assert parse_message(content).text_body == "Old text.\n"


def test_bcc_is_left_out_unless_asked() -> None:
    bcc = [Address("boss@revstackr.test")]

    hidden = build_message(**outbound(bcc=bcc))
    shown = build_message(**outbound(bcc=bcc, include_bcc=True))

    assert b"boss@revstackr.test" not in hidden
    assert parse_message(shown).bcc == bcc


@pytest.mark.parametrize(
    ("overrides", "structure"),
    [
        ({}, ["text/plain"]),
        (
            {"html_body": "<p>Hi</p>"},
            ["multipart/alternative", "text/plain", "text/html"],
        ),
        (
            {
                "html_body": "<p>Hi</p>",
                "attachments": [("a.pdf", "application/pdf", b"x")],
            },
            [
                "multipart/mixed",
                "multipart/alternative",
                "text/plain",
                "text/html",
                "application/pdf",
            ],
        ),
    ],
)
def test_structure_follows_what_is_sent(
    overrides: dict[str, Any], structure: list[str]
) -> None:
    raw = build_message(**outbound(**overrides))

    message = message_from_bytes(raw)
    assert [part.get_content_type() for part in message.walk()] == structure
    assert raw.count(b"MIME-Version") == 1
    assert raw.isascii()


def test_non_ascii_bodies_are_utf8() -> None:
    raw = build_message(**outbound(text_body="Grüße 😀\n", html_body="<p>é</p>"))

    charsets = [part.get_content_charset() for part in message_from_bytes(raw).walk()]
    assert charsets == [None, "utf-8", "utf-8"]
    assert parse_message(raw).text_body == "Grüße 😀\n"


@pytest.mark.parametrize(
    "overrides",
    [
        {"subject": "Hi\r\nBcc: victim@evil.test"},
        {"subject": "Hi\nthere"},
        {"subject": "Hi\u2028there"},
        {"sender": Address("gina@revstackr.test", "Gina\r\nBcc: victim@evil.test")},
        {"to": [Address("a@b.test\nBcc: victim@evil.test")]},
        {"message_id": "<a@b>\r\nBcc: victim@evil.test"},
        {"in_reply_to": "<a@b>\n"},
        {"references": ["<a@b>", "<c@d>\r\nX: y"]},
        {"extra_headers": {"X-Note": "a\r\nBcc: victim@evil.test"}},
        {"attachments": [("a\r\n.pdf", "application/pdf", b"x")]},
    ],
)
def test_line_breaks_in_headers_are_refused(overrides: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="line break"):
        build_message(**outbound(**overrides))


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"message_id": "no-brackets@revstackr.test"}, "not a message ID"),
        ({"references": ["<ok@x>", "bad"]}, "not a message ID"),
        ({"to": [Address("not-an-address")]}, "not an email address"),
        ({"to": [Address("jürgen@mail.test")]}, "non-ASCII local part"),
        ({"to": []}, "at least one recipient"),
        ({"date": datetime(2024, 5, 14, 9, 30)}, "timezone-aware"),
        ({"extra_headers": {"Subject": "again"}}, "set by build_message"),
        ({"extra_headers": {"Bad Name": "x"}}, "not a header name"),
        ({"attachments": [("a.pdf", "pdf", b"x")]}, "not a content type"),
    ],
)
def test_unsendable_input_is_refused(overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        build_message(**outbound(**overrides))


def test_international_domain_is_sent_as_punycode() -> None:
    raw = build_message(**outbound(to=[Address("gina@bücher.test")]))

    assert b"gina@xn--bcher-kva.test" in raw
