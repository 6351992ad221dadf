"""The security headers of what we serve, built once: a response pays a list append or a dict, not a build.

Every HTTP response gets `X-Content-Type-Options: nosniff` (with_nosniff, at the app's edge), so a browser
never guesses a type: JSON stays JSON, a file stays a download. Pages and files add their own below.
"""

import base64
import hashlib
import re
from pathlib import Path

from starlette.types import Message, Send

NOSNIFF = (b"x-content-type-options", b"nosniff")

# A customer's or agent's file, an export, a report: a download only. Should a browser render one anyway (an
# HTML file opened in a tab), the sandbox gives it an opaque origin with no script, so it cannot act as our
# page; nothing of it stays in a cache.
DOWNLOAD_HEADERS = {"Content-Security-Policy": "sandbox", "Cache-Control": "private, no-store"}


def with_nosniff(send: Send) -> Send:
    async def send_nosniff(message: Message) -> None:
        if message["type"] == "http.response.start":
            message["headers"] = [*message.get("headers", ()), NOSNIFF]
        await send(message)
    return send_nosniff


def inline_hashes(html: str, tag: str) -> str:
    """CSP sources allowing exactly the page's inline <tag> blocks (by their SHA-256), and nothing else."""
    blocks = re.findall(rf"<{tag}>(.*?)</{tag}>", html, flags=re.S)
    return " ".join(f"'sha256-{base64.b64encode(hashlib.sha256(block.encode()).digest()).decode()}'"
                    for block in blocks)


def reset_page_headers(page: Path) -> dict[str, str]:
    """/reset-password: its own inline script and style only, talking to this origin, never framed (a form for
    a password must not be overlaid); its URL holds the ResetCode, so no Referer carries it elsewhere, and no
    cache keeps it."""
    html = page.read_text()
    policy = (f"default-src 'none'; script-src {inline_hashes(html, 'script')}; "
              f"style-src {inline_hashes(html, 'style')}; connect-src 'self'; base-uri 'none'; "
              "form-action 'none'; frame-ancestors 'none'")
    return {"Content-Security-Policy": policy, "Referrer-Policy": "no-referrer", "Cache-Control": "no-store"}


def frame_ancestors(origins: list[str]) -> str:
    """Who may show a page in a frame: this origin, and the origins listed."""
    return " ".join(["frame-ancestors 'self'", *origins])
