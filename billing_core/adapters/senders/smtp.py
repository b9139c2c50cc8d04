"""Email through an SMTP relay, with the outbox dedupe key as the Message-ID.

A retry of an outbox message carries the same Message-ID, so the receiving side can
deduplicate it. A timeout after the message's text was sent is reported as unknown
(the server may have accepted it), not as a plain failure to be retried again and again.

An email its recipient may unsubscribe from (a reminder) ends with the way to do it, in
the member's language: the signed link when the app's public address is configured (also
as List-Unsubscribe, with List-Unsubscribe-Post for mail programs' one-click button,
RFC 8058), else the phone.
"""

from __future__ import annotations

import re
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, parseaddr

from billing_core.adapters.unsubscribe_links import UnsubscribeLinks
from billing_core.services.outbox import OutgoingMessage, SendError
from billing_core.services.reminder_notices import unsubscribe_footer

# Characters a Message-ID's left part may hold (RFC 5322 dot-atom text).
_NOT_ATEXT = re.compile(r"[^A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]")


class _Smtp(smtplib.SMTP):
    """smtplib's client, noting when the message's text has been sent after DATA.

    From then on the server may have accepted the message even if its answer never comes.
    """

    message_sent = False
    _in_data = False
    _data_replies = 0

    def data(self, msg):  # noqa: ANN001, ANN201 - smtplib's signature
        self._in_data, self._data_replies = True, 0
        try:
            return super().data(msg)
        finally:
            self._in_data = False

    def getreply(self):  # noqa: ANN201 - smtplib's signature
        if self._in_data:
            self._data_replies += 1
            # The first reply is to DATA itself (354); the second is to the message.
            if self._data_replies == 2:
                self.message_sent = True
        return super().getreply()


class SmtpSender:
    """Sends outbox emails through one SMTP server, a new connection per message."""

    def __init__(
        self,
        host: str,
        port: int,
        *,
        username: str | None = None,
        password: str | None = None,
        use_tls: bool = False,
        sender_address: str,
        timeout_seconds: float = 30,
        unsubscribe_links: UnsubscribeLinks | None = None,
    ) -> None:
        domain = parseaddr(sender_address)[1].rpartition("@")[2]
        if not domain:
            raise ValueError("sender_address must be an email address")
        self._host = host
        self._port = port
        self._username = username
        self._password = password
        self._use_tls = use_tls
        self._sender_address = sender_address
        self._domain = domain
        self._timeout = timeout_seconds
        self._links = unsubscribe_links

    def send(self, message: OutgoingMessage) -> str:
        """Send one email (STARTTLS first when use_tls); return its Message-ID."""
        email = self.build(message)
        smtp: _Smtp | None = None
        try:
            smtp = _Smtp(self._host, self._port, timeout=self._timeout)
            if self._use_tls:
                smtp.starttls(context=ssl.create_default_context())
            if self._username:
                smtp.login(self._username, self._password or "")
            smtp.send_message(email)
            try:
                smtp.quit()
            except (smtplib.SMTPException, OSError):
                pass  # the message was accepted; a lost goodbye changes nothing
        except smtplib.SMTPRecipientsRefused as error:
            codes = [code for code, _ in error.recipients.values()]
            code = codes[0] if codes else 0
            # A 5xx for the recipient (no such mailbox) will not change on a retry.
            raise SendError(f"SMTP recipient refused ({code})", permanent=code >= 500) from None
        except smtplib.SMTPDataError as error:
            raise SendError(
                f"SMTP message refused ({error.smtp_code})", permanent=error.smtp_code >= 500
            ) from None
        except smtplib.SMTPResponseException as error:
            # Sender, login or greeting refused: the relay's settings, which can be fixed.
            raise SendError(f"SMTP {type(error).__name__} ({error.smtp_code})") from None
        except OSError as error:  # smtplib.SMTPException is an OSError too
            if smtp is not None and smtp.message_sent:
                # The text went out and no answer came back: the server may have taken it.
                raise SendError(
                    f"SMTP no answer after the message was sent ({type(error).__name__})",
                    unknown=True,
                ) from None
            raise SendError(f"SMTP server unreachable: {type(error).__name__}") from None
        finally:
            if smtp is not None:
                smtp.close()
        return email["Message-ID"]

    def build(self, message: OutgoingMessage) -> EmailMessage:
        """The email as it is sent, attachment and all; its Message-ID comes from the dedupe key."""
        email = EmailMessage()
        email["From"] = self._sender_address
        email["To"] = message.recipient
        email["Subject"] = message.subject or ""
        email["Date"] = formatdate(usegmt=True)
        # The same message sent twice carries the same Message-ID, so the repeat is visible.
        email["Message-ID"] = f"<{_NOT_ATEXT.sub('.', message.dedupe_key)}@{self._domain}>"
        body = message.body
        if message.unsubscribe_language is not None:
            link = None
            if self._links is not None:
                link = self._links.link(message.recipient, message.unsubscribe_language)
                email["List-Unsubscribe"] = f"<{link}>"
                email["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
            body = (
                f"{body.rstrip()}\n\n--\n{unsubscribe_footer(message.unsubscribe_language, link)}\n"
            )
        email.set_content(body)
        if message.attachment is not None:
            # The body stays the first, plain-text part; the file follows it (multipart/mixed).
            maintype, _, subtype = message.attachment.content_type.partition("/")
            email.add_attachment(
                message.attachment.content,
                maintype=maintype,
                subtype=subtype,
                filename=message.attachment.file_name,
            )
        return email
