"""Tests of the typed settings object."""
import os
import re
from pathlib import Path

import pytest

from storage.settings import ENV_VARS, Settings, SettingsError


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


@pytest.mark.parametrize("word", ["1", "true", "YES", "On", " on ", "TRUE"])
def test_read_only_accepts_every_true_word_in_any_case(word):
    """Check that AGEREC_READ_ONLY accepts 1/true/yes/on in any case (ON, On) as on."""
    assert Settings.from_env({"AGEREC_READ_ONLY": word}).read_only is True


@pytest.mark.parametrize("word", ["0", "false", "NO", "Off", ""])
def test_read_only_accepts_every_false_word_in_any_case(word):
    """Check that AGEREC_READ_ONLY accepts 0/false/no/off in any case, and empty, as off."""
    assert Settings.from_env({"AGEREC_READ_ONLY": word}).read_only is False


@pytest.mark.parametrize("name", ["AGEREC_READ_ONLY", "AGEREC_DASHBOARD_DISPATCH"])
def test_a_boolean_that_is_no_known_word_is_refused_naming_the_variable(name):
    """Check that a boolean setting such as AGEREC_READ_ONLY=enabled is refused, with the
    variable, its value and the allowed words in the message, never read as off."""
    with pytest.raises(SettingsError, match=f"{name}='enabled'.*1/true/yes/on"):
        Settings.from_env({name: "enabled"})


@pytest.mark.parametrize("name,value", [
    ("AGEREC_HEARTBEAT_TIMEOUT", "abc"), ("AGEREC_HEARTBEAT_TIMEOUT", "0"),
    ("AGEREC_HEARTBEAT_TIMEOUT", "-5"), ("AGEREC_HEARTBEAT_TIMEOUT", "nan"),
    ("AGEREC_HEARTBEAT_SECONDS", "0"), ("AGEREC_HEARTBEAT_SECONDS", "fast"),
    ("AGEREC_MAX_ATTEMPTS", "0"), ("AGEREC_MAX_ATTEMPTS", "2.5"), ("AGEREC_MAX_ATTEMPTS", "x"),
    ("AGEREC_RUNNER_IDLE_EXIT", "0"), ("AGEREC_RUNNER_IDLE_EXIT", "soon"),
    ("AGEREC_MAX_IMAGE_PIXELS", "0"), ("AGEREC_MAX_IMAGE_PIXELS", "40M"),
    ("AGEREC_TRY_IDLE_EXIT", "0"), ("AGEREC_TRY_IDLE_EXIT", "later"),
])
def test_a_number_outside_its_bounds_is_refused_naming_the_variable(name, value):
    """Check that every numeric setting refuses text and values outside its bounds (a
    heartbeat timeout of 0 would fail every running job), naming variable and value."""
    with pytest.raises(SettingsError, match=f"{name}={value!r}"):
        Settings.from_env({name: value})


def test_a_heartbeat_timeout_not_above_the_heartbeat_is_refused():
    """Check that AGEREC_HEARTBEAT_TIMEOUT must exceed AGEREC_HEARTBEAT_SECONDS, so a
    running job is never reaped between two of its own heartbeats."""
    with pytest.raises(SettingsError, match="AGEREC_HEARTBEAT_TIMEOUT.*> AGEREC_HEARTBEAT_SEC"):
        Settings.from_env({"AGEREC_HEARTBEAT_SECONDS": "10", "AGEREC_HEARTBEAT_TIMEOUT": "10"})


def test_max_attempts_and_max_image_pixels_are_read():
    """Check that AGEREC_MAX_ATTEMPTS and AGEREC_MAX_IMAGE_PIXELS are parsed as whole
    numbers, with defaults 3 and 40,000,000."""
    assert (Settings.from_env({}).max_attempts, Settings.from_env({}).max_image_pixels) == \
        (3, 40_000_000)
    settings = Settings.from_env({"AGEREC_MAX_ATTEMPTS": "5", "AGEREC_MAX_IMAGE_PIXELS": "1000"})
    assert (settings.max_attempts, settings.max_image_pixels) == (5, 1000)


def test_data_roots_default_to_the_shared_data_folder(tmp_path):
    """Check that without AGEREC_DATA_ROOTS the only data root is AGEREC_SHARED_DATA."""
    settings = Settings.from_env({"AGEREC_SHARED_DATA": str(tmp_path)})
    assert settings.data_roots == (tmp_path.resolve(),)


def test_data_roots_are_a_path_list(tmp_path):
    """Check that AGEREC_DATA_ROOTS is an os.pathsep-separated list of absolute folders."""
    a, b = tmp_path / "a", tmp_path / "b"
    settings = Settings.from_env({"AGEREC_DATA_ROOTS": f"{a}{os.pathsep}{b}{os.pathsep}"})
    assert settings.data_roots == (a, b)


def test_a_relative_data_root_is_refused():
    """Check that a relative entry in AGEREC_DATA_ROOTS (which would depend on the current
    directory) is refused, naming the variable."""
    with pytest.raises(SettingsError, match="AGEREC_DATA_ROOTS"):
        Settings.from_env({"AGEREC_DATA_ROOTS": f"/data{os.pathsep}photos"})


def test_every_documented_variable_is_a_settings_variable():
    """Check that ENV_VARS lists the two new settings and every variable the README's
    settings table documents, and no other."""
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    table = set(re.findall(r"^\| `(AGEREC_[A-Z_]+)` \|", readme, flags=re.M))
    assert table == set(ENV_VARS)
    assert {"AGEREC_DATA_ROOTS", "AGEREC_MAX_IMAGE_PIXELS"} <= set(ENV_VARS)


def test_try_idle_exit_is_read_with_a_half_hour_default():
    """Check that AGEREC_TRY_IDLE_EXIT is read as seconds, 1800 when unset."""
    assert Settings.from_env({}).try_idle_exit == 1800.0
    assert Settings.from_env({"AGEREC_TRY_IDLE_EXIT": "90"}).try_idle_exit == 90.0


@pytest.mark.parametrize("name,value", [("AGEREC_DATABASE_URL", "agerec.db"),
                                        ("AGEREC_DATABASE_URL", "postgresql://u@h:port/x"),
                                        ("AGEREC_BROKER_URL", "localhost:6379")])
def test_a_url_setting_that_is_no_url_is_refused(name, value):
    """Check that a database or broker URL that is not a URL (or, for the database, not one
    SQLAlchemy can read) is refused at start, naming the variable."""
    with pytest.raises(SettingsError, match=f"{name}=.*a URL such as"):
        Settings.from_env({name: value})


def test_a_refused_url_does_not_show_its_password():
    """Check that the error for a malformed URL masks the password it holds."""
    with pytest.raises(SettingsError) as caught:
        Settings.from_env({"AGEREC_BROKER_URL": "redis//:s3cret@host:6379/0"})
    assert "s3cret" not in str(caught.value) and "***" in str(caught.value)
