"""The container files (Dockerfile, compose.yaml, .env.example) say what docs/deployment.md says,
and the image's start command serves when installed from our wheels on a fresh Python.

These run in `make test`, without a container engine: the files parse and name what they must
(stages, non-root user, health checks, entrypoint, the services and their variables), and the
image's steps are replayed outside a container (the build stage's COPY set, its wheels, a clean
virtualenv, the exact commands and environment compose gives serve, worker and zoomsim, and the
health check commands themselves). The image itself is built and run, and compose.yaml started,
by deploy/image-smoke (`make image`, and .ci/run before the tests), not here."""

from __future__ import annotations

import os
import re
import signal
import subprocess
from pathlib import Path, PurePosixPath

import pytest
import yaml

from obfbroker.settings import ConfigurationError, Settings, generate_key
from tests.deploy.packaging import (
    ROOT,
    compose_variables,
    copy_tree,
    dockerfile_stages,
    exec_form,
    healthcheck_command,
    interpolate,
    read_env_file,
    stage_env,
    venv_with_wheels,
)
from tests.support.http import http_get
from tests.support.processes import wait_until_ready
from tests.support.servers import free_port

# Variables compose.yaml reads that are not obfbroker settings.
COMPOSE_ONLY = {"POSTGRES_PASSWORD", "APP_IMAGE", "BIND_ADDRESS", "SERVE_1_PORT", "SERVE_2_PORT",
                "ZOOMSIM_PORT"}


def compose() -> dict:
    return yaml.safe_load((ROOT / "compose.yaml").read_text())


def services_running(command: str) -> dict[str, dict]:
    return {name: s for name, s in compose()["services"].items() if s.get("command", [None])[0] == command}


def setting_name(variable: str) -> str | None:
    return variable.removeprefix("OBFBROKER_").lower() if variable.startswith("OBFBROKER_") else None


def test_compose_runs_postgres_two_serve_two_workers_and_a_simulator_profile():
    services = compose()["services"]
    serve, workers = services_running("serve"), services_running("worker")
    assert sorted(serve) == ["serve-1", "serve-2"] and sorted(workers) == ["worker-1", "worker-2"]
    image_cmd = exec_form(dockerfile_stages()[-1].last("CMD"))
    assert all(s["command"] == image_cmd for s in serve.values())  # what the test below runs
    for name, service in services.items():  # every service is long-running
        test = service.get("healthcheck", {}).get("test")
        assert test and test[0] in {"CMD", "CMD-SHELL"}, f"{name} has no health check"
        # podman-compose (1.0.3, Debian's) hands a CMD check to `sh -c` with its words joined:
        # a word holding a space or a quote comes out split or mangled.
        assert not [w for w in test[1:] if re.search(r"[\s'\"\\$]", w)], (name, test)
    # The obfbroker services ask the port their process wrote down (no port in the check), and
    # serve asks whether it is ready (/readyz: the database answers too).
    for name, service in services.items():
        if name != "postgres":
            test = service["healthcheck"]["test"]
            assert test[:3] == ["CMD", "obfbroker", "healthcheck"], (name, test)
            assert ("--ready" in test) == (name in serve), (name, test)
    for name, service in {**serve, **workers}.items():
        assert service["depends_on"]["postgres"]["condition"] == "service_healthy", name
        # Every process migrates at start: PostgreSQL's advisory lock makes that safe
        # (tests/deploy/test_migrations_start_together.py).
        assert "--no-migrate" not in service["command"]
        assert service["environment"]["OBFBROKER_DATABASE_URL"].startswith("postgresql://")
        assert "profiles" not in service
    assert services["zoomsim"]["profiles"] == ["sim"]
    assert services["zoomsim"]["command"][:3] == ["zoomsim", "--host", "0.0.0.0"]
    host_ports = [s["ports"][0].rsplit(":", 2)[1] for s in serve.values()]
    assert len(set(host_ports)) == 2, host_ports


def test_compose_variables_are_in_env_example_and_are_settings_or_compose_only():
    text = (ROOT / "compose.yaml").read_text()
    used = compose_variables(text)
    example, sim_block = read_env_file(), read_env_file(commented=True)
    assert used - set(example) == set(), "compose reads variables .env.example does not list"
    assert set(example) - used == set(), ".env.example lists variables compose does not read"
    set_by_compose = {k for s in compose()["services"].values() for k in s.get("environment", {})}
    for variable in used | set(sim_block) | set_by_compose:
        name = setting_name(variable)
        if name is None:
            assert variable in COMPOSE_ONLY | {"POSTGRES_USER", "POSTGRES_DB"}, variable
        else:
            assert name in Settings.model_fields, f"{variable} is no setting"
    # The example as shipped is refused in production (no keys); filled in, it is accepted.
    shipped = {setting_name(k): v for k, v in example.items() if setting_name(k)}
    with pytest.raises(ConfigurationError, match="OBFBROKER_ENCRYPTION_KEYS must be set"):
        Settings(**shipped).check_production_safety()
    Settings(**{**shipped, "encryption_keys": generate_key()}).check_production_safety()
    sim = {**shipped, **{setting_name(k): v for k, v in sim_block.items()}}
    assert Settings(**sim).meeting_adapter == "zoomsim"


def test_dockerfile_is_multi_stage_non_root_with_a_health_check_and_the_cli_as_entrypoint():
    stages = dockerfile_stages()
    assert len(stages) >= 2 and stages[0].name == "build"
    runtime = stages[-1]
    assert runtime.image == "python:3.11-slim"
    assert "pip wheel" in stages[0].last("RUN") and "/wheels" in " ".join(runtime.all("RUN"))
    user = runtime.last("USER")
    assert user and user.split(":")[0] not in {"root", "0"}
    assert runtime.last("EXPOSE") == "8000"
    # One check for every command the image runs, on whatever port: `obfbroker healthcheck` asks
    # what the process wrote to OBFBROKER_STATUS_FILE (tests/deploy/test_healthcheck_*.py).
    assert healthcheck_command(runtime.last("HEALTHCHECK")) == ["obfbroker", "healthcheck"]
    # Outside the home (/var/lib/obfbroker), where a volume may be mounted and shared.
    status_file = PurePosixPath(stage_env(runtime)["OBFBROKER_STATUS_FILE"])
    assert status_file.is_absolute() and not status_file.is_relative_to(runtime.last("WORKDIR"))
    assert exec_form(runtime.last("ENTRYPOINT")) == ["obfbroker"]
    assert exec_form(runtime.last("CMD")) == ["serve", "--host", "0.0.0.0"]
    baked = [rest for s in stages for rest in s.all("ENV") + s.all("ARG")]
    assert not [b for b in baked if re.search(r"KEY|SECRET|PASSWORD|TOKEN|DATABASE_URL", b)], baked
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".git", ".env", ".venv", "var"} <= set(ignored)


def build_context(target: Path) -> Path:
    """The files the build stage's COPY instructions take, laid out as under its WORKDIR."""
    for rest in dockerfile_stages()[0].all("COPY"):
        *sources, dest = rest.split()
        for source in sources:
            path, into = ROOT / source, target / dest
            if path.is_dir():
                copy_tree(path, into)
            else:
                into.mkdir(parents=True, exist_ok=True)
                (into / path.name).write_bytes(path.read_bytes())
    return target


def build_stage_projects(tmp_path: Path) -> list[Path]:
    """The projects the build stage's ``pip wheel`` makes wheels of, in a copy of its COPY set:
    the runtime stage installs those wheels."""
    context = build_context(tmp_path / "context")
    command = dockerfile_stages()[0].last("RUN").split()
    return [context / arg for arg in command if arg == "." or arg.startswith("./")]


def serve_environment(tmp_path: Path) -> dict[str, str]:
    """What compose gives serve-1, with .env.example's values, a generated key and SQLite."""
    values = {**read_env_file(), "POSTGRES_PASSWORD": "unused", "OBFBROKER_ENCRYPTION_KEYS": generate_key()}
    env = {k: interpolate(str(v), values) for k, v in compose()["services"]["serve-1"]["environment"].items()}
    env["OBFBROKER_DATABASE_URL"] = f"sqlite:///{tmp_path / 'obfbroker.db'}"
    return env


def run_check(command: list[str], venv_bin: Path, env: dict[str, str]) -> int:
    """A health check (Docker's CMD form) run as the engine runs it: in the environment of the
    process it checks (OBFBROKER_STATUS_FILE included), with the venv's command."""
    assert command[0] == "CMD", command
    return subprocess.run([str(venv_bin / command[1]), *command[2:]], env=env, capture_output=True,
                          timeout=30).returncode


def test_the_images_start_command_serves_from_our_wheels_in_a_fresh_venv(tmp_path):
    """Runs once, on SQLite. Not checked here but by deploy/image-smoke, which needs an engine:
    the image build itself (its base, the non-root user, the bind mount of the wheels), compose's
    own interpolation and start order, and PostgreSQL in a container."""
    python = venv_with_wheels(build_stage_projects(tmp_path), tmp_path)
    venv_bin = python.parent
    runtime = dockerfile_stages()[-1]
    entrypoint, cmd = exec_form(runtime.last("ENTRYPOINT")), exec_form(runtime.last("CMD"))
    port = free_port()
    home = tmp_path / "home"
    home.mkdir()
    # The image's variables, each process with a status file of its own (one per container).
    image_env = {**stage_env(runtime), "PATH": f"{venv_bin}{os.pathsep}{os.environ['PATH']}",
                 "HOME": str(home)}
    env = {**image_env, **serve_environment(tmp_path), "OBFBROKER_STATUS_FILE": str(tmp_path / "serve.json")}
    image_check = ["CMD", *healthcheck_command(runtime.last("HEALTHCHECK"))]
    services = compose()["services"]

    def start(command: list[str], process_env: dict[str, str]) -> subprocess.Popen:
        return subprocess.Popen([str(venv_bin / entrypoint[0]), *entrypoint[1:], *command], cwd=home,
                                env=process_env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def checks_pass(service: str, process_env: dict[str, str]) -> None:
        """The image's check and the service's compose check, in that process's environment."""
        for name, check in {"image": image_check, service: services[service]["healthcheck"]["test"]}.items():
            assert run_check(check, venv_bin, process_env) == 0, name

    # The image publishes 8000; here the port comes from this test worker's block, and the
    # checks find it without being told.
    process = start([*cmd, "--port", str(port)], env)
    try:
        wait_until_ready(f"http://127.0.0.1:{port}/healthz", process)
        assert http_get(f"http://127.0.0.1:{port}/readyz").status_code == 200
        checks_pass("serve-1", env)
        # The worker's check asks its metrics port (8001 in the container, a free one here).
        worker_port = free_port()
        worker_env = {**env, "OBFBROKER_WORKER_METRICS_PORT": str(worker_port),
                      "OBFBROKER_STATUS_FILE": str(tmp_path / "worker.json")}
        worker = start(services["worker-1"]["command"], worker_env)
        try:
            wait_until_ready(f"http://127.0.0.1:{worker_port}/healthz", worker)
            checks_pass("worker-1", worker_env)
        finally:
            worker.send_signal(signal.SIGTERM)
            worker.wait(timeout=30)
        sim_port = free_port()
        sim_env = {**image_env, "OBFBROKER_STATUS_FILE": str(tmp_path / "zoomsim.json")}
        sim = start([*services["zoomsim"]["command"], "--port", str(sim_port)], sim_env)
        try:
            wait_until_ready(f"http://127.0.0.1:{sim_port}/_sim/healthz", sim)
            checks_pass("zoomsim", sim_env)
        finally:
            sim.send_signal(signal.SIGTERM)
            sim.wait(timeout=20)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=20)
    # uvicorn ends by re-raising the SIGTERM it handled, after its clean shutdown.
    assert process.returncode in {0, -signal.SIGTERM}, process.stderr.read().decode()[-2000:]
    assert run_check(image_check, venv_bin, env) == 1  # and it notices when serve is gone

