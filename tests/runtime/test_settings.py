"""Settings from the environment."""

from __future__ import annotations

from pathlib import Path

import pytest

from callboard.runtime.settings import Settings, SettingsError


@pytest.mark.parametrize(
    ("env", "url", "public"),
    [
        ({}, "sqlite:///data/callboard.db", None),
        ({"CALLBOARD_DATA_DIR": "/srv/cb"}, "sqlite:////srv/cb/callboard.db", None),
        ({"CALLBOARD_DATABASE_URL": "postgresql://u@h/db"}, "postgresql://u@h/db", None),
        ({"CALLBOARD_PUBLIC_URL": "https://cb.example.com/"}, None, "https://cb.example.com"),
    ],
)
def test_from_env(env: dict[str, str], url: str | None, public: str | None) -> None:
    settings = Settings.from_env(env)
    if url is not None:
        assert settings.database_url == url
    assert settings.public_url == public
    assert settings.data_dir == Path(env.get("CALLBOARD_DATA_DIR", "data"))


@pytest.mark.parametrize(
    "env",
    [
        {"CALLBOARD_DATABASE_URL": "mysql://u@h/db"},
        {"CALLBOARD_PUBLIC_URL": "cb.example.com"},
    ],
)
def test_bad_values_name_the_variable(env: dict[str, str]) -> None:
    with pytest.raises(SettingsError) as caught:
        Settings.from_env(env)
    assert next(iter(env)) in str(caught.value)
