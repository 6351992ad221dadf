"""Every ORM model, imported in one place so that Alembic and the mappers see the whole schema."""

from agentchat.agents.models import Agent, AgentDepartment
from agentchat.agents.status_history import AgentStatusEvent
from agentchat.audit.models import AuditEntry
from agentchat.auth.models import AgentSession, LogonFailure, PasswordResetCode
from agentchat.canned.models import CannedResponse
from agentchat.chats.models import Chat, ChatEvent, ChatTag, Message
from agentchat.company.models import Setting
from agentchat.csat.models import ChatRating
from agentchat.customers.models import Comment, Customer
from agentchat.departments.models import Department, DepartmentTag
from agentchat.hours.models import WorkingHours
from agentchat.integrations.models import WebhookDelivery, WebhookEndpoint
from agentchat.notes.models import Mention
from agentchat.reports.models import Recipient, ReportRun, ReportSchedule
from agentchat.tags.models import Tag, TagEvent, TagGroup
from agentchat.templates.models import Template

__all__ = [
    "Agent", "AgentDepartment", "AgentStatusEvent", "AgentSession", "LogonFailure", "PasswordResetCode",
    "Setting", "Department", "DepartmentTag", "Tag", "TagGroup",
    "Chat", "ChatEvent", "ChatTag", "Message", "Comment", "Customer",
    "TagEvent", "CannedResponse", "WorkingHours", "Recipient", "ReportSchedule", "ReportRun",
    "Template", "WebhookEndpoint", "WebhookDelivery", "AuditEntry", "Mention", "ChatRating",
]
