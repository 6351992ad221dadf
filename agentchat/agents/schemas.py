from typing import Annotated, Literal

from pydantic import Field, field_validator

from agentchat.contract import ID, EmailAddress, JsonInteger, MobileNumber, Name, Schema, UtcTime

RoleID = Annotated[Literal[1, 2], JsonInteger]
StatusID = Annotated[Literal[1, 2, 3, 4], JsonInteger]
Notification = Literal["UnassignedChatsWaiting"]
Channel = Literal["WhatsApp", "WebChat"]
ChannelLimit = Annotated[int, JsonInteger, Field(ge=0, le=50)]


class AgentOut(Schema):
    agent_id: int = Field(validation_alias="id")
    name: str
    email_address: str
    mobile_number: str | None
    role_id: int
    status_id: int
    department_ids: list[int]
    notifications: list[str]
    enabled: bool
    created_at: UtcTime
    # Extension: the most chats routing gives the agent at once (departments with RoutingEnabled).
    max_concurrent_chats: int
    # Extension: the same per channel, within MaxConcurrentChats ({} = no limit of its own for any channel).
    max_chats_per_channel: dict[str, int]

    @field_validator("max_chats_per_channel", mode="before")
    @classmethod
    def _none_is_empty(cls, value):
        return value or {}


class CreateAgentIn(Schema):
    name: Name
    email_address: EmailAddress
    role_id: RoleID
    department_ids: list[ID] = Field(max_length=500)
    mobile_number: MobileNumber | None = None


class UpdateAgentIn(Schema):
    agent_id: ID
    name: Name | None = None
    mobile_number: MobileNumber | None = None
    email_address: EmailAddress | None = None
    notifications: list[Notification] | None = Field(None, max_length=10)
    role_id: RoleID | None = None
    status_id: StatusID | None = None
    department_ids: list[ID] | None = Field(None, max_length=500)
    enabled: bool | None = None
    max_concurrent_chats: int | None = Field(None, ge=1, le=50)
    # Replaces the agent's limits per channel; {} removes them.
    max_chats_per_channel: dict[Channel, ChannelLimit] | None = None
