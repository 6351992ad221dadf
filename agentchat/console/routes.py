"""GET / (the console's page) and GET /console/<asset>: plain files, no build step, nothing from a CDN.

Only the files that ship in agentchat/static/console are served (looked up by name, never by a path the client
builds), each with a strict Content-Security-Policy: scripts and styles from this origin only, so a message can
never run as code even if a bug put it into the page as markup.
"""

from functools import cache
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse

from agentchat.contract import NotFound

CONSOLE_DIR = Path(__file__).resolve().parent.parent / "static" / "console"

MEDIA_TYPES = {".html": "text/html", ".js": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml"}

POLICY = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
          "connect-src 'self' ws: wss:; media-src 'self' blob: data:; object-src 'none'; base-uri 'none'; "
          "frame-ancestors 'none'; form-action 'self'")

# X-Content-Type-Options: nosniff comes with every response (webheaders.py).
HEADERS = {"Content-Security-Policy": POLICY, "Referrer-Policy": "no-referrer", "Cache-Control": "no-cache"}

router = APIRouter(include_in_schema=False)


@cache
def _assets() -> dict[str, Path]:
    return {path.name: path for path in CONSOLE_DIR.iterdir()
            if path.is_file() and path.suffix in MEDIA_TYPES and path.name != "index.html"}


@router.get("/")
async def console_page() -> FileResponse:
    return FileResponse(CONSOLE_DIR / "index.html", media_type="text/html", headers=HEADERS)


@router.get("/console/{name}")
async def console_asset(name: str) -> FileResponse:
    path = _assets().get(name)
    if path is None:
        raise NotFound("No such console file.")
    return FileResponse(path, media_type=MEDIA_TYPES[path.suffix], headers=HEADERS)
