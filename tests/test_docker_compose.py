"""docker-compose.yml cannot run here, so its wiring is checked against the real
command line and settings."""
from pathlib import Path

import pytest
import yaml

from storage.settings import ENV_VARS
from worker.cli import build_parser

COMPOSE = yaml.safe_load((Path(__file__).resolve().parents[1] / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]


@pytest.mark.parametrize("name", ["worker", "dashboard"])
def test_service_command_is_a_real_agerec_subcommand(name):
    """Check that each app service's command parses with the agerec command line."""
    command = SERVICES[name]["command"]
    assert command[0] == "agerec"
    args = build_parser().parse_args(command[1:])
    assert args.command == name


@pytest.mark.parametrize("name", ["worker", "dashboard"])
def test_service_environment_uses_only_known_settings(name):
    """Check that every variable a service sets is one the settings object reads."""
    env = SERVICES[name]["environment"]
    assert set(env) <= set(ENV_VARS)
    assert env["AGEREC_BROKER_URL"].startswith("redis://redis:")


def test_one_volume_holds_agerec_home_and_the_sqlite_file():
    """Check that worker and dashboard mount the same volume at AGEREC_HOME, with the DB inside."""
    for name in ("worker", "dashboard"):
        env = SERVICES[name]["environment"]
        mounts = {m.split(":")[1]: m.split(":")[0] for m in SERVICES[name]["volumes"]}
        assert mounts[env["AGEREC_HOME"]] == "agerec-home"
        assert env["AGEREC_DATABASE_URL"] == f"sqlite:///{env['AGEREC_HOME']}/agerec.db"
    assert "agerec-home" in COMPOSE["volumes"]


def test_redis_is_not_published_on_the_host():
    """Check that redis exposes its port to the compose network only."""
    assert "ports" not in SERVICES["redis"]


def test_every_service_has_a_health_check_and_waits_for_healthy_redis():
    """Check the health checks and the depends_on conditions."""
    assert all("healthcheck" in s for s in SERVICES.values())
    for name in ("worker", "dashboard"):
        assert SERVICES[name]["depends_on"]["redis"]["condition"] == "service_healthy"


def test_worker_reserves_a_gpu_on_a_tensorflow_cuda_base():
    """Check the GPU reservation and that the worker image builds on TensorFlow's GPU image."""
    devices = SERVICES["worker"]["deploy"]["resources"]["reservations"]["devices"]
    assert devices[0]["capabilities"] == ["gpu"]
    dockerfile = Path(__file__).resolve().parents[1] / SERVICES["worker"]["build"]["dockerfile"]
    base = next(line for line in dockerfile.read_text().splitlines() if line.startswith("FROM "))
    assert base.startswith("FROM tensorflow/tensorflow:") and base.endswith("-gpu")


def test_the_dashboard_listens_on_every_address_inside_its_container():
    """Check that the dashboard service runs Streamlit on 0.0.0.0 (localhost inside a
    container is out of reach of the published port) on the published port."""
    args = build_parser().parse_args(SERVICES["dashboard"]["command"][1:])
    assert args.host == "0.0.0.0"
    assert any(port.endswith(f":{args.port}") for port in SERVICES["dashboard"]["ports"])


def test_the_dashboard_is_read_only_and_published_on_loopback_only():
    """Check that the compose dashboard is read-only as Settings reads it, and its port is
    published on the host's 127.0.0.1 only (a reverse proxy with a login publishes it)."""
    from storage.settings import Settings

    env = {k: str(v) for k, v in SERVICES["dashboard"]["environment"].items()}
    assert Settings.from_env(env).read_only is True
    assert all(port.startswith("127.0.0.1:") for port in SERVICES["dashboard"]["ports"])
    assert not Settings.from_env({k: str(v) for k, v in
                                  SERVICES["worker"]["environment"].items()}).read_only
