"""Settings from the environment (prefix `TIMELINE_`) and an optional `.env` file.

Built by `load_settings()`, never at import time. A bad value stops the start with one line per bad
variable: `bad settings: TIMELINE_X: what it accepts`. The database lives in the config folder
unless TIMELINE_DATABASE_URL says otherwise (`<config_dir>/var/timeline.db`), so a command finds the
same database wherever it is run from.
"""

from __future__ import annotations

import ipaddress
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any
from urllib.parse import urlsplit

from pydantic import BeforeValidator, Field, ValidationError, ValidationInfo, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from timeline.durations import Duration, parse_duration_list
from timeline.errors import NoConfigError, SettingsError

if TYPE_CHECKING:  # imported where used: alerts.guard brings aiohttp, which `timeline check` does not need
    from alerts.config import AlertsConfig
    from alerts.guard import AddressPolicy

ENV_PREFIX = "TIMELINE_"
ENV_FILE = Path(".env")
"""Read from the working directory: settings, and the secrets `secret_env` names in subscriptions.yaml."""
DEFAULT_CONFIG_DIR = Path("config")
SECRET_SETTINGS = frozenset({"TIMELINE_SMTP_URL"})
"""Settings whose bad value is not repeated in the error: it may hold a password."""


def default_database_url(config_dir: Path) -> str:
    """SQLite in the config folder: `<config_dir>/var/timeline.db`."""
    return f"sqlite:///{config_dir / 'var' / 'timeline.db'}"


DEFAULT_DB = default_database_url(DEFAULT_CONFIG_DIR)


def env_name(field: str) -> str:
    """The environment variable of a setting: `feed_allow_cidrs` -> `TIMELINE_FEED_ALLOW_CIDRS`."""
    return ENV_PREFIX + field.upper()


def _duration_list(value: Any) -> Any:
    return parse_duration_list(value) if isinstance(value, str) else value


def _csv(value: Any) -> Any:
    return [p.strip() for p in value.split(",") if p.strip()] if isinstance(value, str) else value


def _cidrs(value: Any) -> Any:
    """`10.0.0.0/8, fd00::/8` -> the list, each checked now (one clear line, never a traceback later)."""
    items = _csv(value)
    if isinstance(items, list):
        for item in items:
            try:
                ipaddress.ip_network(str(item), strict=False)
            except ValueError:
                raise ValueError(
                    f"{str(item)!r} is not an address range; write CIDRs like 10.0.0.0/8 or fd00::/8 (or single "
                    "addresses), separated by commas"
                ) from None
    return items


DurationList = Annotated[list[timedelta], NoDecode, BeforeValidator(_duration_list)]
StrList = Annotated[list[str], NoDecode, BeforeValidator(_csv)]
CidrList = Annotated[list[str], NoDecode, BeforeValidator(_cidrs)]


class Settings(BaseSettings):
    """Every setting, with its default. The README's settings table mirrors this class."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, env_file=ENV_FILE, extra="ignore", frozen=True)

    database_url: str = Field(
        DEFAULT_DB,
        description="SQLAlchemy URL; sqlite:///path or postgresql://...; default <config_dir>/var/timeline.db",
    )
    config_dir: Path = Field(DEFAULT_CONFIG_DIR, description="Folder holding milestones.yaml, feeds.yaml, ...")
    config_settle: Duration = Field(
        timedelta(seconds=1), description="How long the config files must stay unchanged before an edit is applied"
    )
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
    feed_allow_cidrs: CidrList = Field(default_factory=list, description="CIDRs feeds may live in despite the guard")
    feed_alert_after: Duration = Field(timedelta(days=1), description="Failing this long raises feed.failing")
    feed_concurrency: int = Field(20, ge=1, description="Feeds fetched at once, overall")
    feed_per_host: int = Field(2, ge=1, description="Feeds fetched at once from one host")

    webhook_allow_private: bool = Field(False, description="Let webhooks target private/loopback addresses")
    webhook_allow_cidrs: CidrList = Field(default_factory=list, description="CIDRs allowed despite the guard")
    webhook_timeout: Duration = Field(timedelta(seconds=15), description="Timeout of one webhook request")
    webhook_concurrency: int = Field(4, ge=1, description="Requests in flight to one subscription")
    retry_schedule: DurationList = Field(
        default_factory=lambda: parse_duration_list("5s,5m,30m,2h,5h,10h,10h"),
        description="Waits between delivery attempts",
    )
    disable_after: Duration = Field(timedelta(days=5), description="Failing this long disables a subscription")
    proposals_git_commit: bool = Field(
        False, description="Commit milestones.yaml with git when a proposal is accepted (config folder a git work tree)"
    )
    delivery_lease: Duration | None = Field(
        None, description="How long a claimed delivery stays a worker's (>= 2 timeouts); default from the timeout"
    )
    smtp_url: str | None = Field(
        None, description="SMTP server of email subscriptions: smtp://user:pass@host:587 (STARTTLS) or smtps://host"
    )
    mail_from: str | None = Field(None, description="The From address of email notices")

    @model_validator(mode="before")
    @classmethod
    def _database_beside_config(cls, data: Any) -> Any:
        """Without TIMELINE_DATABASE_URL, the database lives in the config folder."""
        if isinstance(data, dict) and not data.get("database_url"):
            folder = data.get("config_dir") or DEFAULT_CONFIG_DIR
            if isinstance(folder, str | Path):
                data = {**data, "database_url": default_database_url(Path(folder))}
        return data

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

    @field_validator("smtp_url")
    @classmethod
    def _smtp(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        from alerts.mail import parse_smtp_url

        parsed = parse_smtp_url(value)
        if isinstance(parsed, str):
            raise ValueError(parsed)
        return value.strip()

    @field_validator("mail_from")
    @classmethod
    def _sender(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        from alerts.mail import address_problem

        problem = address_problem(value)
        if problem is not None:
            raise ValueError(problem)
        return value.strip()

    @field_validator("delivery_lease")
    @classmethod
    def _lease(cls, value: timedelta | None, info: ValidationInfo) -> timedelta | None:
        timeout = info.data.get("webhook_timeout")
        if value is not None and timeout is not None:
            from alerts.config import AlertsConfig

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

    def feed_policy(self) -> AddressPolicy:
        """The SSRF guard's policy for feed fetches; its refusals name the feed settings."""
        from alerts.guard import AddressPolicy

        return AddressPolicy.from_settings(
            self.feed_allow_private,
            self.feed_allow_cidrs,
            private_setting=env_name("feed_allow_private"),
            cidrs_setting=env_name("feed_allow_cidrs"),
        )


def load_settings(**overrides: Any) -> Settings:
    """Settings from the environment, `.env` and `overrides`; SettingsError names each bad variable,
    one line each: `bad settings: TIMELINE_X: what it accepts (got ...)`."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        lines = []
        for error in exc.errors():
            name = env_name(str(error["loc"][0])) if error["loc"] else "settings"
            message = str(error["msg"]).removeprefix("Value error, ")
            shown = "a value not shown: it may hold a password" if name in SECRET_SETTINGS else repr(error.get("input"))
            lines.append(f"bad settings: {name}: {message} (got {shown if len(shown) <= 80 else shown[:77] + '...'})")
        raise SettingsError("\n".join(lines)) from None


def require_config(settings: Settings) -> Settings:
    """`settings`, when their config folder holds a milestones.yaml; NoConfigError saying where it
    looked and how to point elsewhere otherwise (commands then create nothing: no folder, no database)."""
    path = settings.milestones_file
    if path.exists():
        return settings
    folder = settings.config_dir.absolute()
    if "config_dir" in settings.model_fields_set:
        where = f"{env_name('config_dir')} is {str(settings.config_dir)!r}"
    else:
        where = f"{env_name('config_dir')} is not set, so the folder `{DEFAULT_CONFIG_DIR}` in the current directory"
    raise NoConfigError(
        f"no milestones.yaml in {folder} ({where}).\n"
        f"Run `timeline init {settings.config_dir}` to write a starter folder there, or set {env_name('config_dir')} "
        "to the folder that holds your milestones.yaml."
    )


def default_sender(base_url: str) -> str:
    """The From address of email notices when TIMELINE_MAIL_FROM is unset: `timeline-alerts@` the
    public host (`localhost` when that is an address)."""
    host = urlsplit(base_url).hostname or "localhost"
    try:
        ipaddress.ip_address(host)
        host = "localhost"
    except ValueError:
        pass
    return f"timeline-alerts@{host}"


def alerts_config(settings: Settings) -> AlertsConfig:
    """The alerts engine's settings, from ours."""
    from alerts.config import AlertsConfig

    return AlertsConfig(
        allow_private=settings.webhook_allow_private,
        allow_cidrs=tuple(settings.webhook_allow_cidrs),
        allow_private_setting=env_name("webhook_allow_private"),
        allow_cidrs_setting=env_name("webhook_allow_cidrs"),
        timeout=settings.webhook_timeout,
        concurrency=settings.webhook_concurrency,
        retry_schedule=tuple(settings.retry_schedule),
        disable_after=settings.disable_after,
        lease=settings.delivery_lease,
        smtp_url=settings.smtp_url,
        mail_from=settings.mail_from or default_sender(settings.base_url),
        public_url=settings.base_url,
    )
