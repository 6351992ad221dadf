"""A WhatsApp template's components as Meta lists them: which parameters a send needs, their checks, the
`components` of the template message sent to Meta, and the text an agent sees in the chat.

Placeholders are positional ({{1}}, {{2}}, given in number order) or named ({{first_name}}, given in order of
first appearance); a send gives a list of values for the header, the body and the buttons that take one.
"""

import re
from dataclasses import dataclass, field
from typing import Any

PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z0-9_]{1,64})\s*\}\}")
MEDIA_FORMATS = {"IMAGE": "image", "VIDEO": "video", "DOCUMENT": "document"}
# Meta's limits on a parameter's text (a header is at most 60 characters in all; a coupon code 15).
MAX_HEADER_PARAMETER = 60
MAX_BODY_PARAMETER = 1024
MAX_BUTTON_PARAMETER = 2000
MAX_COUPON_CODE = 15
MAX_LINK = 2000
# Meta refuses a header or body parameter with a line break, a tab or more than four spaces in a row.
BAD_TEXT = re.compile(r"[\n\r\t]| {5,}")
# Buttons whose send needs something AgentChat does not offer (a product list, a catalogue).
UNSUPPORTED_BUTTONS = {"MPM", "CATALOG", "SPM", "PRODUCT_LIST"}
UNSUPPORTED_COMPONENTS = {"CAROUSEL", "LIMITED_TIME_OFFER"}


class ParameterError(ValueError):
    """A send's parameters do not fit the template; `part` is Header, Body or Buttons."""

    def __init__(self, message: str, *, part: str, code: str):
        super().__init__(message)
        self.part = part
        self.code = code


@dataclass
class Slot:
    """One value a send must give."""

    part: str  # Header, Body or Buttons
    name: str  # the placeholder ("1", "first_name"); a media header's format; a button's text
    kind: str  # Text, Image, Video, Document or CouponCode
    button_index: int | None = None
    button_type: str | None = None
    example: str | None = None


@dataclass
class Spec:
    header: list[Slot] = field(default_factory=list)
    body: list[Slot] = field(default_factory=list)
    buttons: list[Slot] = field(default_factory=list)
    named: bool = False
    unsupported: str | None = None  # why AgentChat cannot send it, if it cannot

    def part(self, name: str) -> list[Slot]:
        return {"Header": self.header, "Body": self.body, "Buttons": self.buttons}[name]


def _upper(value: Any) -> str:
    return str(value or "").upper()


def _component(components: list, kind: str) -> dict | None:
    return next((c for c in components if isinstance(c, dict) and _upper(c.get("type")) == kind), None)


def _names(text: str) -> list[str]:
    """The placeholders of a text, each once: by number when positional, else in order of appearance."""
    found = list(dict.fromkeys(PLACEHOLDER.findall(text or "")))
    if found and all(name.isdigit() for name in found):
        return sorted(found, key=int)
    return found


def _example(component: dict) -> dict:
    example = component.get("example")
    return example if isinstance(example, dict) else {}


def _examples(component: dict, key: str) -> list[str]:
    example = _example(component)
    values = example.get(key)
    if values and isinstance(values[0], list):  # body_text is a list of lists
        values = values[0]
    return [str(v) for v in values] if isinstance(values, list) else []


def _named_examples(component: dict, key: str) -> dict[str, str]:
    example = _example(component)
    values = example.get(key)
    return {str(v.get("param_name")): str(v.get("example")) for v in values if isinstance(v, dict)} \
        if isinstance(values, list) else {}


def _text_slots(part: str, component: dict, examples_key: str) -> list[Slot]:
    names = _names(str(component.get("text") or ""))
    positional = _examples(component, examples_key)
    named = _named_examples(component, f"{examples_key.split('_')[0]}_text_named_params")
    return [Slot(part, name, "Text", example=named.get(name) or (positional[i] if i < len(positional) else None))
            for i, name in enumerate(names)]


def spec_of(components: Any) -> Spec:
    """What sending the template needs, from Meta's components."""
    components = components if isinstance(components, list) else []
    spec = Spec()
    header = _component(components, "HEADER")
    if header is not None:
        fmt = _upper(header.get("format") or "TEXT")
        if fmt == "TEXT":
            spec.header = _text_slots("Header", header, "header_text")
        elif fmt in MEDIA_FORMATS:
            spec.header = [Slot("Header", fmt.lower(), fmt.capitalize())]
        else:
            spec.unsupported = f"its header is a {fmt.lower()}, which AgentChat cannot fill in"
    body = _component(components, "BODY")
    if body is not None:
        spec.body = _text_slots("Body", body, "body_text")
    buttons = _component(components, "BUTTONS")
    for index, button in enumerate(buttons.get("buttons") or [] if buttons else []):
        kind = _upper(button.get("type"))
        if kind in UNSUPPORTED_BUTTONS:
            spec.unsupported = f"its {kind.lower()} button needs products, which AgentChat cannot send"
        elif kind == "URL" and PLACEHOLDER.search(str(button.get("url") or "")):
            spec.buttons.append(Slot("Buttons", str(button.get("text") or ""), "Text", index, "url",
                                     _url_example(button)))
        elif kind == "COPY_CODE":
            example = button.get("example") if isinstance(button.get("example"), str) else None
            spec.buttons.append(Slot("Buttons", str(button.get("text") or "Copy offer code"), "CouponCode", index,
                                     "copy_code", example))
        elif kind == "OTP":
            # An authentication template's code button: the code goes as the button's url parameter.
            spec.buttons.append(Slot("Buttons", str(button.get("text") or "Copy code"), "Text", index, "url"))
    if any(_upper(c.get("type")) in UNSUPPORTED_COMPONENTS for c in components if isinstance(c, dict)):
        spec.unsupported = "it is a carousel or limited-time offer, which AgentChat cannot send"
    spec.named = any(not slot.name.isdigit() for slot in spec.header + spec.body if slot.kind == "Text")
    return spec


def _url_example(button: dict) -> str | None:
    """Meta's example is the whole link; the parameter is only the part after the fixed start."""
    examples = button.get("example")
    example = str(examples[0]) if isinstance(examples, list) and examples else None
    start = PLACEHOLDER.split(str(button.get("url") or ""))[0]
    return example[len(start):] if example and start and example.startswith(start) else example


def check_parameters(spec: Spec, given: dict[str, list[str]]) -> None:
    """Raise ParameterError unless `given` ({Header, Body, Buttons}: lists) has one valid value per slot."""
    for part in ("Header", "Body", "Buttons"):
        slots, values = spec.part(part), given.get(part) or []
        if len(values) != len(slots):
            raise ParameterError(_count_message(part, slots, len(values)), part=part,
                                 code="template_parameter_count")
        for slot, value in zip(slots, values, strict=True):
            problem = _problem(slot, value)
            if problem:
                raise ParameterError(f"{_slot_label(slot)} {problem}", part=part, code="invalid_template_parameter")


def _count_message(part: str, slots: list[Slot], count: int) -> str:
    where = {"Header": "header", "Body": "body", "Buttons": "buttons"}[part]
    if not slots:
        wanted = f"The template's {where} takes no parameters"
    elif part == "Buttons":
        wanted = f"The template's buttons take {len(slots)} parameter{'s' * (len(slots) != 1)} " \
                 f"({', '.join(repr(s.name) for s in slots)})"
    elif slots[0].kind != "Text":
        wanted = f"The template's header takes 1 parameter (the {slots[0].name}'s HTTPS link)"
    else:
        names = ", ".join("{{" + s.name + "}}" for s in slots)
        wanted = f"The template's {where} has {len(slots)} placeholder{'s' * (len(slots) != 1)} ({names})"
    return f"{wanted}; {count} {'was' if count == 1 else 'were'} given."


def _slot_label(slot: Slot) -> str:
    if slot.part == "Buttons":
        return f"The parameter of the button {slot.name!r}"
    if slot.kind != "Text":
        return f"The header's {slot.name} link"
    return f"The {slot.part.lower()} parameter {{{{{slot.name}}}}}"


def _problem(slot: Slot, value: Any) -> str | None:
    if not isinstance(value, str) or not value.strip():
        return "must be a non-empty text."
    if slot.kind in ("Image", "Video", "Document"):
        if not value.startswith("https://") or len(value) > MAX_LINK or any(c.isspace() for c in value):
            return f"must be an https:// link of at most {MAX_LINK} characters, without spaces."
        return None
    limit = {"Header": MAX_HEADER_PARAMETER, "Body": MAX_BODY_PARAMETER}.get(slot.part, MAX_BUTTON_PARAMETER)
    if slot.kind == "CouponCode":
        limit = MAX_COUPON_CODE
    if len(value) > limit:
        return f"must be at most {limit} characters."
    if slot.part != "Buttons" and BAD_TEXT.search(value):
        return "must not hold line breaks, tabs or more than four spaces in a row (WhatsApp refuses them)."
    if slot.part == "Buttons" and any(c.isspace() for c in value):
        return "must not hold spaces or line breaks."
    return None


def meta_components(spec: Spec, given: dict[str, list[str]]) -> list[dict]:
    """The `components` of Meta's template message for checked parameters."""
    components: list[dict[str, Any]] = []
    if spec.header:
        components.append({"type": "header", "parameters": [_parameter(spec, s, v) for s, v in
                                                             zip(spec.header, given["Header"], strict=True)]})
    if spec.body:
        components.append({"type": "body", "parameters": [_parameter(spec, s, v) for s, v in
                                                           zip(spec.body, given["Body"], strict=True)]})
    for slot, value in zip(spec.buttons, given.get("Buttons") or [], strict=True):
        parameter = {"type": "coupon_code", "coupon_code": value} if slot.kind == "CouponCode" \
            else {"type": "text", "text": value}
        components.append({"type": "button", "sub_type": slot.button_type, "index": str(slot.button_index),
                           "parameters": [parameter]})
    return components


def _parameter(spec: Spec, slot: Slot, value: str) -> dict:
    if slot.kind != "Text":
        kind = slot.kind.lower()
        return {"type": kind, kind: {"link": value}}
    parameter: dict[str, str] = {"type": "text", "text": value}
    if spec.named:
        parameter["parameter_name"] = slot.name
    return parameter


def render(components: Any, spec: Spec, given: dict[str, list[str]]) -> str:
    """The message as the customer sees it, for the chat's history: header, body, footer, buttons."""
    components = components if isinstance(components, list) else []
    lines = []
    header = _component(components, "HEADER")
    if header is not None and spec.header and spec.header[0].kind != "Text":
        link = next(iter(given.get("Header") or []), None)
        lines.append(f"[{spec.header[0].kind}: {link}]" if link else f"[{spec.header[0].kind}]")
    elif header is not None and header.get("text"):
        lines.append(_fill(str(header["text"]), spec.header, given.get("Header") or []))
    body = _component(components, "BODY")
    if body is not None:
        lines.append(_fill(str(body.get("text") or ""), spec.body, given.get("Body") or []))
    footer = _component(components, "FOOTER")
    if footer is not None and footer.get("text"):
        lines.append(str(footer["text"]))
    buttons = _component(components, "BUTTONS")
    labels = [f"[{b.get('text')}]" for b in (buttons.get("buttons") or [] if buttons else []) if b.get("text")]
    if labels:
        lines.append(" ".join(labels))
    return "\n\n".join(line for line in lines if line)


def _fill(text: str, slots: list[Slot], values: list[str]) -> str:
    by_name = {slot.name: value for slot, value in zip(slots, values, strict=False)}
    return PLACEHOLDER.sub(lambda m: by_name.get(m.group(1), m.group(0)), text)
