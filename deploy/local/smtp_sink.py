"""A local SMTP sink for the demo stack: accepts every email and shows it in a browser.

Stands in for Mailpit, which cannot be installed here (see deploy/local/README.md).
Speaks plain SMTP on one port, stores each message under --dir as <id>.eml plus <id>.json
(envelope and summary), and serves a small web page and a Mailpit-shaped subset of its
JSON API on another port:

    GET    /                             list of messages (HTML), newest first
    GET    /view/<id>                    one message: headers and text body
    GET    /api/v1/messages              {"total": n, "messages": [{ID, From, To, Subject, ...}]}
    GET    /api/v1/message/<id>/raw      the message as received
    DELETE /api/v1/messages              delete all messages
    GET    /livez                        "ok"

The same paths are also served under --webroot (like Mailpit's), so a reverse proxy can
pass /mail/... through unchanged; the pages use relative links and work under both.

Run by `deploy/local/infra.sh smtp-up` with the Python of .state/smtp-venv (aiosmtpd).
"""

from __future__ import annotations

import argparse
import email
import email.policy
import html
import json
import re
import signal
import threading
import uuid
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import getaddresses
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import FrameType
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

MESSAGE_ID = re.compile(r"^[0-9A-Za-z-]+$")


def _addresses(value: str | None) -> list[dict[str, str]]:
    return [{"Name": name, "Address": addr} for name, addr in getaddresses([value or ""]) if addr]


class Mailbox:
    """Messages on disk: <id>.eml (raw) and <id>.json (summary)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)

    def store(self, *, raw: bytes, mail_from: str, rcpt_tos: list[str]) -> str:
        created = datetime.now(UTC)
        message_id = f"{created:%Y%m%dT%H%M%S%f}-{uuid.uuid4().hex[:8]}"
        parsed = email.message_from_bytes(raw, policy=email.policy.default)
        summary = {
            "ID": message_id,
            "MessageID": str(parsed.get("Message-ID", "")),
            "From": (_addresses(parsed.get("From")) or [{"Name": "", "Address": mail_from}])[0],
            "To": _addresses(parsed.get("To")),
            "Cc": _addresses(parsed.get("Cc")),
            "Bcc": [{"Name": "", "Address": a} for a in rcpt_tos],  # envelope recipients
            "Subject": str(parsed.get("Subject", "")),
            "Created": created.isoformat(),
            "Size": len(raw),
        }
        (self.directory / f"{message_id}.eml").write_bytes(raw)
        # The .json is written last: a message is listed only once it is complete.
        (self.directory / f"{message_id}.json").write_text(json.dumps(summary), encoding="utf-8")
        return message_id

    def summaries(self) -> list[dict[str, Any]]:
        found = [json.loads(p.read_text(encoding="utf-8")) for p in self.directory.glob("*.json")]
        return sorted(found, key=lambda s: str(s["Created"]), reverse=True)

    def raw(self, message_id: str) -> bytes | None:
        path = self.directory / f"{message_id}.eml"
        if not MESSAGE_ID.match(message_id) or not path.exists():
            return None
        return path.read_bytes()

    def clear(self) -> int:
        removed = 0
        for path in list(self.directory.glob("*.json")) + list(self.directory.glob("*.eml")):
            path.unlink(missing_ok=True)
            removed += path.suffix == ".json"
        return removed


class SinkHandler:
    """aiosmtpd handler: accept every recipient, store every message."""

    def __init__(self, mailbox: Mailbox) -> None:
        self._mailbox = mailbox

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802
        content = envelope.original_content or b""
        message_id = self._mailbox.store(
            raw=content, mail_from=envelope.mail_from or "", rcpt_tos=list(envelope.rcpt_tos)
        )
        print(f"smtp_sink: stored {message_id} for {', '.join(envelope.rcpt_tos)}", flush=True)
        return "250 Message accepted for delivery"


def _text_body(raw: bytes) -> tuple[list[tuple[str, str]], str]:
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    headers = [(k, str(v)) for k, v in parsed.items()]
    body = ""
    if isinstance(parsed, EmailMessage):
        part = parsed.get_body(preferencelist=("plain", "html"))
        if part is not None and isinstance(part, EmailMessage):
            body = str(part.get_content())
    return headers, body


def make_http_handler(mailbox: Mailbox, webroot: str) -> type[BaseHTTPRequestHandler]:
    prefix = "/" + webroot.strip("/") if webroot.strip("/") else ""

    class Handler(BaseHTTPRequestHandler):
        def _route(self) -> str:
            path = self.path.split("?", 1)[0]
            if prefix and (path == prefix or path.startswith(prefix + "/")):
                path = path.removeprefix(prefix) or "/"
            return path

        def log_message(self, format: str, *args: Any) -> None:
            pass  # keep the sink's log to stored messages

        def _send(self, status: HTTPStatus, body: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _json(self, value: object) -> None:
            self._send(HTTPStatus.OK, json.dumps(value).encode(), "application/json")

        def _page(self, title: str, content: str) -> None:
            page = (
                "<!doctype html><html lang='en'><meta charset='utf-8'>"
                f"<title>{html.escape(title)}</title>"
                "<style>body{font-family:sans-serif;margin:2rem}td,th{padding:.2rem .6rem;"
                "text-align:left}pre{white-space:pre-wrap}</style>"
                f"<h1>{html.escape(title)}</h1>{content}</html>"
            )
            self._send(HTTPStatus.OK, page.encode(), "text/html; charset=utf-8")

        def do_GET(self) -> None:
            path = self._route()
            if path == "/livez":
                self._send(HTTPStatus.OK, b"ok", "text/plain")
            elif path == "/api/v1/messages":
                messages = mailbox.summaries()
                self._json({"total": len(messages), "messages": messages})
            elif path.startswith("/api/v1/message/") and path.endswith("/raw"):
                raw = mailbox.raw(path.removeprefix("/api/v1/message/").removesuffix("/raw"))
                if raw is None:
                    self._send(HTTPStatus.NOT_FOUND, b"not found", "text/plain")
                else:
                    self._send(HTTPStatus.OK, raw, "message/rfc822")
            elif path.startswith("/view/"):
                self._view(path.removeprefix("/view/"))
            elif path == "/":
                self._index()
            else:
                self._send(HTTPStatus.NOT_FOUND, b"not found", "text/plain")

        def do_DELETE(self) -> None:
            if self._route() == "/api/v1/messages":
                self._json({"deleted": mailbox.clear()})
            else:
                self._send(HTTPStatus.NOT_FOUND, b"not found", "text/plain")

        def _index(self) -> None:
            rows = "".join(
                "<tr>"
                f"<td>{html.escape(str(m['Created'])[:19])}</td>"
                f"<td>{html.escape(m['From']['Address'])}</td>"
                f"<td>{html.escape(', '.join(a['Address'] for a in m['Bcc']))}</td>"
                f"<td><a href='view/{html.escape(m['ID'])}'>"
                f"{html.escape(m['Subject'] or '(no subject)')}</a></td>"
                "</tr>"
                for m in mailbox.summaries()
            )
            table = (
                "<table><tr><th>received (UTC)</th><th>from</th><th>to</th><th>subject</th></tr>"
                f"{rows}</table>"
                if rows
                else "<p>No messages yet.</p>"
            )
            self._page("Forbedring local mail", table)

        def _view(self, message_id: str) -> None:
            raw = mailbox.raw(message_id)
            if raw is None:
                self._send(HTTPStatus.NOT_FOUND, b"not found", "text/plain")
                return
            headers, body = _text_body(raw)
            header_rows = "".join(
                f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in headers
            )
            self._page(
                "Message",
                f"<p><a href='../'>all messages</a> · "
                f"<a href='../api/v1/message/{html.escape(message_id)}/raw'>raw</a></p>"
                f"<table>{header_rows}</table><pre>{html.escape(body)}</pre>",
            )

    return Handler


def main() -> None:
    parser = argparse.ArgumentParser(description="Local SMTP sink with a small web view.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--smtp-port", type=int, default=51025)
    parser.add_argument("--http-port", type=int, default=58025)
    parser.add_argument("--dir", type=Path, required=True, help="where messages are stored")
    parser.add_argument("--webroot", default="/mail/", help="path prefix also served")
    args = parser.parse_args()

    mailbox = Mailbox(args.dir)
    smtp = Controller(SinkHandler(mailbox), hostname=args.host, port=args.smtp_port)
    handler = make_http_handler(mailbox, args.webroot)
    http = ThreadingHTTPServer((args.host, args.http_port), handler)
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    smtp.start()
    threading.Thread(target=http.serve_forever, name="http", daemon=True).start()
    print(
        f"smtp_sink: SMTP on {args.host}:{args.smtp_port}, "
        f"web on http://{args.host}:{args.http_port}/, storing in {args.dir}",
        flush=True,
    )
    stop.wait()
    http.shutdown()
    smtp.stop()
    print("smtp_sink: stopped", flush=True)


if __name__ == "__main__":
    main()
