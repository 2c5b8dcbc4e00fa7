"""The HTML of the sandbox's Google sign-in and consent screen.

One page stands in for Google's account chooser and consent screen: pick
an account (or type its address), untick scopes not to grant, then Allow
or Deny. Sign-in scopes (openid, email, profile) are shown but cannot be
unticked, as on Google's granular consent screen.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from html import escape

SCOPE_DESCRIPTIONS = {
    "openid": "Associate you with your personal info on Google",
    "https://www.googleapis.com/auth/userinfo.email": (
        "See your primary Google Account email address"
    ),
    "https://www.googleapis.com/auth/userinfo.profile": (
        "See your personal info, including any personal info you've made public"
    ),
    "https://mail.google.com/": (
        "Read, compose, send, and permanently delete all your email from Gmail"
    ),
    "https://www.googleapis.com/auth/gmail.readonly": (
        "View your email messages and settings"
    ),
    "https://www.googleapis.com/auth/gmail.send": "Send email on your behalf",
    "https://www.googleapis.com/auth/gmail.modify": (
        "Read, compose, and send emails from your Gmail account"
    ),
    "https://www.googleapis.com/auth/gmail.metadata": (
        "View your email message metadata such as labels and headers, but not"
        " the email body"
    ),
    "https://www.googleapis.com/auth/gmail.insert": (
        "Add emails into your Gmail mailbox"
    ),
    "https://www.googleapis.com/auth/gmail.compose": ("Manage drafts and send emails"),
    "https://www.googleapis.com/auth/gmail.labels": "See and edit your email labels",
}

_STYLE = """
body { font-family: Roboto, Arial, sans-serif; background: #f0f4f9; margin: 0; }
main { max-width: 34rem; margin: 3rem auto; background: #fff; padding: 2rem;
       border-radius: 1.75rem; }
h1 { font-weight: 400; font-size: 1.75rem; margin: 0 0 1rem; }
fieldset { border: 0; padding: 0; margin: 0 0 1.5rem; }
legend { font-weight: 500; margin-bottom: .5rem; }
label { display: block; margin: .4rem 0; }
.error { color: #b3261e; }
.actions { display: flex; gap: 1rem; justify-content: flex-end; }
button { border-radius: 1.25rem; padding: .6rem 1.5rem; font-size: 1rem;
         border: 1px solid #747775; background: #fff; cursor: pointer; }
button[value=allow] { background: #0b57d0; color: #fff; border-color: #0b57d0; }
small { color: #444746; }
"""


def render_consent(
    *,
    action: str,
    params: Mapping[str, str],
    client_name: str,
    accounts: Iterable[tuple[str, str]],
    scopes: Iterable[str],
    sign_in_scopes: frozenset[str],
    chosen: str = "",
    error: str = "",
) -> str:
    """The consent page; ``params`` are the authorization request's own."""
    hidden = "".join(
        f'<input type="hidden" name="{escape(name)}" value="{escape(value)}">'
        for name, value in params.items()
    )
    account_rows = "".join(
        f'<label><input type="radio" name="account" value="{escape(address)}"'
        f"{' checked' if address == chosen else ''}> {escape(name)}"
        f" <small>{escape(address)}</small></label>"
        for address, name in accounts
    )
    scope_rows = "".join(_scope_row(scope, scope in sign_in_scopes) for scope in scopes)
    error_row = f'<p class="error" role="alert">{escape(error)}</p>' if error else ""
    return f"""<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Sign in - Google Accounts (sandbox)</title>
<style>{_STYLE}</style></head>
<body><main>
<h1>Sign in to continue to {escape(client_name)}</h1>
{error_row}
<form method="post" action="{escape(action)}">
{hidden}
<fieldset><legend>Choose an account</legend>
{account_rows or "<p>No accounts yet.</p>"}
<label>Or use another account:
<input type="email" name="account_address" autocomplete="off"></label>
</fieldset>
<fieldset><legend>{escape(client_name)} wants access to your Google Account</legend>
{scope_rows}
</fieldset>
<div class="actions">
<button type="submit" name="decision" value="deny">Deny</button>
<button type="submit" name="decision" value="allow">Allow</button>
</div>
</form>
</main></body></html>
"""


def _scope_row(scope: str, always_granted: bool) -> str:
    description = SCOPE_DESCRIPTIONS.get(scope, scope)
    if always_granted:
        return (
            '<label><input type="checkbox" checked disabled>'
            f'<input type="hidden" name="granted_scope" value="{escape(scope)}">'
            f" {escape(description)} <small>{escape(scope)}</small></label>"
        )
    return (
        f'<label><input type="checkbox" name="granted_scope" value="{escape(scope)}"'
        f" checked> {escape(description)} <small>{escape(scope)}</small></label>"
    )


def render_error(title: str, detail: str) -> str:
    """Google's error page for a request it will not send back to the app."""
    return f"""<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Error - Google Accounts (sandbox)</title>
<style>{_STYLE}</style></head>
<body><main>
<h1>Access blocked: authorization error</h1>
<p class="error">{escape(title)}</p>
<p>{escape(detail)}</p>
</main></body></html>
"""
