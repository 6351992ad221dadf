"""Secrets kept out of the access log.

The contract puts the agent's SessionToken in the query string, and the web chat's VisitorToken, the reset code
and Meta's verify token travel there too; uvicorn's access log (on at INFO) writes each request's path with its
query. This filter replaces those values with *** before the line is written.
"""

import logging
import re

SECRET_PARAMETERS = ("SessionToken", "VisitorToken", "ResetCode", "hub.verify_token", "access_token")

_SECRET_VALUE = re.compile(r"((?:^|[?&])(?:" + "|".join(re.escape(name) for name in SECRET_PARAMETERS) + r")=)[^&#\s]*",
                           re.IGNORECASE)


def redact(text: str) -> str:
    return _SECRET_VALUE.sub(r"\1***", text)


class RedactSecrets(logging.Filter):
    """For uvicorn's access logger, whose record args are (client, method, path with query, HTTP version, status)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(redact(arg) if isinstance(arg, str) else arg for arg in record.args)
        elif isinstance(record.msg, str):
            record.msg = redact(record.msg)
        return True


def install() -> None:
    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, RedactSecrets) for f in access.filters):
        access.addFilter(RedactSecrets())
