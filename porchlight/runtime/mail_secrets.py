"""The one rule for secrets in an email — a share or sign-in link, a sign-in code — shared
by the notifications service (which renders and stores the email) and the worker (which
sends it).

The email is rendered with a placeholder where each secret goes, and stored so: the
outbox keeps the email as sent, minus its secrets. The secrets travel only in the
delivery task's arguments, and ``with_secrets`` puts them back just before sending.
"""

from __future__ import annotations

import html

PLACEHOLDERS = {
    "link": "[link removed: only the recipient has it]",
    "code": "[code removed: only the recipient has it]",
}
LINK_PLACEHOLDER = PLACEHOLDERS["link"]


def with_secrets(text: str, html_body: str, secrets: dict[str, str] | None) -> tuple[str, str]:
    """The stored bodies with their secrets put back, ready to send."""
    for name, value in (secrets or {}).items():
        if value:
            text = text.replace(PLACEHOLDERS[name], value)
            html_body = html_body.replace(html.escape(PLACEHOLDERS[name]), html.escape(value))
    return text, html_body
