"""Tests of the typed settings object."""
from pathlib import Path

from storage.settings import Settings


def test_defaults_put_everything_under_var(tmp_path, monkeypatch):
    """Check that with no variables set, home is ./var and SQLite lives inside it."""
    monkeypatch.chdir(tmp_path)
    settings = Settings.from_env({})
    assert settings.home == tmp_path / "var"
    assert settings.database_url == f"sqlite:///{tmp_path / 'var' / 'agerec.db'}"
    assert settings.broker_url is None and settings.read_only is False


def test_environment_overrides_each_setting(tmp_path):
    """Check that every AGEREC_* variable is read."""
    settings = Settings.from_env({
        "AGEREC_HOME": str(tmp_path), "AGEREC_DATABASE_URL": "postgresql://x/y",
        "AGEREC_BROKER_URL": "redis://localhost:6379/0", "AGEREC_READ_ONLY": "1",
        "AGEREC_HEARTBEAT_SECONDS": "2", "AGEREC_HEARTBEAT_TIMEOUT": "9"})
    assert (settings.home, settings.database_url, settings.broker_url) == (
        tmp_path, "postgresql://x/y", "redis://localhost:6379/0")
    assert settings.read_only and settings.heartbeat_seconds == 2.0
    assert settings.heartbeat_timeout == 9.0


def test_shared_data_defaults_to_beside_the_repository_whatever_the_cwd(tmp_path, monkeypatch):
    """Check that without AGEREC_SHARED_DATA the data folder is ../shared/data next to the
    repository, the same from any current directory."""
    repo = Path(__file__).resolve().parents[2]
    monkeypatch.chdir(tmp_path)
    assert Settings.from_env({}).shared_data == repo.parent / "shared" / "data"


def test_dashboard_dispatch_and_runner_idle_exit_are_settings():
    """Check that AGEREC_DASHBOARD_DISPATCH and AGEREC_RUNNER_IDLE_EXIT are read by
    Settings, with defaults on and 600 s."""
    assert (Settings.from_env({}).dashboard_dispatch, Settings.from_env({}).runner_idle_exit) \
        == (True, 600.0)
    settings = Settings.from_env({"AGEREC_DASHBOARD_DISPATCH": "0",
                                  "AGEREC_RUNNER_IDLE_EXIT": "5"})
    assert (settings.dashboard_dispatch, settings.runner_idle_exit) == (False, 5.0)
