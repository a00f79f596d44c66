"""Settings from the environment."""

from __future__ import annotations

from pathlib import Path

import pytest

from callboard.runtime.settings import Settings, SettingsError


@pytest.mark.parametrize(
    ("env", "url", "public"),
    [
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
    if "CALLBOARD_DATA_DIR" in env:
        assert settings.data_dir == Path(env["CALLBOARD_DATA_DIR"])


def test_the_default_data_folder_does_not_move_with_the_shell(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    monkeypatch.chdir(tmp_path)
    here = Settings.from_env({})
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    there = Settings.from_env({})
    assert here.database_url == there.database_url
    assert here.data_dir == tmp_path / "xdg" / "callboard"
    assert here.database_url == f"sqlite:///{tmp_path / 'xdg' / 'callboard' / 'callboard.db'}"


def test_a_relative_data_folder_is_made_absolute(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    settings = Settings.from_env({"CALLBOARD_DATA_DIR": "mine"})
    assert settings.data_dir == tmp_path / "mine"


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


@pytest.mark.parametrize(
    ("env", "threads"),
    [
        ({"CALLBOARD_DATA_DIR": "/srv/cb"}, 4),
        ({"CALLBOARD_DATABASE_URL": "postgresql://u@h/db"}, 40),
        ({"CALLBOARD_DATABASE_URL": "postgresql://u@h/db", "CALLBOARD_REQUEST_THREADS": "8"}, 8),
    ],
)
def test_request_threads_by_database(env: dict[str, str], threads: int) -> None:
    assert Settings.from_env(env).request_thread_count() == threads


@pytest.mark.parametrize("value", ["0", "-1", "many", "1.5", "100000"])
def test_bad_request_threads_are_refused_by_name(value: str) -> None:
    with pytest.raises(SettingsError, match="CALLBOARD_REQUEST_THREADS"):
        Settings.from_env({"CALLBOARD_REQUEST_THREADS": value})
