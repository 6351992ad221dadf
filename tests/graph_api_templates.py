"""The Graph API stand-in's message templates: the WABA's template list (Meta's cursor paging) and what Meta checks
in a template message. Written from Meta's documentation, independently of AgentChat's own template code, so that
a mistake there cannot pass here.

Meta's answers: the list is {"data": [...], "paging": {"cursors": {"before", "after"}, "next"?}} (`next` only while
more follow); a template message is refused with 132001 (no such template in that language, or not approved),
132015 (paused), 132016 (disabled), 132000 (a component's parameter count), 132012 (a parameter's format) or
132018 (a parameter's text).
"""

import base64
import json
import re
from pathlib import Path
from typing import Any

FIXTURE = Path(__file__).parent / "fixtures" / "whatsapp" / "message_templates.json"
PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z0-9_]+)\s*\}\}")
BAD_TEXT = re.compile(r"[\n\t]| {5,}")
DEFAULT_LIMIT = 25  # the Graph API's page size when no limit is asked


class TemplateRefused(Exception):
    def __init__(self, code: int, message: str, details: str):
        super().__init__(details)
        self.code, self.message, self.details = code, message, details


def default_templates() -> list[dict]:
    return json.loads(FIXTURE.read_text())["data"]


def _cursor(position: int) -> str:
    return base64.urlsafe_b64encode(f"position:{position}".encode()).decode().rstrip("=")


def _position(cursor: str) -> int:
    text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    return int(text.removeprefix("position:"))


def template_page(templates: list[dict], query: dict[str, str], url: str, *, page_size: int | None) -> dict:
    """One page of GET /{waba}/message_templates, with Meta's cursors; `fields` picks the fields (id always)."""
    limit = min(int(query.get("limit") or DEFAULT_LIMIT), page_size or 1000)
    start = _position(query["after"]) if query.get("after") else 0
    fields = [f for f in (query.get("fields") or "").split(",") if f]
    page = templates[start:start + limit]
    data = [{k: v for k, v in t.items() if not fields or k in fields or k == "id"} for t in page]
    answer: dict[str, Any] = {"data": data, "paging": {"cursors": {"before": _cursor(start),
                                                                   "after": _cursor(start + len(page))}}}
    if start + len(page) < len(templates):
        answer["paging"]["next"] = f"{url}?limit={limit}&after={_cursor(start + len(page))}"
    return answer


def _component(template: dict, kind: str) -> dict | None:
    return next((c for c in template["components"] if c.get("type", "").upper() == kind), None)


def _placeholders(text: str) -> list[str]:
    return list(dict.fromkeys(PLACEHOLDER.findall(text or "")))


def check_template_message(templates: list[dict], obj: dict) -> None:
    """What Meta checks in {"type": "template", "template": obj}."""
    name, language = obj.get("name"), (obj.get("language") or {}).get("code")
    if not isinstance(name, str) or not isinstance(language, str):
        raise TemplateRefused(131008, "(#131008) Required parameter is missing", "template name and language.code")
    found = next((t for t in templates if t["name"] == name and t["language"] == language), None)
    if found is None or found["status"] not in ("APPROVED", "PAUSED", "DISABLED"):
        raise TemplateRefused(132001, "(#132001) Template name does not exist in the translation",
                              f"template name ({name}) does not exist in {language}")
    if found["status"] == "PAUSED":
        raise TemplateRefused(132015, "(#132015) Template is Paused", f"template {name} is paused")
    if found["status"] == "DISABLED":
        raise TemplateRefused(132016, "(#132016) Template is Disabled", f"template {name} is disabled")
    given = [c for c in obj.get("components") or [] if isinstance(c, dict)]
    _check_header(found, [c for c in given if c.get("type") == "header"])
    _check_text("body", _component(found, "BODY"), [c for c in given if c.get("type") == "body"], found)
    _check_buttons(found, [c for c in given if c.get("type") == "button"])


def _parameters(components: list[dict]) -> list[dict]:
    return [p for c in components for p in c.get("parameters") or []]


def _count(where: str, given: int, expected: int) -> None:
    if given != expected:
        raise TemplateRefused(132000, "(#132000) Number of parameters does not match the expected number of params",
                              f"{where}: number of localizable_params ({given}) does not match the expected number "
                              f"of params ({expected})")


def _check_header(template: dict, given: list[dict]) -> None:
    header = _component(template, "HEADER")
    fmt = (header or {}).get("format", "TEXT").upper()
    if header is None or fmt == "TEXT":
        _check_text("header", header, given, template)
        return
    parameters = _parameters(given)
    _count("header", len(parameters), 1)
    kind = fmt.lower()
    media = parameters[0].get(kind) if parameters[0].get("type") == kind else None
    if not isinstance(media, dict) or not (str(media.get("link", "")).startswith("https://") or media.get("id")):
        raise TemplateRefused(132012, "(#132012) Parameter format does not match format in the created template",
                              f"header: Format mismatch, expected {fmt}, received "
                              f"{str(parameters[0].get('type')).upper()}")


def _check_text(where: str, component: dict | None, given: list[dict], template: dict) -> None:
    names = _placeholders((component or {}).get("text", ""))
    parameters = _parameters(given)
    _count(where, len(parameters), len(names))
    named = template.get("parameter_format") == "NAMED"
    for parameter in parameters:
        text = parameter.get("text")
        if parameter.get("type") != "text" or not isinstance(text, str) or not text.strip():
            raise TemplateRefused(132012, "(#132012) Parameter format does not match format in the created template",
                                  f"{where}: expected a text parameter")
        if BAD_TEXT.search(text):
            raise TemplateRefused(132018, "(#132018) There was an issue with the parameters in your template.",
                                  "Param text cannot have new-line/tab characters or more than 4 consecutive spaces")
        if named and parameter.get("parameter_name") not in names:
            raise TemplateRefused(132000, "(#132000) Number of parameters does not match the expected number of "
                                  "params", f"{where}: parameter_name {parameter.get('parameter_name')!r} unknown")


def _needs_parameter(button: dict) -> str | None:
    kind = button.get("type", "").upper()
    if kind == "URL" and PLACEHOLDER.search(button.get("url", "")):
        return "url"
    if kind == "COPY_CODE":
        return "copy_code"
    return None


def _check_buttons(template: dict, given: list[dict]) -> None:
    buttons = (_component(template, "BUTTONS") or {}).get("buttons") or []
    by_index = {}
    for component in given:
        try:
            index = int(component.get("index"))
        except (TypeError, ValueError):
            raise TemplateRefused(131008, "(#131008) Required parameter is missing", "button: index") from None
        if not 0 <= index < len(buttons) or component.get("sub_type") != _needs_parameter(buttons[index]):
            raise TemplateRefused(132000, "(#132000) Number of parameters does not match the expected number of "
                                  "params", f"button at index {index}: no parameter expected")
        by_index[index] = component
    for index, button in enumerate(buttons):
        sub_type = _needs_parameter(button)
        if sub_type is None:
            continue
        parameters = (by_index.get(index) or {}).get("parameters") or []
        _count(f"button at index {index} of type {button['type']}", len(parameters), 1)
        key = "coupon_code" if sub_type == "copy_code" else "text"
        if parameters[0].get("type") != key or not isinstance(parameters[0].get(key), str):
            raise TemplateRefused(132012, "(#132012) Parameter format does not match format in the created template",
                                  f"button at index {index}: expected a {key} parameter")
