"""The Template object of the contract and the bodies of the template calls."""

from typing import Annotated

from pydantic import Field

from agentchat.contract import ID, Schema, UtcTime
from agentchat.templates.components import Slot, render, spec_of
from agentchat.templates.models import Template

# Meta's own bounds: a name of at most 512 characters; language codes such as en_US or pt_BR.
TemplateName = Annotated[str, Field(min_length=1, max_length=512)]
LanguageCode = Annotated[str, Field(min_length=2, max_length=20, pattern=r"^[A-Za-z]{2,3}([_-][A-Za-z0-9]{2,8})*$")]
ParameterValue = Annotated[str, Field(max_length=2000)]


class ParameterOut(Schema):
    """One value a send must give: a placeholder ("1", "first_name"), a media header's link, a button's part."""

    name: str
    type: str  # Text, Image, Video, Document or CouponCode
    example: str | None

    @classmethod
    def of(cls, slot: Slot) -> "ParameterOut":
        return cls(name=slot.name, type=slot.kind, example=slot.example)


class TemplateParametersOut(Schema):
    header: list[ParameterOut]
    body: list[ParameterOut]
    buttons: list[ParameterOut]


class TemplateOut(Schema):
    template_id: int
    name: str
    language: str
    category: str
    status: str
    reason: str | None
    components: list
    parameters: TemplateParametersOut
    preview: str
    sendable: bool
    not_sendable_reason: str | None
    updated_at: UtcTime

    @classmethod
    def of(cls, template: Template) -> "TemplateOut":
        spec = spec_of(template.components)
        parameters = TemplateParametersOut(header=[ParameterOut.of(s) for s in spec.header],
                                           body=[ParameterOut.of(s) for s in spec.body],
                                           buttons=[ParameterOut.of(s) for s in spec.buttons])
        return cls(template_id=template.id, name=template.name, language=template.language,
                   category=template.category, status=template.status, reason=template.reason,
                   components=template.components, parameters=parameters,
                   preview=render(template.components, spec, {}), sendable=spec.unsupported is None,
                   not_sendable_reason=spec.unsupported, updated_at=template.updated_at)


class TemplateList(Schema):
    items: list[TemplateOut]


class SyncTemplatesOut(TemplateList):
    synced: int
    removed: int


class TemplateParametersIn(Schema):
    header: list[ParameterValue] = Field(default_factory=list, max_length=10)
    body: list[ParameterValue] = Field(default_factory=list, max_length=100)
    buttons: list[ParameterValue] = Field(default_factory=list, max_length=10)


class SendTemplateIn(Schema):
    chat_id: ID
    template_name: TemplateName
    language: LanguageCode
    parameters: TemplateParametersIn = Field(default_factory=TemplateParametersIn)
