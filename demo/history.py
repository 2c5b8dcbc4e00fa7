"""The mail the demo's sandbox mailboxes already hold when the demo starts.

Gina's Gmail and Owen's Outlook each have a few weeks of history: threads
with the demo contacts (with replies, some archived or filed in a folder)
and mail with people who are not contacts (newsletters, colleagues), which
the sync leaves out. Connecting either mailbox in the demo imports it.
"""

from __future__ import annotations

from dataclasses import dataclass

INBOX = "inbox"
ARCHIVE = "archive"


@dataclass(frozen=True)
class HistoryMessage:
    days_ago: float
    from_owner: bool
    text: str


@dataclass(frozen=True)
class HistoryThread:
    subject: str
    party: str  # the other side, "Name <address>"
    messages: tuple[HistoryMessage, ...]
    # Where mail from the other side is filed: INBOX, ARCHIVE, or the name
    # of a Gmail label / Outlook folder under the Inbox.
    folder: str = INBOX


@dataclass(frozen=True)
class DemoMailbox:
    provider: str  # "gmail" or "outlook", as Mailbox.Provider
    address: str
    name: str
    threads: tuple[HistoryThread, ...]

    @property
    def sender(self) -> str:
        return f"{self.name} <{self.address}>"


def _in(days_ago: float, text: str) -> HistoryMessage:
    return HistoryMessage(days_ago, from_owner=False, text=text)


def _out(days_ago: float, text: str) -> HistoryMessage:
    return HistoryMessage(days_ago, from_owner=True, text=text)


GINA_GMAIL = DemoMailbox(
    provider="gmail",
    address="gina@gmail.test",
    name="Gina Gmail",
    threads=(
        HistoryThread(
            "Spring catalogue order",
            "Maria Lopez <maria.lopez@contoso.test>",
            (
                _in(24.2, "Could you send the spring catalogue with trade prices?"),
                _out(23.9, "Attached is the catalogue; trade prices are on page 4."),
                _in(23.1, "Thanks. We'd like 40 cases of the olive oil to start."),
                _out(22.6, "Booked for delivery on the 14th. I'll confirm the slot."),
            ),
        ),
        HistoryThread(
            "Delivery schedule for Q3",
            "James Okafor <james.okafor@contoso.test>",
            (
                _out(20.3, "Here is the proposed Q3 schedule: every other Tuesday."),
                _in(19.6, "Tuesdays suit us. Can the first drop be a week early?"),
                _out(19.2, "Yes, the first delivery moves to the 2nd."),
            ),
            folder=ARCHIVE,
        ),
        HistoryThread(
            "Lunch next week?",
            "James Okafor <jokafor@gmail.test>",
            (
                _in(12.4, "Free for lunch on Thursday? My treat this time."),
                _out(12.1, "Thursday works. Noon at the usual place?"),
            ),
        ),
        HistoryThread(
            "Warehouse integration: next steps",
            "Hannah Schmidt <h.schmidt@fabrikam.test>",
            (
                _in(27.3, "Our IT team can start the integration on Monday."),
                _out(26.8, "Great. I've shared the API guide with your team."),
                _in(25.4, "They have a question about the stock level feed."),
                _out(24.9, "The feed updates every 15 minutes; I'll set up a call."),
            ),
            folder="Fabrikam",
        ),
        HistoryThread(
            "Pricing for the Tokyo route",
            "Kenji Sato <kenji.sato@fabrikam.test>",
            (
                _in(16.2, "Can you quote the Tokyo route for 12 pallets a month?"),
                _out(15.7, "Our quote is attached: EUR 1,850 per month, all in."),
                _in(10.3, "We have approval. Please send the contract."),
            ),
            folder="Fabrikam",
        ),
        HistoryThread(
            "Samples arrived",
            "Sofia Rossi <sofia.rossi@adventure-works.test>",
            (
                _in(6.4, "The samples arrived this morning, in perfect shape."),
                _out(6.1, "Glad to hear it. Let me know what the team thinks."),
            ),
        ),
        HistoryThread(
            "Contract renewal",
            "Elena Petrova <elena.p@gmail.test>",
            (
                _out(9.2, "Our contract ends next month; shall we renew for a year?"),
                _in(8.6, "Yes, but we'd like to add the Hamburg warehouse."),
                _out(8.1, "No problem, I'll send an updated draft this week."),
                _in(3.3, "Draft received. Legal will review it by Friday."),
            ),
        ),
        HistoryThread(
            "Introduction from Sofia",
            "Daniel Kim <daniel.kim@adventure-works.test>",
            (
                _out(4.4, "Sofia mentioned you're looking at new suppliers."),
                _in(2.2, "She did. Could we have a call on Wednesday?"),
            ),
        ),
        HistoryThread(
            "This week in freight: rates ease",
            "Logistics Weekly <digest@logistics-weekly.test>",
            (_in(21.0, "Container rates eased for a third week in a row."),),
        ),
        HistoryThread(
            "This week in freight: port congestion",
            "Logistics Weekly <digest@logistics-weekly.test>",
            (_in(14.0, "Congestion at northern European ports is easing."),),
        ),
        HistoryThread(
            "This week in freight: the peak season",
            "Logistics Weekly <digest@logistics-weekly.test>",
            (_in(7.0, "Carriers expect an early peak season this year."),),
        ),
        HistoryThread(
            "Can you cover the Contoso call?",
            "Owen Outlook <owen@northwind.test>",
            (
                _in(13.2, "I'm travelling on Thursday. Could you take Contoso?"),
                _out(13.0, "Sure, send me your notes."),
            ),
        ),
        HistoryThread(
            "Q3 targets",
            "Avery Admin <admin@northwind.test>",
            (_in(18.1, "The Q3 targets are in the shared folder. Questions welcome."),),
        ),
    ),
)


OWEN_OUTLOOK = DemoMailbox(
    provider="outlook",
    address="owen@outlook.test",
    name="Owen Outlook",
    threads=(
        HistoryThread(
            "Holiday toy line: order volumes",
            "Priya Raman <priya@tailspin.test>",
            (
                _in(26.2, "We're planning the holiday line. Can you hold capacity?"),
                _out(25.7, "We can hold 30 containers from September. Enough?"),
                _in(24.1, "Make it 35 and we have a deal."),
                _out(23.4, "35 it is. I've sent the booking confirmation."),
            ),
            folder="Tailspin",
        ),
        HistoryThread(
            "Invoice 4471",
            "Oliver Bennett <oliver.bennett@tailspin.test>",
            (
                _in(17.3, "Invoice 4471 shows the wrong VAT number."),
                _out(16.9, "Sorry about that; a corrected invoice is attached."),
                _in(16.2, "Thanks, that's the right one. Paid today."),
            ),
            folder="Tailspin",
        ),
        HistoryThread(
            "Conference in Berlin",
            "Priya Raman <priya.raman@outlook.test>",
            (
                _out(11.3, "Will you be at the toy fair in Berlin next month?"),
                _in(10.6, "I will. Let's grab a coffee on the second day."),
            ),
        ),
        HistoryThread(
            "Litware onboarding",
            "Amara Nwosu <amara@litware.test>",
            (
                _in(22.4, "We've signed. What do you need from us to start?"),
                _out(21.8, "Only your delivery addresses and opening hours."),
                _in(20.5, "Here they are: three sites in Lagos, one in Abuja."),
                _out(14.2, "All four sites are set up. First pickups next Monday."),
            ),
            folder=ARCHIVE,
        ),
        HistoryThread(
            "Shipping documents for container 88",
            "Lucas Moreau <lucas.moreau@wideworld.test>",
            (
                _in(8.3, "Customs is asking for the packing list of container 88."),
                _out(7.9, "Packing list attached; the bill of lading follows."),
                _in(7.4, "Received both, the container is cleared."),
            ),
        ),
        HistoryThread(
            "Consulting proposal",
            "Tom Walsh <tom.walsh@walsh-consulting.test>",
            (
                _out(5.2, "Could you look at our routing costs for the north?"),
                _in(4.1, "Happy to. My proposal is attached: two weeks, fixed fee."),
                _out(3.6, "Looks good. Can you start on the 1st?"),
            ),
        ),
        HistoryThread(
            "Adventure Works pilot",
            "Daniel Kim <daniel.kim@adventure-works.test>",
            (
                _in(3.1, "The pilot went well. Can we talk about volumes?"),
                _out(2.6, "Of course. I'll send three options tomorrow."),
            ),
        ),
        HistoryThread(
            "Meeting notes",
            "Sofia Rossi <sofia.rossi@adventure-works.test>",
            (
                _in(1.6, "Notes from today's meeting are below. Did I miss anything?"),
                _out(1.2, "All there. I'll follow up on the pallet sizes."),
            ),
        ),
        HistoryThread(
            "Password policy reminder",
            "IT Service Desk <it@northwind.test>",
            (_in(15.0, "Passwords now need 14 characters. Change yours by Friday."),),
        ),
        HistoryThread(
            "Five ways to tidy your inbox",
            "Microsoft 365 Tips <tips@m365-news.test>",
            (_in(19.0, "Try rules, Focused Inbox and Sweep to stay on top of mail."),),
        ),
        HistoryThread(
            "Your Freight Expo badge",
            "Freight Expo <events@freight-expo.test>",
            (_in(9.0, "Your badge is ready. Show the QR code at the entrance."),),
        ),
        HistoryThread(
            "Contoso handover notes",
            "Gina Gmail <gina@northwind.test>",
            (
                _in(13.1, "Notes from the Contoso call are attached."),
                _out(12.8, "Thanks Gina, very helpful."),
            ),
        ),
    ),
)

DEMO_MAILBOXES = (GINA_GMAIL, OWEN_OUTLOOK)

# What a contact says when the demo's live mail answers a thread.
LIVE_REPLIES = (
    "Thanks, that works for us. Could you send the updated quote by Friday?",
    "Got it. I've forwarded this to our purchasing team.",
    "Sounds good. Can we put a call in the diary for next week?",
    "Thanks for the quick answer. One more question: is delivery included?",
    "Perfect, please go ahead.",
    "We're close. Could you do 5% better on the second year?",
    "Received, thank you. I'll come back to you tomorrow.",
    "Quick update: our budget was approved this morning.",
)
