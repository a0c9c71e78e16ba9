"""The one rule for a share link in an email, shared by the notifications service (which
renders and stores the email) and the worker (which sends it).

The email is rendered with ``LINK_PLACEHOLDER`` where the link goes, and stored so: the
outbox keeps the email as sent, minus the link. The link itself travels only in the
delivery task's arguments, and ``with_link`` puts it back just before sending.
"""

from __future__ import annotations

import html

LINK_PLACEHOLDER = "[share link removed: only the recipient has it]"


def with_link(text: str, html_body: str, url: str | None) -> tuple[str, str]:
    """The stored bodies with the share link put back, ready to send."""
    if not url:
        return text, html_body
    return (text.replace(LINK_PLACEHOLDER, url),
            html_body.replace(html.escape(LINK_PLACEHOLDER), html.escape(url)))
