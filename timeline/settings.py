"""Settings from the environment (prefix `TIMELINE_`) and an optional `.env` file.

Built by `load_settings()`, never at import time. A bad value stops the start with the variable's name
and what it accepts.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import BeforeValidator, Field, ValidationError, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from alerts.config import AlertsConfig
from timeline.durations import parse_duration, parse_duration_list
from timeline.errors import SettingsError

DEFAULT_DB = "sqlite:///var/timeline.db"


def _duration(value: Any) -> Any:
    return parse_duration(value) if isinstance(value, str | int) and not isinstance(value, bool) else value


def _duration_list(value: Any) -> Any:
    return parse_duration_list(value) if isinstance(value, str) else value


def _csv(value: Any) -> Any:
    return [p.strip() for p in value.split(",") if p.strip()] if isinstance(value, str) else value


Duration = Annotated[timedelta, BeforeValidator(_duration)]
DurationList = Annotated[list[timedelta], NoDecode, BeforeValidator(_duration_list)]
StrList = Annotated[list[str], NoDecode, BeforeValidator(_csv)]


class Settings(BaseSettings):
    """Every setting, with its default. The README's settings table mirrors this class."""

    model_config = SettingsConfigDict(env_prefix="TIMELINE_", env_file=".env", extra="ignore", frozen=True)

    database_url: str = Field(DEFAULT_DB, description="SQLAlchemy URL; sqlite:///path or postgresql://...")
    config_dir: Path = Field(Path("config"), description="Folder holding milestones.yaml, feeds.yaml, ...")
    api_token: str | None = Field(None, description="Bearer token for API writes; unset = writes refused")
    api_read_token: str | None = Field(None, description="Bearer token for API reads; unset = reads open")
    host: str = Field("127.0.0.1", description="Address the HTTP server binds")
    port: int = Field(8000, ge=1, le=65535, description="Port the HTTP server binds")
    public_url: str | None = Field(
        None, description="Where people reach the service (links in messages and exports); default http://HOST:PORT"
    )
    log_level: str = Field("INFO", description="DEBUG, INFO, WARNING or ERROR")
    notify_past: bool = Field(False, description="On first sync, notify milestones already due or overdue")

    scan_interval: Duration = Field(timedelta(seconds=60), description="How often the due scan runs")
    reload_interval: Duration = Field(timedelta(seconds=30), description="Config re-read fallback period")
    feed_tick: Duration = Field(timedelta(seconds=15), description="How often due feeds are looked for")
    delivery_tick: Duration = Field(timedelta(seconds=2), description="How often the outbox is drained")

    feed_allow_private: bool = Field(False, description="Let feeds live on private/loopback addresses")
    feed_alert_after: Duration = Field(timedelta(days=1), description="Failing this long raises feed.failing")
    feed_concurrency: int = Field(20, ge=1, description="Feeds fetched at once, overall")
    feed_per_host: int = Field(2, ge=1, description="Feeds fetched at once from one host")

    webhook_allow_private: bool = Field(False, description="Let webhooks target private/loopback addresses")
    webhook_allow_cidrs: StrList = Field(default_factory=list, description="CIDRs allowed despite the guard")
    webhook_timeout: Duration = Field(timedelta(seconds=15), description="Timeout of one webhook request")
    webhook_concurrency: int = Field(4, ge=1, description="Requests in flight to one subscription")
    retry_schedule: DurationList = Field(
        default_factory=lambda: parse_duration_list("5s,5m,30m,2h,5h,10h,10h"),
        description="Waits between delivery attempts",
    )
    disable_after: Duration = Field(timedelta(days=5), description="Failing this long disables a subscription")
    delivery_lease: Duration | None = Field(
        None, description="How long a claimed delivery stays a worker's (>= 2 timeouts); default from the timeout"
    )

    @field_validator("log_level")
    @classmethod
    def _level(cls, value: str) -> str:
        level = value.upper()
        if level not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            raise ValueError("use DEBUG, INFO, WARNING or ERROR")
        return level

    @field_validator("database_url")
    @classmethod
    def _url(cls, value: str) -> str:
        if not value.startswith(("sqlite:", "postgresql:", "postgresql+psycopg:", "postgres:")):
            raise ValueError("use sqlite:///path/to/file.db or postgresql://user@host:5432/db")
        if value.startswith("postgres:"):
            value = "postgresql:" + value.removeprefix("postgres:")
        if value.startswith("postgresql://"):
            value = "postgresql+psycopg://" + value.removeprefix("postgresql://")
        return value

    @field_validator("public_url")
    @classmethod
    def _public(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        parts = urlsplit(value.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
            raise ValueError(
                "use the address people open, like https://timeline.example.org or http://host:8000/prefix"
            )
        return value.strip().rstrip("/")

    @property
    def base_url(self) -> str:
        """The address links point at: TIMELINE_PUBLIC_URL, else the listen address (no trailing slash)."""
        if self.public_url:
            return self.public_url
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @field_validator("delivery_lease")
    @classmethod
    def _lease(cls, value: timedelta | None, info: ValidationInfo) -> timedelta | None:
        timeout = info.data.get("webhook_timeout")
        if value is not None and timeout is not None:
            AlertsConfig(timeout=timeout, lease=value)  # its rule, its message (ValueError)
        return value

    @property
    def milestones_file(self) -> Path:
        return self.config_dir / "milestones.yaml"

    @property
    def feeds_file(self) -> Path:
        return self.config_dir / "feeds.yaml"

    @property
    def subscriptions_file(self) -> Path:
        return self.config_dir / "subscriptions.yaml"


def load_settings(**overrides: Any) -> Settings:
    """Settings from the environment, `.env` and `overrides`; SettingsError names each bad variable."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        lines = []
        for error in exc.errors():
            name = "TIMELINE_" + "_".join(str(part) for part in error["loc"][:1]).upper()
            message = str(error["msg"]).removeprefix("Value error, ")
            lines.append(f"{name}: {message} (got {error.get('input')!r})")
        raise SettingsError("bad settings:\n" + "\n".join(lines)) from None
