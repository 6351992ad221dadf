from typing import Literal

from pydantic import Field

from agentchat.contract import ID, Name, Schema


class DepartmentOut(Schema):
    department_id: int = Field(validation_alias="id")
    name: str
    include_in_welcome_menu: bool
    welcome_menu_name: str | None
    returning_customer_message: str | None
    new_customer_message: str | None
    menu_option: int | None
    enabled: bool
    tag_ids: list[int]
    # Extension (docs/events.md, Routing): queued chats are assigned automatically.
    routing_enabled: bool
    # Extension (docs/csat.md): customers are asked to rate chats closed by an agent.
    csat_enabled: bool
    routing_strategy: str


class DepartmentFields(Schema):
    include_in_welcome_menu: bool | None = None
    # WhatsApp list rows allow 24 characters for a title; longer names are cut in the list, kept in text menus.
    welcome_menu_name: str | None = Field(None, max_length=100)
    returning_customer_message: str | None = Field(None, max_length=4096)
    new_customer_message: str | None = Field(None, max_length=4096)
    menu_option: int | None = Field(None, ge=1, le=99)
    enabled: bool | None = None
    tag_ids: list[ID] | None = Field(None, max_length=100)
    routing_enabled: bool | None = None
    csat_enabled: bool | None = None
    routing_strategy: Literal["LeastBusy", "RoundRobin"] | None = None


class CreateDepartmentIn(DepartmentFields):
    name: Name


class UpdateDepartmentIn(DepartmentFields):
    department_id: ID
    name: Name | None = None


class DepartmentList(Schema):
    items: list[DepartmentOut]
