"""Outgoing e-mail: real SMTP when AGENTCHAT_SMTP_HOST is set, else a local outbox folder."""

import logging
import uuid
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage

import aiosmtplib
from anyio import to_thread

from agentchat import clock
from agentchat.config import Settings

log = logging.getLogger(__name__)


@dataclass
class Attachment:
    filename: str
    content: bytes
    mime_type: str = "application/octet-stream"


@dataclass
class Mail:
    to: str
    subject: str
    text: str
    attachments: list[Attachment] = field(default_factory=list)
    html: str | None = None  # an HTML alternative to the text


# A mail written to the outbox is read by a person in a text editor, who copies the reset link from it. With the
# default policy's 78-character lines, that link's line went out quoted-printable (`=3D`, a soft break inside it).
# Lines may be as long as e-mail allows (RFC 5322: 998), so a text body stays plain 7bit/8bit text. Mail over SMTP
# keeps the default.
OUTBOX_POLICY = policy.default.clone(max_line_length=998)


def build_message(settings: Settings, mail: Mail, *, message_policy: policy.Policy = policy.default) -> EmailMessage:
    message = EmailMessage(policy=message_policy)
    message["From"] = settings.mail_from
    message["To"] = mail.to
    message["Subject"] = mail.subject
    message["Message-ID"] = f"<{uuid.uuid4().hex}@agentchat>"
    message.set_content(mail.text)
    if mail.html is not None:
        message.add_alternative(mail.html, subtype="html")
    for attachment in mail.attachments:
        maintype, _, subtype = attachment.mime_type.partition("/")
        message.add_attachment(attachment.content, maintype=maintype, subtype=subtype or "octet-stream",
                               filename=attachment.filename)
    return message


async def send_mail(settings: Settings, mail: Mail) -> None:
    """Send one mail. Raises on SMTP failure so that callers which must not lose mail can retry."""
    if settings.smtp_host:
        await aiosmtplib.send(
            build_message(settings, mail),
            hostname=settings.smtp_host,
            port=settings.smtp_port,
            username=settings.smtp_user,
            password=settings.smtp_password,
            start_tls=settings.smtp_starttls,
            timeout=30,
        )
        log.info("mail sent to %s: %s", mail.to, mail.subject)
        return
    message = build_message(settings, mail, message_policy=OUTBOX_POLICY)
    path = settings.outbox_dir / f"{clock.now():%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}.eml"

    def write() -> None:
        settings.outbox_dir.mkdir(parents=True, exist_ok=True)
        path.write_bytes(message.as_bytes())

    await to_thread.run_sync(write)
    # The body may hold a one-time code: log where the mail is, never what it says.
    log.info("no SMTP server configured; mail to %s (%s) written to %s", mail.to, mail.subject, path)
