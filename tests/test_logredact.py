"""Secrets in query strings never reach the access log (agentchat/logredact.py)."""

import logging

from agentchat.logredact import RedactSecrets, redact


def access_record(path: str) -> logging.LogRecord:
    # The shape of uvicorn's access log records: '%s - "%s %s HTTP/%s" %d'.
    return logging.LogRecord("uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d',
                             ("127.0.0.1:5000", "GET", path, "1.1", 200), None)


def test_tokens_and_codes_in_the_query_are_masked_and_the_rest_is_kept():
    record = access_record("/api/GetChats?Version=1&SessionToken=0123456789abcdef0123456789abcdef&Status=Open")
    RedactSecrets().filter(record)
    line = record.getMessage()
    assert "0123456789abcdef" not in line
    assert "/api/GetChats?Version=1&SessionToken=***&Status=Open" in line
    assert redact("/webchat/messages?VisitorToken=v-secret") == "/webchat/messages?VisitorToken=***"
    assert redact("/reset-password?resetcode=abc") == "/reset-password?resetcode=***"
    assert redact("/webhooks/whatsapp?hub.mode=subscribe&hub.verify_token=t0k&hub.challenge=42") == \
        "/webhooks/whatsapp?hub.mode=subscribe&hub.verify_token=***&hub.challenge=42"
    assert redact("/api/GetChats?NotSessionToken=x") == "/api/GetChats?NotSessionToken=x"


def test_the_app_installs_the_filter_on_uvicorns_access_log(server):
    assert any(isinstance(f, RedactSecrets) for f in logging.getLogger("uvicorn.access").filters)


def test_every_logger_is_redacted_messages_arguments_and_tracebacks():
    """uvicorn's error log writes each WebSocket handshake with its query; a traceback may hold a URL or a body."""
    from agentchat import logredact

    logredact.install()
    token = "0123456789abcdef0123456789abcdef"
    lines: list[str] = []
    handler = logging.Handler(logging.DEBUG)
    handler.emit = lambda record: lines.append(logging.Formatter().format(record))
    loggers = [logging.getLogger(name) for name in ("uvicorn.error", "anything.at.all", "some.library", "agentchat.x")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.addHandler(handler)
        logger.setLevel(logging.DEBUG)
    try:
        loggers[0].info('%s - "WebSocket %s" [accepted]', "127.0.0.1:5000", f"/ws?SessionToken={token}&LastEventID=3")
        loggers[1].warning(f"GET /webchat/ws?VisitorToken={token} failed")
        loggers[2].debug("sent %s", {"VisitorToken": token, "Name": "Vera"})
        loggers[2].debug("sent %(VisitorToken)s", {"VisitorToken": token})
        try:
            raise RuntimeError(f'bad body {{"ResetCode": "{token}"}} with Authorization: Bearer {token}')
        except RuntimeError:
            loggers[3].exception("failed")
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.removeHandler(handler)
            logger.setLevel(level)
    text = "\n".join(lines)
    assert len(lines) == 5 and token not in text, text
    assert '"WebSocket /ws?SessionToken=***&LastEventID=3" [accepted]' in text
    assert '"ResetCode": "***"' in text and "Bearer ***" in text and "VisitorToken=***" in text
