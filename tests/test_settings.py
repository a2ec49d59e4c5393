"""Settings: one typed object, SITCEN_ prefix, placeholder secrets refused outside demo/test."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from sitcen.settings import Settings, settings_environment


def test_defaults_put_sqlite_in_the_data_dir(tmp_path: Path) -> None:
    settings = Settings(environment="demo", data_dir=tmp_path)
    assert settings.resolved_database_url == f"sqlite:///{tmp_path.resolve() / 'sitcen.db'}"


def test_environment_variables_with_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SITCEN_ENVIRONMENT", "production")
    monkeypatch.setenv("SITCEN_SECRET_KEY", "a-real-secret-of-good-length")
    monkeypatch.setenv("SITCEN_NODE_ID", "uz-termez-post")
    monkeypatch.setenv("SITCEN_NODE_COUNTRY", "UZ")
    monkeypatch.setenv("SITCEN_DATABASE_URL", "postgresql://u@db/sitcen")
    settings = Settings()
    assert settings.node_id == "uz-termez-post"
    assert settings.node_country == "UZ"
    assert settings.resolved_database_url == "postgresql://u@db/sitcen"


@pytest.mark.parametrize("secret", ["changeme", "secret", "short", ""])
def test_placeholder_secret_refused_in_production(secret: str) -> None:
    with pytest.raises(ValidationError, match="SITCEN_SECRET_KEY"):
        Settings(environment="production", secret_key=secret)
    assert Settings(environment="demo", secret_key=secret).environment == "demo"


@pytest.mark.parametrize(
    ("field", "value"),
    [("node_id", "Bad Node"), ("node_country", "kg"), ("section_max_km", -1),
     ("clock_skew_s", -5), ("unknown_setting", 1)],
)
def test_bad_values_are_refused(field: str, value: object) -> None:
    with pytest.raises(ValidationError, match=field):
        Settings(environment="test", **{field: value})  # type: ignore[arg-type]


def test_the_environment_given_to_worker_processes_reads_back_the_same(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # `sitcen serve --workers N` hands its settings to the workers this way: lists,
    # mappings and secrets must survive (a list once went as Python's repr and
    # every worker died parsing it).
    settings = Settings(data_dir=tmp_path, environment="test",
                        chain_levels=["regional", "national"], chain_level="regional",
                        partner_users={"uz-liaison": "uz-ncc"}, smtp_password="s3cret-pass",
                        serious_types=["armed_incident", "drug_smuggling"])
    env = settings_environment(settings)
    for name in list(env):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    again = Settings()
    assert again.model_dump() == settings.model_dump()
    assert again.smtp_password.get_secret_value() == "s3cret-pass"
    assert again.secret_key.get_secret_value() == settings.secret_key.get_secret_value()


def test_trusted_proxies_are_addresses_or_networks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SITCEN_TRUSTED_PROXIES", '["10.20.0.5", "10.20.1.0/24", "fd00::1"]')
    assert Settings(environment="test").trusted_proxies == ["10.20.0.5", "10.20.1.0/24",
                                                           "fd00::1"]
    assert Settings(environment="test", trusted_proxies=[]).trusted_proxies == []
    # A typo would otherwise trust no one silently; "*" would let a client pick its address.
    for wrong in ("10.20.0.500", "*", "proxy.example"):
        with pytest.raises(ValidationError, match="is not an IP address or network"):
            Settings(environment="test", trusted_proxies=[wrong])
