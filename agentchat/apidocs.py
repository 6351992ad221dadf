"""/docs (Swagger UI) and /redoc (ReDoc), with their scripts and styles served from here, not from a CDN: FastAPI's
own pages load them from the internet, and were blank on a machine without it. The assets are the ones the
fastapi-offline package ships (a dependency: its files only, not its app factory)."""

import importlib.util
import logging
from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

log = logging.getLogger(__name__)

ASSETS_URL = "/docs-assets"
# No online validator badge: Swagger UI would send the schema's URL to validator.swagger.io.
SWAGGER_UI_PARAMETERS = {"validatorUrl": None}


def asset_dir() -> Path | None:
    spec = importlib.util.find_spec("fastapi_offline")
    if spec is None or spec.origin is None:
        return None
    return Path(spec.origin).parent / "static"


def fastapi_docs_off() -> dict:
    """create_app's FastAPI arguments: FastAPI's own /docs and /redoc off when ours can be served."""
    return {"docs_url": None, "redoc_url": None} if asset_dir() is not None else {}


def install_api_docs(app: FastAPI) -> None:
    """/docs, /docs/oauth2-redirect, /redoc and their assets under ASSETS_URL, unless FastAPI serves its own
    (fastapi-offline missing: an install that skipped the dependencies)."""
    assets = asset_dir()
    if assets is None:
        log.warning("fastapi-offline is not installed: /docs and /redoc load their scripts from a CDN")
        return
    app.mount(ASSETS_URL, StaticFiles(directory=assets), name="docs-assets")
    openapi_url, redirect_url = app.openapi_url, app.swagger_ui_oauth2_redirect_url
    if openapi_url is None or redirect_url is None:
        return  # no schema to show

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(openapi_url=openapi_url, title=f"{app.title} - Swagger UI",
                                   swagger_js_url=f"{ASSETS_URL}/swagger-ui-bundle.js",
                                   swagger_css_url=f"{ASSETS_URL}/swagger-ui.css",
                                   swagger_favicon_url=f"{ASSETS_URL}/favicon.png", oauth2_redirect_url=redirect_url,
                                   swagger_ui_parameters=SWAGGER_UI_PARAMETERS)

    @app.get(redirect_url, include_in_schema=False)
    async def swagger_ui_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    @app.get("/redoc", include_in_schema=False)
    async def redoc() -> HTMLResponse:
        return get_redoc_html(openapi_url=openapi_url, title=f"{app.title} - ReDoc",
                              redoc_js_url=f"{ASSETS_URL}/redoc.standalone.js",
                              redoc_favicon_url=f"{ASSETS_URL}/favicon.png", with_google_fonts=False)
