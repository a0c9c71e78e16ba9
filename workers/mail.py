"""Sending one email over SMTP, and telling a failure worth retrying from a final one.

``SmtpServer.from_url`` reads ``PORCHLIGHT_SMTP_URL``: ``smtp://`` upgrades with STARTTLS
when the server offers it (and refuses to send a password over a connection that did
not), ``smtps://`` speaks TLS from the first byte. ``send`` raises ``Transient`` for what
another attempt may get past — no connection, a timeout, a 4xx reply — and ``Permanent``
for a 5xx reply, which the same message would meet again.
"""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formataddr
from typing import Any
from urllib.parse import unquote, urlsplit

from porchlight.runtime.mail_secrets import with_secrets


class Transient(Exception):
    """Another attempt may succeed."""


class Permanent(Exception):
    """The server refused the message for good, or we cannot send it at all."""


@dataclass(frozen=True)
class SmtpServer:
    host: str
    port: int
    implicit_tls: bool
    username: str | None
    password: str | None
    timeout: float

    @classmethod
    def from_url(cls, url: str, timeout: float) -> SmtpServer:
        parts = urlsplit(url)
        implicit_tls = parts.scheme == "smtps"
        return cls(host=parts.hostname or "localhost", port=parts.port or (465 if implicit_tls else 587),
                   implicit_tls=implicit_tls,
                   username=unquote(parts.username) if parts.username else None,
                   password=unquote(parts.password) if parts.password else None, timeout=timeout)

    def send(self, message: EmailMessage, sender: str, recipient: str) -> None:
        """Send ``message`` from ``sender`` to ``recipient`` alone: the envelope is given,
        never read from the headers, so no header can add a recipient."""
        try:
            self._send(message, sender, recipient)
        except smtplib.SMTPRecipientsRefused as exc:
            code, reply = next(iter(exc.recipients.values()))
            raise _by_code(code, reply) from None
        except smtplib.SMTPResponseException as exc:
            raise _by_code(exc.smtp_code, exc.smtp_error) from None
        except smtplib.SMTPNotSupportedError as exc:
            raise Permanent(f"The mail server cannot do what we need: {exc}") from None
        except (smtplib.SMTPException, OSError) as exc:  # no connection, a timeout, a TLS failure
            raise Transient(f"Could not talk to the mail server: {exc or type(exc).__name__}") from None

    def _send(self, message: EmailMessage, sender: str, recipient: str) -> None:
        context = ssl.create_default_context()
        if self.implicit_tls:
            client: smtplib.SMTP = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout,
                                                    context=context)
        else:
            client = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        with client:
            client.ehlo()
            if not self.implicit_tls and client.has_extn("starttls"):
                client.starttls(context=context)
                client.ehlo()
            if self.username:
                if not isinstance(client.sock, ssl.SSLSocket):
                    raise Permanent("The mail server does not offer STARTTLS; the password is "
                                    "not sent over a connection that is not encrypted.")
                client.login(self.username, self.password or "")
            client.send_message(message, from_addr=sender, to_addrs=[recipient])


def _by_code(code: int, reply: Any) -> Exception:
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
    described = f"{code} {text}".strip()
    return Permanent(described) if 500 <= code < 600 else Transient(described)


def build(claimed: dict[str, Any], secrets: dict[str, str] | None, files: list[tuple[str, bytes]],
          mail_from: str) -> EmailMessage:
    """The message for one claimed email: the stored parts with the secrets put back, and
    its attachments. The Message-ID is the same for every attempt at one email."""
    text, html_body = with_secrets(claimed["text"], claimed["html"], secrets)
    message = EmailMessage()
    message["From"] = formataddr((claimed["sender_name"], mail_from))
    message["To"] = formataddr((claimed.get("to_name") or "", claimed["to"]))
    if claimed.get("reply_to"):
        message["Reply-To"] = claimed["reply_to"]
    message["Subject"] = claimed["subject"]
    message["Message-ID"] = f"<{claimed['message_id']}@{mail_from.rsplit('@', 1)[1]}>"
    if claimed.get("auto_submitted"):
        message["Auto-Submitted"] = "auto-generated"
    message.set_content(text)
    message.add_alternative(html_body, subtype="html")
    for filename, content in files:
        message.add_attachment(content, maintype="application", subtype="pdf", filename=filename)
    # Last: setting the content replaces every Content-* header. What a reader's mail
    # program may offer to translate from.
    if claimed.get("language"):
        message["Content-Language"] = claimed["language"]
    return message
