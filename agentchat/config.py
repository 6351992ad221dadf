import re
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

_ORIGIN = re.compile(r"^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?$")


class Settings(BaseSettings):
    """Every knob of the service; read from AGENTCHAT_* environment variables and an optional .env."""

    model_config = SettingsConfigDict(env_prefix="AGENTCHAT_", env_file=".env", extra="ignore")

    database_url: str = "sqlite+aiosqlite:///./data/agentchat.db"
    data_dir: Path = Path("./data")
    public_url: str = "http://127.0.0.1:8000"
    broker_url: str = "memory://"
    # What AgentChat's Redis keys and channels start with: deployments (or test runs) sharing one Redis each
    # take their own.
    redis_prefix: str = Field("agentchat", pattern=r"^[A-Za-z0-9_.-]{1,64}$")

    session_idle_minutes: int = Field(30, ge=1, le=24 * 60)
    # How often each instance sets agents without a live session Offline and closes the sockets of sessions that
    # have ended (idle expiry): a socket outlives its session by at most this long.
    presence_sweep_seconds: float = Field(30, ge=0.5, le=600)
    # Agent WebSockets one session may hold open (per instance); one more closes the session's oldest.
    max_sockets_per_session: int = Field(10, ge=1, le=1000)
    reset_code_minutes: int = Field(60, ge=5, le=24 * 60)
    invite_code_hours: int = Field(72, ge=1, le=24 * 30)
    logon_max_failures: int = Field(5, ge=1)
    logon_window_seconds: int = Field(300, ge=10)

    # argon2id cost; the defaults are argon2-cffi's (RFC 9106 low-memory profile).
    argon2_time_cost: int = Field(3, ge=1)
    argon2_memory_kib: int = Field(65536, ge=8)
    argon2_parallelism: int = Field(4, ge=1)
    # Password hashes at once (0: half the cores, at least one), and requests that may wait for one; more: 503.
    password_hash_slots: int = Field(0, ge=0, le=256)
    password_hash_queue: int = Field(32, ge=0, le=100_000)

    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_user: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = False
    mail_from: str = "AgentChat <agentchat@localhost>"

    whatsapp_api_url: str = "https://graph.facebook.com/v21.0"
    whatsapp_access_token: str | None = None
    whatsapp_phone_number_id: str | None = None
    whatsapp_app_secret: str | None = None
    whatsapp_verify_token: str | None = None
    # The WhatsApp Business Account (WABA) whose message templates SyncTemplates reads.
    whatsapp_business_account_id: str | None = Field(None, pattern=r"^\d{1,32}$")
    # Graph API calls are retried on 5xx, 429, throttling codes and network errors: attempts in all, and the
    # first pause (doubled after each attempt).
    whatsapp_retry_attempts: int = Field(4, ge=1, le=10)
    whatsapp_retry_base_seconds: float = Field(0.5, ge=0, le=60)
    whatsapp_timeout_seconds: float = Field(15, gt=0, le=120)

    # Timed jobs (presence, routing sweeps, notifications, queue positions, scheduled reports, orphaned files).
    # Tests turn them off and call the jobs themselves, so that nothing happens behind a test's back.
    run_jobs: bool = True

    # Outgoing webhooks (docs/integrations.md): a failed delivery is tried again after base × 2^(attempt-1)
    # seconds (at most an hour), up to `webhook_max_attempts` tries; an endpoint whose last
    # `webhook_pause_after_failures` attempts all failed is paused and the managers told.
    webhook_retry_base_seconds: float = Field(30, ge=0.01, le=3600)
    webhook_max_attempts: int = Field(12, ge=1, le=50)
    webhook_pause_after_failures: int = Field(10, ge=1, le=1000)
    webhook_timeout_seconds: float = Field(10, gt=0, le=60)
    # How often each instance looks for deliveries that are due (new ones also start at once after their commit).
    webhook_poll_seconds: float = Field(5, ge=0.2, le=600)
    webhook_keep_days: int = Field(30, ge=1, le=3650)

    max_file_bytes: int = Field(16 * 1024 * 1024, ge=1)
    # Where message files are kept: unset, the data folder's files/; "s3://bucket/prefix", S3-compatible object
    # storage shared by instances on several machines (docs/deployment.md).
    file_storage: str = Field("", pattern=r"^(s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/[A-Za-z0-9!_.*'()/-]{0,200})?)?$")
    s3_endpoint_url: str | None = Field(None, pattern=r"^https?://[^\s/?#]+/?$")  # unset: AWS's own endpoint
    s3_region: str = Field("us-east-1", pattern=r"^[a-z0-9-]{1,32}$")
    # Unset: botocore's usual chain (AWS_* variables, ~/.aws, an instance or container role).
    s3_access_key_id: str | None = None
    s3_secret_access_key: str | None = None
    # "path" for most self-hosted stores (MinIO, Ceph) addressed by IP or one host name.
    s3_addressing_style: Literal["auto", "path", "virtual"] = "auto"
    # 0: GetFile streams the object through the instance. N: GetFile redirects (307) to a presigned URL valid N
    # seconds, and the store serves the bytes (the bucket then needs CORS for the console's origin).
    s3_presign_seconds: int = Field(0, ge=0, le=3600)
    # Origins (scheme://host[:port], space-separated) whose pages may show /chat in a frame, besides our own.
    webchat_frame_ancestors: str = ""
    log_level: str = "INFO"
    # PostgreSQL's text search configuration for Search (docs/search.md): `simple` (no stemming; any language) or
    # one such as `english`. The message index is built with it when migrating; change both together.
    search_language: str = Field("simple", pattern=r"^[a-z_]{1,32}$")

    # PostgreSQL's planner cost of a random page read, set on AgentChat's own connections: its default (4) is for
    # spinning disks, and made it scan the agent and session tables row by row on every call instead of using
    # their keys (a SendMessage's statement 15 % dearer). 0 leaves the server's own setting.
    postgres_random_page_cost: float = Field(1.1, ge=0, le=100)
    # "pgbouncer": PostgreSQL is reached through PgBouncer in transaction mode, where a connection's statements
    # may run on different server connections: no named prepared statements are kept (asyncpg's and SQLAlchemy's
    # statement caches off) and no settings are sent at connect (PgBouncer refuses unknown startup parameters;
    # set random_page_cost on the database instead). docs/deployment.md.
    postgres_pooler: Literal["", "pgbouncer"] = ""

    @field_validator("webchat_frame_ancestors")
    @classmethod
    def _origins(cls, value: str) -> str:
        for origin in value.split():
            # Only an origin: anything else (a quote, a ';') would be a policy of its own in the CSP header.
            if not _ORIGIN.match(origin):
                raise ValueError(f"{origin!r} is not an origin such as https://shop.example.com")
        return value

    @property
    def webchat_frame_origins(self) -> list[str]:
        return self.webchat_frame_ancestors.split()

    @property
    def outbox_dir(self) -> Path:
        return self.data_dir / "outbox"

    @property
    def files_dir(self) -> Path:
        return self.data_dir / "files"

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def postgres_statement_cache_size(self) -> int:
        """asyncpg's prepared statements kept per connection: none behind a transaction-mode pooler."""
        return 0 if self.postgres_pooler else 100

    @property
    def postgres_server_settings(self) -> dict[str, str]:
        """Settings for each PostgreSQL connection AgentChat opens (asyncpg's server_settings)."""
        if not self.postgres_random_page_cost or self.postgres_pooler:
            return {}
        return {"random_page_cost": f"{self.postgres_random_page_cost:g}"}
