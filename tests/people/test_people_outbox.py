"""The outbox: .eml files without a mail server, SMTP (with a tiny local sink) when configured."""

import base64
import socket
import threading
from datetime import UTC, datetime
from email import message_from_bytes
from email.policy import default
from pathlib import Path

import pytest
from people_helpers import ADMIN, invite_token, outbox

from badges.outbox import MailError, MailSettings, send

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
BODY = "Hei Äijä,\n\ntämä on testiviesti.\n"


class SmtpSink:
    """A minimal SMTP server on 127.0.0.1 that accepts one session and records what it got."""

    def __init__(self, *, advertise_starttls: bool = False) -> None:
        self.advertise_starttls = advertise_starttls
        self.server = socket.create_server(("127.0.0.1", 0))
        self.server.settimeout(10)
        self.port = self.server.getsockname()[1]
        self.mail_from: str | None = None
        self.recipients: list[str] = []
        self.data = b""
        self.auth: str | None = None
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        try:
            connection, _address = self.server.accept()
        except OSError:
            return
        with connection, connection.makefile("rb") as reader:
            connection.settimeout(10)

            def reply(text: str) -> None:
                connection.sendall(text.encode() + b"\r\n")

            reply("220 sink ESMTP")
            for raw in reader:
                line = raw.decode("utf-8", "replace").rstrip("\r\n")
                command = line.upper()
                if command.startswith(("EHLO", "HELO")):
                    extensions = ["250-sink", "250-8BITMIME", "250-SMTPUTF8"]
                    if self.advertise_starttls:
                        extensions.append("250-STARTTLS")
                    reply("\r\n".join([*extensions, "250 AUTH PLAIN"]))
                elif command.startswith("AUTH PLAIN"):
                    self.auth = base64.b64decode(line.split()[2]).decode()
                    reply("235 2.7.0 accepted")
                elif command.startswith("MAIL FROM:"):
                    self.mail_from = line[10:].split()[0]
                    reply("250 ok")
                elif command.startswith("RCPT TO:"):
                    self.recipients.append(line[8:].strip())
                    reply("250 ok")
                elif command == "DATA":
                    reply("354 go on")
                    for data_line in reader:
                        if data_line == b".\r\n":
                            break
                        self.data += data_line
                    reply("250 queued")
                elif command == "QUIT":
                    reply("221 bye")
                    break
                else:
                    reply("502 not implemented")

    def close(self) -> None:
        """Stop listening and wait for the session to end."""
        self.server.close()
        self.thread.join(timeout=10)


@pytest.fixture
def sink():
    """A running SMTP sink (closed afterwards)."""
    server = SmtpSink()
    yield server
    server.close()


def _settings(tmp_path: Path, **fields) -> MailSettings:  # noqa: ANN003
    return MailSettings(mail_from="Osaamispassi <noreply@passi.example.test>", outbox_dir=tmp_path / "outbox",
                        **fields)


def test_without_a_server_mail_is_an_eml_file(tmp_path):
    path = send(_settings(tmp_path), to="maija@example.test", subject="Kutsu – Työpaja", body=BODY, now=NOW)
    assert path is not None and path.parent == tmp_path / "outbox" and path.suffix == ".eml"
    raw = path.read_bytes()
    assert b"\r\n" in raw and b"\n" not in raw.replace(b"\r\n", b"")  # RFC 5322 line ends
    message = message_from_bytes(raw, policy=default)
    assert message["To"] == "maija@example.test"
    assert message["Subject"] == "Kutsu – Työpaja"
    assert message["From"] == "Osaamispassi <noreply@passi.example.test>"
    assert message["Date"] and message["Message-ID"].endswith("@passi.example.test>")
    assert message.get_content().replace("\r\n", "\n") == BODY
    assert not list((tmp_path / "outbox").glob(".*.part"))  # no leftovers of the atomic write


@pytest.mark.parametrize(("to", "subject"), [
    ("maija@example.test\r\nBcc: all@example.test", "Hei"),
    ("maija@example.test", "Hei\nBcc: all@example.test"),
])
def test_header_injection_is_refused(tmp_path, to, subject):
    with pytest.raises(MailError):
        send(_settings(tmp_path), to=to, subject=subject, body=BODY, now=NOW)
    assert not (tmp_path / "outbox").exists()


def test_unwritable_outbox_is_a_mail_error(tmp_path):
    blocker = tmp_path / "outbox"
    blocker.write_text("a file where the folder should be")
    with pytest.raises(MailError):
        send(_settings(tmp_path), to="maija@example.test", subject="Hei", body=BODY, now=NOW)


def test_smtp_delivers_with_login(tmp_path, sink):
    settings = _settings(tmp_path, smtp_host="127.0.0.1", smtp_port=sink.port, smtp_user="passi",
                         smtp_password="salainen", smtp_starttls=False)  # noqa: S106 - the sink's
    assert send(settings, to="maija@example.test", subject="Hei", body=BODY, now=NOW) is None
    sink.close()
    assert sink.mail_from == "<noreply@passi.example.test>"
    assert sink.recipients == ["<maija@example.test>"]
    assert sink.auth == "\0passi\0salainen"
    message = message_from_bytes(sink.data, policy=default)
    assert message["Subject"] == "Hei" and message.get_content().replace("\r\n", "\n") == BODY
    assert not (tmp_path / "outbox").exists()  # nothing written when a server is configured


def test_starttls_is_required_when_configured(tmp_path, sink):
    settings = _settings(tmp_path, smtp_host="127.0.0.1", smtp_port=sink.port, smtp_user="passi",
                         smtp_password="salainen", smtp_starttls=True)  # noqa: S106 - the sink's
    with pytest.raises(MailError):
        send(settings, to="maija@example.test", subject="Hei", body=BODY, now=NOW)
    sink.close()
    assert sink.auth is None and sink.data == b""  # no password and no message in clear text


def test_unreachable_server_is_a_mail_error(tmp_path):
    with socket.create_server(("127.0.0.1", 0)) as probe:
        port = probe.getsockname()[1]  # closed again below: nothing listens there
    settings = _settings(tmp_path, smtp_host="127.0.0.1", smtp_port=port, smtp_starttls=False)
    with pytest.raises(MailError):
        send(settings, to="maija@example.test", subject="Hei", body=BODY, now=NOW)


def test_the_app_sends_invitations_through_smtp_when_configured(app, as_user, world, sink):
    app.config.update(BADGES_SMTP_HOST="127.0.0.1", BADGES_SMTP_PORT=sink.port, BADGES_SMTP_STARTTLS="false",
                      BADGES_MAIL_FROM="Verstas <kutsut@verstas.example.fi>")
    response = as_user(ADMIN).post(f"/org/{world.org}/members/invite",
                                   data={"email": "uusi@example.test", "role": "coach"})
    assert response.status_code == 302
    sink.close()
    assert sink.recipients == ["<uusi@example.test>"]
    assert sink.mail_from == "<kutsut@verstas.example.fi>"
    assert invite_token(message_from_bytes(sink.data, policy=default))
    assert outbox(app) == []
