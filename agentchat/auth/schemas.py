from pydantic import Field

from agentchat.agents.schemas import AgentOut
from agentchat.contract import EmailAddress, LogonPassword, Password, Schema, UtcTime


class LogonIn(Schema):
    email_address: EmailAddress
    # Bounded but not policed here: a wrong password is a failed logon, not a 422.
    password: LogonPassword


class LogonOut(Schema):
    session_token: str
    expires_at: UtcTime
    agent: AgentOut


class SetPasswordIn(Schema):
    reset_code: str = Field(min_length=1, max_length=200)
    password: Password


class ExpiresOut(Schema):
    expires_at: UtcTime
