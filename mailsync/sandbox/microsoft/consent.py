"""The HTML of the sign-in and consent screen."""

from __future__ import annotations

from html import escape

from mailsync.sandbox.microsoft.state import User

SCOPE_DESCRIPTIONS = {
    "openid": "Sign you in",
    "profile": "View your basic profile",
    "email": "View your email address",
    "offline_access": "Maintain access to data you have given it access to",
    "user.read": "Sign you in and read your profile",
    "mail.read": "Read your mail",
    "mail.readwrite": "Read and write access to your mail",
    "mail.send": "Send mail as you",
}

_PAGE = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Permissions requested</title>
<style>
body {{ font-family: "Segoe UI", sans-serif; background: #f2f2f2; }}
main {{ background: #fff; max-width: 440px; margin: 40px auto; padding: 32px;
        box-shadow: 0 2px 6px rgba(0,0,0,.2); }}
.error {{ color: #a80000; }}
label {{ display: block; margin: 4px 0; }}
button {{ min-width: 108px; padding: 6px 12px; margin-right: 8px; }}
</style></head>
<body><main>
<p>Microsoft (sandbox)</p>
<h1>Permissions requested</h1>
<p><strong>{client_name}</strong> wants to:</p>
{error}
<form method="post" action="{action}">
<input type="hidden" name="consent_request" value="{request_id}">
<fieldset><legend>Sign in as</legend>
{accounts}
<label>Or another account: <input type="email" name="account_other"
  value="{login_hint}" autocomplete="off"></label>
</fieldset>
<fieldset><legend>Permissions</legend>
{scopes}
</fieldset>
<p>Accepting these permissions means that you allow this app to use your
data as specified in its terms of service and privacy statement.</p>
<button type="submit" name="action" value="accept">Accept</button>
<button type="submit" name="action" value="cancel">Cancel</button>
</form>
</main></body></html>
"""


def render_consent_page(
    *,
    action: str,
    request_id: str,
    client_name: str,
    users: list[User],
    scopes: list[str],
    login_hint: str = "",
    error: str = "",
) -> str:
    hint = login_hint.lower()
    # A hint naming a listed account ticks its radio button; any other hint
    # prefills the free-text field.
    known = any(user.address.lower() == hint for user in users)
    accounts = "\n".join(
        '<label><input type="radio" name="account" value="{address}"{checked}> '
        "{name} &lt;{address}&gt;</label>".format(
            address=escape(user.address),
            name=escape(user.display_name),
            checked=" checked" if user.address.lower() == hint else "",
        )
        for user in users
    )
    scope_boxes = "\n".join(
        '<label><input type="checkbox" name="scope" value="{scope}" checked> '
        "{description} <code>{scope}</code></label>".format(
            scope=escape(scope),
            description=escape(SCOPE_DESCRIPTIONS.get(scope.lower(), "Use " + scope)),
        )
        for scope in scopes
    )
    return _PAGE.format(
        action=escape(action),
        request_id=escape(request_id),
        client_name=escape(client_name),
        accounts=accounts or "<p>No accounts yet.</p>",
        login_hint="" if known else escape(login_hint),
        scopes=scope_boxes,
        error=f'<p class="error">{escape(error)}</p>' if error else "",
    )


def render_form_post(redirect_uri: str, fields: dict[str, str]) -> str:
    """Answer ``response_mode=form_post``: a form that posts itself."""
    inputs = "\n".join(
        f'<input type="hidden" name="{escape(name)}" value="{escape(value)}">'
        for name, value in fields.items()
    )
    return (
        "<!doctype html><html><head><title>Working...</title></head>"
        '<body onload="document.forms[0].submit()">'
        f'<form method="post" action="{escape(redirect_uri)}">{inputs}'
        "<noscript><button>Continue</button></noscript></form></body></html>"
    )
