import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from contacts.csv_files import (
    MAX_ROWS,
    CsvFileError,
    neutralize_cell,
    read_contact_rows,
    restore_cell,
)
from contacts.models import Contact, ContactImport
from tests.contacts.factories import ContactFactory

pytestmark = pytest.mark.django_db

GOOD_AND_BAD = (
    "First name,Last name,Company,Phone,Emails,Favourite colour\n"
    "Ann,Lee,Acme,+1 555 0100,ann@acme.com; ann@home.net,blue\n"
    "Bo,Berg,,,not-an-address,red\n"
    "Cy,Young,Initech,,,green\n"
    'Di,Dee,=HYPERLINK("http://evil.test"),,di@dee.org,\n'
    "Ed,Ng,,,ann@home.net,\n"
)


def upload(client: Client, text: str, name: str = "people.csv"):
    file = SimpleUploadedFile(name, text.encode(), content_type="text/csv")
    return client.post(reverse("contacts:import"), {"file": file})


def test_the_preview_lists_what_will_happen_and_saves_nothing(contacts_client):
    response = upload(contacts_client, GOOD_AND_BAD)
    preview = contacts_client.get(response["Location"])

    assert response.status_code == 302
    assert not Contact.objects.exists()
    assert "2 new" in preview.text
    assert "3 with errors" in preview.text
    assert "&quot;not-an-address&quot; is not a valid email address." in preview.text
    assert "No email address." in preview.text
    assert "ann@home.net is also on line 2." in preview.text
    assert "Columns not imported: Favourite colour." in preview.text


def test_confirming_imports_the_good_rows(contacts_client, contacts_user):
    preview_url = upload(contacts_client, GOOD_AND_BAD)["Location"]

    response = contacts_client.post(preview_url)

    assert response.status_code == 302
    ann = Contact.objects.get(first_name="Ann")
    assert ann.owner == contacts_user
    assert ann.phone == "+1 555 0100"
    assert [e.address for e in ann.sorted_emails] == ["ann@acme.com", "ann@home.net"]
    assert (
        Contact.objects.get(first_name="Di").company == '=HYPERLINK("http://evil.test")'
    )
    assert Contact.objects.count() == 2
    done = ContactImport.objects.get()
    assert (done.created_count, done.error_count, done.content) == (2, 3, "")


def test_the_error_report_lists_each_refused_row(contacts_client):
    preview_url = upload(contacts_client, GOOD_AND_BAD)["Location"]
    pk = ContactImport.objects.get().pk

    response = contacts_client.get(reverse("contacts:import_errors", args=[pk]))

    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert preview_url
    assert [row[0] for row in rows] == ["Line", "3", "4", "6"]


def test_the_error_report_stays_after_the_import(contacts_client):
    preview_url = upload(contacts_client, GOOD_AND_BAD)["Location"]
    contacts_client.post(preview_url)
    staged = ContactImport.objects.get()
    report_url = reverse("contacts:import_errors", args=[staged.pk])

    done = contacts_client.get(preview_url)
    response = contacts_client.get(report_url)

    assert staged.content == ""
    assert report_url in done.text
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [row[0] for row in rows] == ["Line", "3", "4", "6"]


def test_importing_the_same_file_twice_creates_no_duplicates(contacts_client):
    contacts_client.post(upload(contacts_client, GOOD_AND_BAD)["Location"])

    second = upload(contacts_client, GOOD_AND_BAD.replace("Acme", "Acme Inc"))
    preview = contacts_client.get(second["Location"])
    contacts_client.post(second["Location"])

    assert "0 new" in preview.text
    assert "1 updated" in preview.text
    assert Contact.objects.count() == 2
    assert Contact.objects.get(first_name="Ann").company == "Acme Inc"


def test_a_row_matches_its_contact_by_any_address_in_any_case(
    contacts_client, contacts_user
):
    ann = ContactFactory(account=contacts_user.account, addresses=["ann@acme.com"])

    contacts_client.post(
        upload(contacts_client, "Name,Email 1,Email 2\nAnn Lee,X@y.com,ANN@ACME.COM\n")[
            "Location"
        ]
    )

    assert Contact.objects.get() == ann
    assert {e.normalized for e in ann.emails.all()} == {"ann@acme.com", "x@y.com"}
    assert ann.primary_address == "ann@acme.com"


def test_the_export_round_trips_and_neutralises_formulas(
    contacts_client, contacts_user
):
    ContactFactory(
        account=contacts_user.account,
        first_name="=1+2",
        last_name="@SUM(A1)",
        company="-Acme",
        phone="+1 555",
        notes="\tTabbed",
        addresses=["ann@acme.com", "ann@home.net"],
    )

    exported = b"".join(
        contacts_client.get(reverse("contacts:export")).streaming_content
    ).decode()
    rows = list(csv.reader(io.StringIO(exported)))
    Contact.objects.all().delete()
    contacts_client.post(upload(contacts_client, exported)["Location"])

    assert rows[1][:5] == [
        "'=1+2",
        "'@SUM(A1)",
        "'-Acme",
        "'+1 555",
        "ann@acme.com; ann@home.net",
    ]
    assert rows[1][6] == "'\tTabbed"
    back = Contact.objects.get()
    assert (back.first_name, back.last_name, back.company, back.phone) == (
        "=1+2",
        "@SUM(A1)",
        "-Acme",
        "+1 555",
    )
    assert [e.address for e in back.sorted_emails] == ["ann@acme.com", "ann@home.net"]


def test_the_export_follows_the_search(contacts_client, contacts_user):
    ContactFactory(account=contacts_user.account, first_name="Ann")
    ContactFactory(account=contacts_user.account, first_name="Bo")
    ContactFactory(first_name="Ann")  # another account

    response = contacts_client.get(reverse("contacts:export"), {"q": "ann"})

    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert response["Content-Disposition"].startswith("attachment;")
    assert [row[0] for row in rows[1:]] == ["Ann"]


@pytest.mark.parametrize(
    "value", ["=A1", "+1", "-1", "@x", "\tx", "\rx", "plain", "", "'quoted"]
)
def test_neutralising_a_cell_is_undone_on_import(value: str) -> None:
    assert restore_cell(neutralize_cell(value)) == value
    assert not neutralize_cell(value).startswith(("=", "+", "-", "@", "\t", "\r"))


def test_a_file_without_an_email_column_is_refused(contacts_client):
    response = upload(contacts_client, "Name,Company\nAnn,Acme\n")

    assert response.status_code == 200
    assert "Email" in response.text
    assert not ContactImport.objects.exists()


def test_a_file_too_large_is_refused(contacts_client, monkeypatch):
    monkeypatch.setattr("contacts.forms.MAX_UPLOAD_BYTES", 10)

    response = upload(contacts_client, "Name,Email\nAnn,ann@x.com\n")

    assert "larger than" in response.text
    assert not ContactImport.objects.exists()


def test_a_file_with_too_many_rows_is_refused() -> None:
    text = "Email\n" + "".join(f"p{n}@x.com\n" for n in range(MAX_ROWS + 1))

    with pytest.raises(CsvFileError, match="more than 10,000 rows"):
        read_contact_rows(text)


def test_a_windows_1252_file_with_semicolons_is_read(contacts_client):
    data = "Vorname;Nachname;E-Mail\nJürgen;Groß;jg@x.de\n".encode("cp1252")
    file = SimpleUploadedFile("de.csv", data, content_type="text/csv")
    contents = read_contact_rows(data.decode("cp1252"))

    response = contacts_client.post(reverse("contacts:import"), {"file": file})

    assert response.status_code == 302
    assert contents.rows[0].addresses == ["jg@x.de"]


def test_another_employees_upload_is_not_found(contacts_client, signed_in, admin_user):
    upload(contacts_client, "Email\nann@x.com\n")
    staged = ContactImport.objects.get()

    colleague = signed_in(admin_user)
    response = colleague.get(reverse("contacts:import_preview", args=[staged.pk]))

    assert response.status_code == 404
