"""The one settings object: every tunable comes from `LIFTBRAIN_*` environment variables."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from runtime.errors import OperatorError

__all__ = ["MqttAddress", "Settings", "default_data_dir", "get_settings", "parse_mqtt_url"]

DEV_ADMIN_KEY_PREFIX = "lb_dev_"


def default_data_dir() -> Path:
    """Where `liftbrain up` keeps its embedded servers' data.

    As root the data lives under /var/lib: PostgreSQL and Mosquitto drop to their own system users, and
    those cannot reach a checkout under /root (mode 0700).
    """
    if os.geteuid() == 0:
        return Path("/var/lib/liftbrain")
    return Path.home() / ".local" / "share" / "liftbrain"


class MqttAddress:
    """A broker address parsed from `mqtt://[user:password@]host[:port]`."""

    def __init__(self, host: str, port: int, username: str | None, password: str | None) -> None:
        self.host = host
        self.port = port
        self.username = username
        self.password = password

    def __repr__(self) -> str:
        return f"MqttAddress({self.host}:{self.port})"


def parse_mqtt_url(url: str) -> MqttAddress:
    """Parse an `mqtt://` URL (port 1883 by default)."""
    parts = urlsplit(url)
    if parts.scheme not in ("mqtt", "tcp"):
        raise ValueError(f"MQTT URL must start with mqtt://, got {url!r}")
    if not parts.hostname:
        raise ValueError(f"MQTT URL has no host: {url!r}")
    return MqttAddress(parts.hostname, parts.port or 1883, parts.username, parts.password)


class Settings(BaseSettings):
    """liftbrain configuration. Unset URLs mean: use the embedded local servers (`liftbrain up`)."""

    model_config = SettingsConfigDict(env_prefix="LIFTBRAIN_", extra="ignore")

    env: Literal["dev", "prod"] = "dev"
    database_url: str | None = None
    mqtt_url: str | None = None
    data_dir: Path = Field(default_factory=default_data_dir)

    api_host: str = "127.0.0.1"
    api_port: int = 8000
    # Starlette sets no body limit; lifecycle records and batches are small, 1 MiB is generous.
    api_max_body_bytes: int = 1 << 20
    admin_key: str | None = None
    # The operator's Ed25519 public key (64 hex characters) for chain checkpoints; its private half stays
    # outside the database. Unset: chains are verified by their hashes only.
    checkpoint_public_key: str | None = Field(None, pattern=r"^[0-9a-f]{64}$")

    mqtt_topic_prefix: str = "lb/v1"
    # Where the broker reads its password and ACL files (`liftbrain up` sets it for the embedded broker): the
    # brain keeps them in step with the mqtt_credentials table and has the broker reload them.
    mqtt_auth_dir: Path | None = None
    # Service identities an operator configures (docker-compose): `db migrate` registers them.
    mqtt_ingest_password: str | None = None
    mqtt_simulator_password: str | None = None
    # A rotated device credential stays valid this long beside its successor, so a fleet can roll over.
    mqtt_rotation_grace_hours: float = 168.0
    ingest_client_id: str = "liftbrain-ingest"
    # Set to share the subscription between several ingest processes ($share/<group>/...).
    ingest_shared_group: str | None = None
    ingest_auto_register: bool = False
    # A message is one sample or a batch; 256 KiB holds thousands of samples and bounds a hostile payload.
    ingest_max_payload_bytes: int = 256 * 1024
    # Ack after commit: the batch must fit within the broker's in-flight window (see stack/mosquitto.py).
    ingest_batch_max_messages: int = 500
    ingest_batch_max_seconds: float = 0.2
    # Device clocks drift; beyond this a timestamp is a bug that would create a far-future chunk.
    ingest_max_future_seconds: float = 300.0
    ingest_max_past_days: float = 3650.0

    # /health and /metrics of the worker processes (0 disables).
    ingest_http_port: int = 9101
    brain_http_port: int = 9102

    telemetry_retention_days: int = 400
    # Raw telemetry older than this moves to the Parquet cold tier (<data dir>/cold/telemetry), read transparently.
    telemetry_cold_after_days: int = Field(7, ge=1)
    # Rollups re-roll this far behind their mark, so samples a gateway delivers late still count.
    telemetry_rollup_lookback_minutes: int = Field(120, ge=0)
    # A unit that publishes nothing for this long is marked offline (its last will may never come).
    unit_offline_after_seconds: float = 900.0
    # On-demand maintenance: the longest routine interval a monitored unit with a good record may earn
    # (the pilots allow one to three months).
    maintenance_interval_ceiling_days: int = Field(60, ge=30, le=92)
    # Verification: a repaired fault that stays away this long (and, for a detector's finding, whose component
    # is judged back at baseline on days after the repair) is verified. Three days is the detector's own
    # judgement window, and a repair that did not hold shows again within days in the field.
    verification_window_days: float = Field(3.0, ge=1.0, le=30.0)

    @field_validator("database_url")
    @classmethod
    def _normalise_dsn(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        # SQLAlchemy-style URLs are common in deployments; psycopg wants plain postgresql://.
        for prefix in ("postgresql+psycopg://", "postgres://"):
            if value.startswith(prefix):
                return "postgresql://" + value.removeprefix(prefix)
        return value

    @field_validator("mqtt_url")
    @classmethod
    def _check_mqtt_url(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        parse_mqtt_url(value)
        return value

    @model_validator(mode="after")
    def _refuse_dev_secrets_in_prod(self) -> Settings:
        if self.env == "prod" and self.admin_key and self.admin_key.startswith(DEV_ADMIN_KEY_PREFIX):
            raise ValueError("LIFTBRAIN_ADMIN_KEY is a development key; set a real one in prod")
        if self.env == "prod" and self.mqtt_url and parse_mqtt_url(self.mqtt_url).username is None:
            raise ValueError("LIFTBRAIN_MQTT_URL has no credentials: anonymous MQTT is refused in prod")
        return self

    @property
    def embedded(self) -> bool:
        """True when no external servers are configured."""
        return self.database_url is None and self.mqtt_url is None

    def require_database_url(self) -> str:
        """The database URL, or a clear error when none is configured."""
        if self.database_url is None:
            raise OperatorError("LIFTBRAIN_DATABASE_URL is not set (use `liftbrain up` for the embedded stack)")
        return self.database_url

    def require_mqtt(self) -> MqttAddress:
        """The broker address, or a clear error when none is configured."""
        if self.mqtt_url is None:
            raise OperatorError("LIFTBRAIN_MQTT_URL is not set (use `liftbrain up` for the embedded stack)")
        return parse_mqtt_url(self.mqtt_url)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once from the environment."""
    return Settings()
