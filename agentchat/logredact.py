"""Secrets kept out of every log line.

The contract puts the agent's SessionToken in the query string, and the web chat's VisitorToken, the reset code
and Meta's verify token travel there too. uvicorn writes each request's path with its query to the access log,
and each WebSocket handshake's (`"WebSocket /ws?SessionToken=…" [accepted]`) to its error log; a traceback may
hold a URL too. So every log record, whichever logger makes it, is redacted when it is made (a LogRecord
factory): the values of those parameters, in a query string or a JSON body, and a Bearer token, become ***, in
the message, its arguments, and the text of an exception or stack attached to it.
"""

import logging
import re
from typing import Any

SECRET_PARAMETERS = ("SessionToken", "VisitorToken", "ResetCode", "Password", "hub.verify_token", "access_token")

_NAMES = "|".join(re.escape(name) for name in SECRET_PARAMETERS)
_SECRET_VALUE = re.compile(
    rf"((?:^|[?&;\s])(?:{_NAMES})=)[^&#\s\"']*"  # a query string's parameter
    rf"|([\"'](?:{_NAMES})[\"']\s*:\s*[\"'])[^\"']*"  # a JSON field, or a Python dict's repr
    r"|(\bBearer\s+)[^\s\"',]+",  # an Authorization header
    re.IGNORECASE)


_NAMES_FOLDED = {name.casefold() for name in SECRET_PARAMETERS}


def _masked(match: re.Match) -> str:
    return next(group for group in match.groups() if group is not None) + "***"


def redact(text: str) -> str:
    return _SECRET_VALUE.sub(_masked, text)


def _redact_value(value: Any) -> Any:
    if isinstance(value, str):
        return redact(value)
    if value is None or isinstance(value, int | float):
        return value
    try:
        text = str(value)  # e.g. a URL or an exception given as an argument
    except Exception:  # a log call must never fail here: the handler reports such an argument later
        return value
    return redact(text) if _SECRET_VALUE.search(text) else value


def redact_record(record: logging.LogRecord) -> None:
    if isinstance(record.msg, str):
        record.msg = redact(record.msg)
    if isinstance(record.args, tuple):
        record.args = tuple(_redact_value(arg) for arg in record.args)
    elif isinstance(record.args, dict):
        record.args = {key: "***" if str(key).casefold() in _NAMES_FOLDED else _redact_value(value)
                       for key, value in record.args.items()}
    if record.exc_info and record.exc_info[0] is not None and not record.exc_text:
        # Formatted now, as a handler's Formatter would (it keeps exc_text), so the traceback is redacted too.
        try:
            record.exc_text = redact(_FORMATTER.formatException(record.exc_info))
        except Exception:
            record.exc_text = f"{record.exc_info[0].__name__} (its traceback could not be formatted)"
    if record.stack_info:
        record.stack_info = redact(record.stack_info)


_FORMATTER = logging.Formatter()


class RedactSecrets(logging.Filter):
    """The same redaction as a filter (uvicorn's access log had it before every record was redacted)."""

    def filter(self, record: logging.LogRecord) -> bool:
        redact_record(record)
        return True


class _RedactingFactory:
    """Wraps the LogRecord factory: every record of every logger is redacted as it is made."""

    def __init__(self, make):
        self.make = make

    def __call__(self, *args, **kwargs) -> logging.LogRecord:
        record = self.make(*args, **kwargs)
        redact_record(record)
        return record


def install() -> None:
    if not isinstance(logging.getLogRecordFactory(), _RedactingFactory):
        logging.setLogRecordFactory(_RedactingFactory(logging.getLogRecordFactory()))
    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, RedactSecrets) for f in access.filters):
        access.addFilter(RedactSecrets())
