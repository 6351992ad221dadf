import re
from typing import Annotated

from pydantic import AfterValidator, BeforeValidator, Field

from agentchat.contract import ID, Name, Schema

SHORT_CODE = re.compile(r"^[a-z0-9_-]{1,32}$")
# A variable is a name in braces; any other brace is a typo the agent would send to a customer.
VARIABLE = re.compile(r"\{([A-Za-z][A-Za-z0-9]{0,39})\}")


def normalise_short_code(value: str) -> str:
    value = value.strip().lower()
    if not SHORT_CODE.match(value):
        raise ValueError("must be 1 to 32 letters, digits, '_' or '-'")
    return value


def check_braces(value: str) -> str:
    if "{" in VARIABLE.sub("", value) or "}" in VARIABLE.sub("", value):
        raise ValueError("has an unmatched brace; variables are written like {CustomerName}")
    return value


def _blank_is_none(value):
    return None if isinstance(value, str) and not value.strip() else value


# An empty ShortCode means none (and on update removes it).
_ShortCode = Annotated[str, Field(max_length=64), AfterValidator(normalise_short_code)]
ShortCode = Annotated[_ShortCode | None, BeforeValidator(_blank_is_none)]
CannedText = Annotated[str, Field(min_length=1, max_length=4096), AfterValidator(check_braces)]


class CannedResponseOut(Schema):
    canned_response_id: int = Field(validation_alias="id")
    name: str
    text: str
    short_code: str | None


class CannedResponseList(Schema):
    items: list[CannedResponseOut]


class CreateCannedResponseIn(Schema):
    name: Name
    text: CannedText
    short_code: ShortCode = None


class UpdateCannedResponseIn(Schema):
    canned_response_id: ID
    name: Name | None = None
    text: CannedText | None = None
    # null or "" removes the short code; leaving the field out keeps it.
    short_code: ShortCode = None


class RenderedText(Schema):
    text: str
