"""Mail without an SMTP server lands in the outbox as a file a person reads: the reset link can be copied from it as
text. Over SMTP, the same mail arrives with the same text."""

import asyncio
import email
from email import policy

from conftest import make_settings

from agentchat.mailer import Attachment, Mail, send_mail

LINK = ("http://agentchat.test/reset-password?ResetCode=0123456789abcdef0123456789abcdef0123456789abcdef"
        "&EmailAddress=zoe%40example.com")
TEXT = f"Hello Zoë,\n\nChoose your password here (the link works for 72 hours):\n{LINK}\n"


def mail() -> Mail:
    return Mail(to="zoe@example.com", subject="Choose your AgentChat password", text=TEXT,
                attachments=[Attachment("report.csv", b"a,b\n1,2\n", "text/csv")])


def test_the_outbox_file_holds_the_link_as_plain_text(tmp_path):
    settings = make_settings(tmp_path, f"sqlite+aiosqlite:///{tmp_path / 'unused.db'}", 0, smtp_host=None)
    asyncio.run(send_mail(settings, mail()))
    (path,) = settings.outbox_dir.glob("*.eml")
    raw = path.read_bytes()
    assert LINK.encode() in raw.splitlines()  # on a line of its own, unbroken, nothing escaped
    assert "Hello Zoë,".encode() in raw
    parsed = email.message_from_bytes(raw, policy=policy.default)
    assert parsed.get_body(("plain",)).get_content() == TEXT
    assert [part.get_filename() for part in parsed.iter_attachments()] == ["report.csv"]
    assert max(len(line) for line in raw.splitlines()) <= 998


def test_mail_over_smtp_arrives_with_the_same_text(tmp_path, mailbox):
    settings = make_settings(tmp_path, f"sqlite+aiosqlite:///{tmp_path / 'unused.db'}", mailbox.port)
    asyncio.run(send_mail(settings, mail()))
    (received,) = mailbox.wait_for("zoe@example.com")
    assert received.get_body(("plain",)).get_content().replace("\r\n", "\n") == TEXT  # CRLF on the wire
    assert not settings.outbox_dir.exists()
