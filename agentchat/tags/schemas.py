from pydantic import Field

from agentchat.compat import WithAliases
from agentchat.contract import ID, Name, Schema

# The original's spelling of TagGroupID.
GROUP_ID = {"GroupID": "TagGroupID"}


class TagOut(Schema):
    tag_id: int = Field(validation_alias="id")
    tag_group_id: int
    name: str
    enabled: bool


class TagGroupOut(Schema):
    tag_group_id: int = Field(validation_alias="id")
    name: str
    enabled: bool


class TagGroupWithTags(TagGroupOut):
    tags: list[TagOut]


class TagGroupList(Schema):
    items: list[TagGroupWithTags]


class CreateTagGroupIn(Schema):
    name: Name
    enabled: bool = True


class UpdateTagGroupIn(WithAliases):
    input_aliases = GROUP_ID
    tag_group_id: ID
    name: Name | None = None
    enabled: bool | None = None


class CreateTagIn(WithAliases):
    input_aliases = GROUP_ID
    tag_group_id: ID
    name: Name
    enabled: bool = True


class UpdateTagIn(Schema):
    tag_id: ID
    name: Name | None = None
    enabled: bool | None = None


class AddTagIn(Schema):
    tag_id: ID
    chat_id: ID | None = None
    customer_id: ID | None = None


class RemoveTagIn(Schema):
    chat_id: ID
    tag_id: ID
