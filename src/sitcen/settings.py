"""The node's settings: one typed object read from ``SITCEN_*`` environment variables.

Nothing else in the code reads the environment. Create it once with
:func:`get_settings` (or build a :class:`Settings` explicitly in tests).
"""

from __future__ import annotations

import ipaddress
import json
import re
from functools import lru_cache
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from sitcen.i18n import SUPPORTED
from sitcen.taxonomy import EVENT_TYPES, Handling
from sitcen.times import ZoneName
from sitcen.users import Role

# Values that mean "nobody set this": a node must not run on them in production.
PLACEHOLDER_SECRETS = frozenset(
    {"", "changeme", "change-me", "secret", "demo", "sitcen", "password"}
)

NODE_ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")


#: The countries a hub of the risk analysis network expects monthly indicators from, and the
#: day of the following month a month is due by (docs/network.md): the settings' defaults.
INDICATOR_MEMBERS = ("KZ", "KG", "TJ", "TM", "UZ")
INDICATOR_DEADLINE_DAY = 15


#: Seconds a stopping server waits for open requests before it cancels them. A console's live
#: stream (and a TAK or partner stream) never ends by itself: without a bound, stopping a node
#: waited on every open console (30 s per node in the tests' teardowns, until the service
#: manager's kill in production).
GRACEFUL_SHUTDOWN_S = 5


class SettingsError(ValueError):
    """A setting is missing or unsafe; the message names it."""


class Settings(BaseSettings):
    """Everything a node needs to start. Each field is ``SITCEN_<NAME>`` in the environment."""

    model_config = SettingsConfigDict(env_prefix="SITCEN_", extra="forbid", frozen=True)

    environment: Literal["production", "demo", "test"] = Field(
        "production", description="demo and test allow placeholder secrets"
    )
    data_dir: Path = Field(Path("./sitcen-data"), description="where the node keeps its files")
    database_url: str = Field(
        "", description="SQLAlchemy URL; empty means a SQLite file sitcen.db in data_dir"
    )
    node_id: str = Field("local-node", description="this node's stable identity, e.g. kg-osh-post")
    node_name: str = Field("Local node", description="human name of the node")
    node_country: str = Field("KG", description="ISO 3166-1 alpha-2 country of the node")
    secret_key: SecretStr = Field(
        SecretStr("changeme"), description="secret for signing session tokens"
    )
    token_ttl_hours: int = Field(12, ge=1, le=24 * 30, description="lifetime of a login token")
    section_max_km: float = Field(
        25.0, gt=0, le=200, description="events further than this from any section are inland"
    )
    clock_skew_s: int = Field(
        300, ge=0, le=86400, description="how far in the future occurred_at may lie"
    )
    sections_file: Path | None = Field(
        None, description="GeoJSON of custom border sections replacing the defaults"
    )
    analysis_interval_min: int = Field(
        15, ge=0, le=24 * 60,
        description="minutes between scheduled recomputations of the risk table and alerts "
                    "by `sitcen serve`; 0 turns the schedule off",
    )
    report_daily_at: str = Field(
        "00:30", pattern=r"^(([01]\d|2[0-3]):[0-5]\d)?$",
        description="local time (HH:MM, the centre's zone) at which `sitcen serve` drafts the "
                    "daily situation report of the day before; empty turns it off",
    )
    report_language: str = Field("ru", description="language of scheduled reports without a "
                                                   "template")
    report_issue_as: str = Field(
        "", description="username of the officer who issues scheduled reports; empty: they "
                        "wait as drafts for an officer to add commentary and issue them",
    )
    partner_users: dict[str, str] = Field(
        {},
        description="liaison users who speak for a partner node, as JSON "
                    '{"username": "node-id"}: over TAXII and CAP they see only what the '
                    "agreement this node grants that node allows",
    )

    file_max_mb: float = Field(
        10.0, gt=0, le=20,
        description="largest file that may be attached to a record, in MiB (images, PDF, "
                    "text, office documents)")
    upload_expiry_hours: float = Field(
        48.0, gt=0, le=24 * 30,
        description="how long the node keeps an unfinished resumable upload (a photo sent in "
                    "pieces from a poor link) before it removes what arrived, in hours")
    second_factor_roles: list[str] = Field(
        [],
        description="roles whose users must log in with a second factor (a code from an "
                    'authenticator app), as JSON, e.g. ["admin", "duty_officer"]; a user of '
                    "such a role without one is let in only to set it up. Anyone may set one up")
    chain_levels: list[str] = Field(
        ["national"],
        description="levels of the validation chain a report passes, lowest first, as JSON "
                    '(e.g. ["regional", "national"]); the same list on every node of a chain')
    chain_level: str = Field(
        "national", description="the level of the chain this node validates at; empty: it "
                                "validates nothing (a post that only reports)")
    serious_types: list[str] = Field(
        ["armed_incident"],
        description="event types that are serious incidents (they skip the queue and reach "
                    "every level at once); deaths and a very high impact always are")
    queue_overdue_min: int = Field(
        30, ge=1, le=7 * 24 * 60,
        description="minutes a report may wait in a level's queue before it is flagged and "
                    "the duty officers are told")
    queue_horizon_days: int = Field(
        7, ge=1, le=3650,
        description="a report that reaches the node more than this many days after it was "
                    "made (history, imports) enters no queue")

    indicator_deadline_day: int = Field(
        INDICATOR_DEADLINE_DAY, ge=1, le=28,
        description="day of the following month by which a month's indicator records are "
                    "submitted (docs/network.md)")
    indicator_reminders: bool = Field(
        False, description="remind the people who record the monthly indicators of a month due "
                           "or overdue (on the node that submits its country's months)")
    indicator_reminder_days: int = Field(
        5, ge=0, le=27,
        description="days before the indicator deadline the people who record them are "
                    "reminded (and again once it has passed)")
    indicator_members: list[str] = Field(
        default_factory=lambda: list(INDICATOR_MEMBERS),
        description="countries a hub expects monthly indicator records from")

    smtp_host: str = Field("", description="SMTP server notifications are e-mailed through; "
                                           "empty: no e-mail")
    smtp_port: int = Field(25, ge=1, le=65535, description="SMTP server port")
    smtp_starttls: bool = Field(False, description="upgrade the SMTP connection with STARTTLS")
    smtp_username: str = Field("", description="user name at the SMTP server; empty: no login")
    smtp_password: SecretStr = Field(SecretStr(""), description="password at the SMTP server")
    smtp_from: str = Field("sitcen@localhost", description="sender address of the e-mails")
    console_url: str = Field(
        "", description="the console's address as users reach it, for links in e-mails and "
                        "webhooks (e.g. https://sitcen.tj-ncc.example/); empty: no links")
    notify_external_handling: Handling = Field(
        Handling.amber,
        description="highest handling whose summary an e-mail or webhook carries; above it "
                    "they say only that something changed, and the console shows the rest")
    digest_time: str = Field("07:00", pattern=r"^([01]\d|2[0-3]):[0-5]\d$",
                             description="local time the daily e-mail digests are sent")
    digest_tz: ZoneName = Field("Asia/Almaty", description="IANA time zone of digest_time")

    audit_anchor_interval_min: int = Field(
        60, ge=0, le=7 * 24 * 60,
        description="minutes between anchors of the audit trail's head in the journal (peers "
                    "that are granted the kind audit_anchor keep copies); 0: no anchors")
    retention_file: Path | None = Field(
        None, description="YAML policy of how long each kind of record is kept; without it "
                          "nothing is purged (docs/security.md)")
    tls_cert: Path | None = Field(
        None, description="PEM certificate (with its chain) of the node's HTTPS; with tls_key, "
                          "`sitcen serve` speaks HTTPS only (docs/security.md)")
    tls_key: Path | None = Field(None, description="PEM private key of tls_cert")
    trusted_proxies: list[str] = Field(
        ["127.0.0.1", "::1"],
        description="addresses or networks of the reverse proxies in front of the node, as "
                    'JSON (e.g. ["10.20.0.5", "10.20.1.0/24"]): from them `sitcen serve` '
                    "believes X-Forwarded-Proto (the scheme the console's cookie and origin "
                    "check use) and X-Forwarded-For (the address logins are throttled and "
                    "audited by); [] believes no one (docs/security.md)")
    peer_mtls: Literal["off", "optional", "required"] = Field(
        "off", description="mutual TLS between nodes: `required` takes batches and pulls only "
                           "on peer_port, from nodes with a client certificate of peer_tls_ca "
                           "that names them; `optional` opens peer_port but still takes them on "
                           "the main port (while partners move over) (docs/security.md)")
    peer_port: int = Field(0, ge=0, le=65535, description="port of the peer listener (HTTPS with "
                           "tls_cert, client certificates required); 0: none")
    peer_tls_ca: Path | None = Field(
        None, description="PEM CA bundle of the partner nodes: it signs the client certificates "
                          "peer_port accepts, and this node's pushes and pulls verify peers' "
                          "HTTPS certificates against it (else against the system's CAs)")
    peer_tls_cert: Path | None = Field(
        None, description="PEM client certificate this node presents to peers reached over "
                          "HTTPS; its common name or a DNS name is this node's id")
    peer_tls_key: Path | None = Field(None, description="PEM private key of peer_tls_cert")

    oidc_issuer: str = Field(
        "", description="issuer URL of the centre's OpenID Connect directory (its "
                        "/.well-known/openid-configuration is read); empty: no directory "
                        "login (docs/security.md)")
    oidc_name: str = Field("", max_length=60, description="the directory's name on the login "
                                                         "screen's button, e.g. Ministry directory")
    oidc_client_id: str = Field("", description="this node's client id at the directory")
    oidc_client_secret: SecretStr = Field(SecretStr(""),
                                          description="this node's client secret at the directory")
    oidc_scopes: str = Field("openid profile email",
                             description="scopes asked of the directory, space-separated")
    oidc_username_claim: str = Field(
        "preferred_username", description="ID token claim whose value (in lower case) is the "
                                          "sitcen username")
    oidc_role_claim: str = Field(
        "", description="ID token claim listing the person's groups or roles (e.g. groups); "
                        "empty: roles stay as the node's administrators set them")
    oidc_roles: dict[str, Role] = Field(
        {}, description='JSON {"claim value": "sitcen role"}; at each login the first entry '
                        "the role claim holds sets the user's role")
    oidc_create_users: bool = Field(
        False, description="create a user at the first directory login, with the role "
                           "oidc_roles gives; off: only existing, enabled users log in")

    log_format: Literal["text", "json"] = Field(
        "text", description="how `sitcen serve` writes its log: text lines for people, or json, "
                            "one object a line with the request id (docs/monitoring.md)")
    metrics_token: SecretStr = Field(
        SecretStr(""), description="bearer token a Prometheus server sends to GET "
                                   "/api/v1/metrics; empty: no metrics (docs/monitoring.md)")
    metrics_dir: Path | None = Field(
        None, description="directory where the processes of `sitcen serve` pool their metrics "
                          "(emptied at start); unset: a fresh temporary one")

    tak_host: str = Field("127.0.0.1", description="address the TAK (CoT) listeners bind to; "
                          "0.0.0.0 for devices on the network")
    tak_port: int = Field(0, ge=0, le=65535, description="TCP port of the TAK (CoT) listener "
                          "started by `sitcen serve`, TLS when tak_tls_cert is set; 0: off")
    tak_udp_port: int = Field(0, ge=0, le=65535,
                              description="UDP port for CoT datagrams (token in each); 0: off")
    tak_tls_cert: Path | None = Field(None, description="PEM certificate of the TAK listener")
    tak_tls_key: Path | None = Field(None, description="PEM private key of the TAK listener")
    tak_tls_ca: Path | None = Field(
        None, description="PEM CA bundle; when set, TAK clients must present a certificate it "
                          "signed, whose common name is a sitcen username")
    tak_language: str = Field(
        "ru", description="language of the task messages sent to TAK devices (en, ru, kk, ky, "
                          "tg, tk, uz, uz-Cyrl)")
    tak_mapping_file: Path | None = Field(
        None, description="YAML/JSON mapping of CoT types to assets and events (docs/tak.md)")
    mqtt_host: str = Field("", description="MQTT broker of the sensors; empty: no subscriber")
    mqtt_port: int = Field(1883, ge=1, le=65535, description="MQTT broker port")
    mqtt_username: str = Field("", description="user name at the MQTT broker")
    mqtt_password: SecretStr = Field(SecretStr(""), description="password at the MQTT broker")
    mqtt_topic: str = Field("sitcen/detections/#", description="topic filter of detections")
    mqtt_tls_ca: Path | None = Field(
        None, description="PEM CA bundle; when set, the broker is reached over TLS")
    sensor_mapping_file: Path | None = Field(
        None, description="YAML/JSON mapping of detection kinds to event types (docs/sensors.md)")
    sensor_burst_count: int = Field(
        3, ge=1, le=1000, description="detections on one section that make a burst")
    sensor_burst_minutes: float = Field(
        10.0, gt=0, le=24 * 60, description="window a burst's detections fall in")
    mqtt_health_topic: str = Field(
        "sitcen/health/#", description="topic filter of sensor heartbeats, battery, tamper and "
                                       "fault messages (docs/surveillance.md)")
    sensor_heartbeat_s: float = Field(
        300.0, gt=0, le=7 * 86400,
        description="seconds a sensor may stay silent before a silence is recorded, unless its "
                    "registry entry gives its own heartbeat_interval_s")
    sensor_battery_low_pct: float = Field(
        20.0, ge=0, le=100, description="battery level (%) below which a sensor is recorded as "
                                        "low on battery")
    correlation_km: float = Field(
        2.0, ge=0, le=100, description="distance within which detections, segment reports and "
                                       "patrol reports are grouped into one incident")
    camera_credentials_file: Path | None = Field(
        None, description="YAML file of camera logins {cameras: {id: {username, password}}}; "
                          "read to open streams, never stored (docs/cameras-drones.md)")
    camera_timeout_s: float = Field(
        10.0, gt=0, le=120, description="longest wait for a camera's stream and first frame")
    mavlink_udp_port: int = Field(
        0, ge=0, le=65535, description="UDP port for MAVLink telemetry of drones; 0: none")
    mavlink_host: str = Field("0.0.0.0", description="address the MAVLink listener binds")

    @field_validator("node_id")
    @classmethod
    def _node_id_shape(cls, value: str) -> str:
        if not NODE_ID_PATTERN.match(value):
            raise ValueError("node_id must be 2-63 lowercase letters, digits or '-'")
        return value

    @field_validator("node_country")
    @classmethod
    def _country_shape(cls, value: str) -> str:
        if not re.fullmatch(r"[A-Z]{2}", value):
            raise ValueError("node_country must be an ISO 3166-1 alpha-2 code such as KG")
        return value

    @field_validator("chain_levels")
    @classmethod
    def _levels_shape(cls, value: list[str]) -> list[str]:
        if not value or len(set(value)) != len(value) or not all(
                re.fullmatch(r"[a-z][a-z0-9_-]{0,31}", v) for v in value):
            raise ValueError("chain_levels must list 1 or more distinct level names "
                             "(lowercase letters, digits, '_' or '-')")
        return value

    @field_validator("second_factor_roles")
    @classmethod
    def _roles_known(cls, value: list[str]) -> list[str]:
        known = [role.value for role in Role]
        unknown = [v for v in value if v not in known]
        if unknown:
            raise ValueError(f"second_factor_roles: unknown roles {', '.join(unknown)} "
                             f"(roles are {', '.join(known)})")
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _proxy_addresses(cls, value: list[str]) -> list[str]:
        # uvicorn would take a mistyped address as a name no connection ever has, and
        # trust nobody without saying so; "*" would let any client choose its address.
        for entry in value:
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError:
                raise ValueError(f"trusted_proxies: {entry!r} is not an IP address or "
                                 "network") from None
        return value

    @field_validator("tak_language")
    @classmethod
    def _tak_language(cls, value: str) -> str:
        # Any language the node has a catalogue for (sitcen.i18n), uz-Cyrl included.
        if value not in SUPPORTED:
            raise ValueError(f"tak_language must be one of {', '.join(SUPPORTED)}")
        return value

    @field_validator("serious_types")
    @classmethod
    def _serious_known(cls, value: list[str]) -> list[str]:
        unknown = [v for v in value if v not in EVENT_TYPES]
        if unknown:
            raise ValueError(f"serious_types: unknown event types {', '.join(unknown)}")
        return value

    @model_validator(mode="after")
    def _tls_pair(self) -> Settings:
        if (self.tls_cert is None) != (self.tls_key is None):
            raise ValueError("tls_cert and tls_key go together: give both or neither")
        for name, path in (("tls_cert", self.tls_cert), ("tls_key", self.tls_key)):
            if path is not None and not path.is_file():
                raise ValueError(f"{name}: no file {path}")
        return self

    @model_validator(mode="after")
    def _peer_tls(self) -> Settings:
        if (self.peer_tls_cert is None) != (self.peer_tls_key is None):
            raise ValueError("SITCEN_PEER_TLS_CERT and SITCEN_PEER_TLS_KEY go together: give "
                             "both or neither")
        for name in ("peer_tls_ca", "peer_tls_cert", "peer_tls_key"):
            path = getattr(self, name)
            if path is not None and not path.is_file():
                raise ValueError(f"SITCEN_{name.upper()}: no file {path}")
        if self.peer_mtls == "off":
            return self
        needs = [variable for variable, missing in (
            ("SITCEN_PEER_PORT", not self.peer_port),
            ("SITCEN_PEER_TLS_CA", self.peer_tls_ca is None),
            ("SITCEN_TLS_CERT and SITCEN_TLS_KEY", self.tls_cert is None)) if missing]
        if needs:
            raise ValueError(f"SITCEN_PEER_MTLS={self.peer_mtls} needs {', '.join(needs)}")
        return self

    @model_validator(mode="after")
    def _directory_complete(self) -> Settings:
        if not self.oidc_issuer:
            return self
        issuer = urlsplit(self.oidc_issuer)
        loopback = issuer.hostname in ("127.0.0.1", "::1", "localhost")
        if issuer.scheme != "https" and not (issuer.scheme == "http" and loopback):
            raise ValueError("oidc_issuer must be an https:// URL (http only on loopback)")
        if not self.oidc_client_id or not self.oidc_client_secret.get_secret_value():
            raise ValueError("oidc_issuer needs oidc_client_id and oidc_client_secret")
        if self.oidc_roles and not self.oidc_role_claim:
            raise ValueError("oidc_roles needs oidc_role_claim: the claim the values are in")
        if self.oidc_create_users and not self.oidc_roles:
            raise ValueError("oidc_create_users needs oidc_roles: a created user must get a "
                             "role from the directory")
        if "openid" not in self.oidc_scopes.split():
            raise ValueError("oidc_scopes must include openid")
        return self

    @model_validator(mode="after")
    def _level_in_chain(self) -> Settings:
        if self.chain_level and self.chain_level not in self.chain_levels:
            raise ValueError(f"chain_level {self.chain_level!r} is not one of chain_levels "
                             f"{self.chain_levels}")
        return self

    @model_validator(mode="after")
    def _refuse_placeholder_secrets(self) -> Settings:
        secret = self.secret_key.get_secret_value()
        if self.environment == "production" and (
            secret.lower() in PLACEHOLDER_SECRETS or len(secret) < 16
        ):
            raise ValueError(
                "SITCEN_SECRET_KEY is a placeholder or shorter than 16 characters; "
                "set a real secret (placeholders are allowed only with SITCEN_ENVIRONMENT=demo)"
            )
        return self

    @model_validator(mode="after")
    def _metrics_token_strong(self) -> Settings:
        token = self.metrics_token.get_secret_value()
        if token and self.environment == "production" and (
                token.lower() in PLACEHOLDER_SECRETS or len(token) < 16):
            raise ValueError("SITCEN_METRICS_TOKEN is a placeholder or shorter than 16 "
                             "characters; set a real token, or none to turn metrics off")
        return self

    @property
    def identity_dir(self) -> Path:
        """Where the node keeps its key pair (made by ``sitcen init``)."""
        return self.data_dir / "identity"

    @property
    def resolved_database_url(self) -> str:
        """The database URL, defaulting to a SQLite file in the data directory."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'sitcen.db').resolve()}"


def settings_environment(settings: Settings) -> dict[str, str]:
    """The ``SITCEN_*`` variables that describe ``settings`` to another process.

    What :func:`get_settings` reads back gives the same settings: text as it is,
    lists and mappings as JSON (the form the environment source parses), and
    secrets in clear (a worker process must be able to sign and log in).
    """
    out: dict[str, str] = {}
    for name, value in settings.model_dump(mode="json").items():
        if value is None:
            continue
        raw = getattr(settings, name)
        if isinstance(raw, SecretStr):
            value = raw.get_secret_value()
        out[f"SITCEN_{name.upper()}"] = (value if isinstance(value, str)
                                         else json.dumps(value) if isinstance(value, list | dict)
                                         else str(value))
    return out


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once from the environment."""
    try:
        return Settings()
    except ValueError as exc:  # pydantic's ValidationError is a ValueError
        raise SettingsError(str(exc)) from exc
