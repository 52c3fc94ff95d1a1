"""The deployment files: checked statically (no Docker engine or systemd runs in tests)."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import AliasChoices

from bot.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "deploy" / "Dockerfile"
COMPOSE = ROOT / "deploy" / "compose.yaml"
UNIT = ROOT / "deploy" / "metatutor.service"
ENV_EXAMPLE = ROOT / ".env.example"


def _instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    joined = re.sub(r"\\\n", " ", text)
    result = []
    for line in joined.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        keyword, _, rest = line.partition(" ")
        result.append((keyword.upper(), rest.strip()))
    return result


def _final_stage(instructions: list[tuple[str, str]]) -> list[tuple[str, str]]:
    last_from = max(i for i, (key, _) in enumerate(instructions) if key == "FROM")
    return instructions[last_from:]


def _pinned_torch() -> str:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    pins = [d for d in project["project"]["dependencies"] if d.startswith("torch")]
    assert len(pins) == 1
    return pins[0].split("==")[1]


def test_dockerfile_runs_as_non_root_with_data_volume_and_health_check() -> None:
    final = _final_stage(_instructions(DOCKERFILE.read_text()))
    assert final[0] == ("FROM", "python:3.11-slim")
    users = [arg for key, arg in final if key == "USER"]
    assert users, "the image must drop root"
    uid = users[-1].split(":")[0]
    assert uid not in ("root", "0")
    assert ("VOLUME", '["/data"]') in final
    envs = " ".join(arg for key, arg in final if key == "ENV")
    assert "METATUTOR_DATABASE=/data/metatutor.sqlite3" in envs
    health = [arg for key, arg in final if key == "HEALTHCHECK"]
    assert len(health) == 1 and 'CMD ["metatutor", "health"]' in health[0]
    assert [arg for key, arg in final if key == "CMD"] == ['["serve"]']


def test_dockerfile_installs_the_pinned_cpu_torch() -> None:
    instructions = _instructions(DOCKERFILE.read_text())
    args = dict(arg.split("=", 1) for key, arg in instructions if key == "ARG" and "=" in arg)
    assert args["TORCH_VERSION"] == _pinned_torch()
    assert args["TORCH_INDEX_URL"].endswith("/whl/cpu")
    runs = " ".join(arg for key, arg in instructions if key == "RUN")
    assert '--index-url "${TORCH_INDEX_URL}" "torch==${TORCH_VERSION}"' in runs
    # torch goes in before the project, so the project's pin is already met by the CPU build
    assert runs.index("torch==${TORCH_VERSION}") < runs.index("pip install .")


def test_dockerfile_copies_only_existing_sources() -> None:
    for key, arg in _instructions(DOCKERFILE.read_text()):
        if key == "COPY" and not arg.startswith("--from"):
            for source in shlex.split(arg)[:-1]:
                assert (ROOT / source).exists(), source
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".env", ".venv", "data", "*.sqlite3"} <= set(ignored)


@pytest.mark.skipif(shutil.which("hadolint") is None, reason="hadolint is not installed")
def test_hadolint_finds_nothing() -> None:
    result = subprocess.run(
        ["hadolint", str(DOCKERFILE)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_compose_mounts_the_volume_and_reads_env() -> None:
    compose = yaml.safe_load(COMPOSE.read_text())
    bot = compose["services"]["bot"]
    assert bot["build"] == {"context": "..", "dockerfile": "deploy/Dockerfile"}
    assert "metatutor-data:/data" in bot["volumes"]
    assert "metatutor-data" in compose["volumes"]
    assert bot["environment"]["METATUTOR_DATABASE"] == "/data/metatutor.sqlite3"
    assert bot["env_file"][0]["path"] == "../.env"
    assert bot["restart"] == "unless-stopped"
    assert "no-new-privileges:true" in bot["security_opt"]


def _unit() -> dict[str, list[str]]:
    values: dict[str, list[str]] = {}
    for line in UNIT.read_text().splitlines():
        if "=" in line and not line.startswith(("#", "[")):
            key, _, value = line.partition("=")
            values.setdefault(key.strip(), []).append(value.strip())
    return values


def test_systemd_unit_is_hardened() -> None:
    unit = _unit()
    assert unit["NoNewPrivileges"] == ["yes"]
    assert unit["ProtectSystem"] == ["strict"]
    assert unit["Restart"] == ["on-failure"]
    assert unit["EnvironmentFile"] == ["/etc/metatutor/metatutor.env"]
    assert unit["User"] == ["metatutor"]
    database = next(v for v in unit["Environment"] if v.startswith("METATUTOR_DATABASE="))
    data_dir = str(Path(database.split("=", 1)[1]).parent)
    assert data_dir in unit["ReadWritePaths"]
    # A configuration error (exit 2) is not retried in a loop.
    assert unit["RestartPreventExitStatus"] == ["2"]


def _systemd_install_block() -> str:
    text = (ROOT / "docs" / "operations.md").read_text()
    start = text.index("**systemd**")
    block = text[text.index("```sh", start) + 5 : text.index("```", text.index("```sh", start) + 5)]
    return re.sub(r"\\\n\s*", " ", block)


@pytest.mark.skipif(shutil.which("sed") is None, reason="no sed")
def test_the_systemd_install_puts_the_database_where_the_unit_and_the_docs_say(
    tmp_path: Path,
) -> None:
    # A value in EnvironmentFile= wins over the unit's Environment=: the installed
    # .env.example used to put the database in /var/lib/metatutor/data/ (relative to the
    # working directory), not the file the unit, the backups and `db copy` name.
    env_file = tmp_path / "metatutor.env"
    lines = _systemd_install_block().splitlines()
    installed = [line for line in lines if "/etc/metatutor/metatutor.env" in line]
    assert installed[0].startswith("install -m 0600 .env.example /etc/metatutor/metatutor.env")
    env_file.write_text(ENV_EXAMPLE.read_text())
    for line in installed[1:]:
        command = shlex.split(
            line.split("#")[0].replace("/etc/metatutor/metatutor.env", str(env_file))
        )
        assert command[0] == "sed", line
        subprocess.run(command, check=True)
    settings = Settings(_env_file=env_file)  # type: ignore[call-arg]
    database = next(v for v in _unit()["Environment"] if v.startswith("METATUTOR_DATABASE="))
    assert (
        str(settings.database)
        == database.split("=", 1)[1]
        == "/var/lib/metatutor/metatutor.sqlite3"
    )
    assert "/var/lib/metatutor/metatutor.sqlite3" in (ROOT / "docs" / "operations.md").read_text()


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="no systemd-analyze")
def test_systemd_analyze_verifies_the_unit(tmp_path: Path) -> None:
    # The unit names the installed path; point it at this environment's script to verify.
    script = Path(sys.executable).with_name("metatutor")
    if not script.exists():
        pytest.skip("the metatutor script is not installed in this environment")
    copy = tmp_path / "metatutor.service"
    copy.write_text(UNIT.read_text().replace("/opt/metatutor/venv/bin/metatutor", str(script)))
    result = subprocess.run(
        ["systemd-analyze", "verify", str(copy)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr


def test_env_example_explains_every_setting() -> None:
    text = ENV_EXAMPLE.read_text()
    for name, info in Settings.model_fields.items():
        alias = info.validation_alias
        assert isinstance(alias, AliasChoices), name
        variable = str(alias.choices[0])
        match = re.search(rf"^#? ?{variable}=", text, re.MULTILINE)
        assert match, f"{variable} is missing from .env.example"
        # the lines just above the variable explain it
        before = text[: match.start()].rstrip().splitlines()[-1]
        assert before.startswith("#") or before.startswith(variable.split("_")[0]), variable


def test_env_example_values_load(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    env.write_text(ENV_EXAMPLE.read_text())
    settings = Settings(_env_file=env)  # type: ignore[call-arg]
    assert settings.token is None
    assert settings.database == Path("data/metatutor.sqlite3")


# --- deploy/compose.postgres.yaml: PostgreSQL and N workers behind one webhook port ----------

COMPOSE_POSTGRES = ROOT / "deploy" / "compose.postgres.yaml"
_VARIABLE = re.compile(r"\$\{(\w+)(?::([?-])([^}]*))?\}")
COMPOSE_ONLY = {"POSTGRES_PASSWORD", "METATUTOR_WORKERS"}
"""Variables the compose file itself reads (not settings of the bot)."""


def _interpolate(value: str, env: dict[str, str]) -> str:
    """Compose's ``${VAR}``, ``${VAR:-default}`` and ``${VAR:?error}`` (the forms used)."""

    def one(match: re.Match[str]) -> str:
        name, kind, rest = match.groups()
        if env.get(name):
            return env[name]
        if kind == "-":
            return rest
        raise KeyError(f"{name}: {rest}")

    return _VARIABLE.sub(one, value)


def _setting_names() -> set[str]:
    names = set()
    for info in Settings.model_fields.values():
        alias = info.validation_alias
        assert isinstance(alias, AliasChoices)
        names.add(str(alias.choices[0]))
    return names


def _postgres_compose() -> dict[str, Any]:
    compose: dict[str, Any] = yaml.safe_load(COMPOSE_POSTGRES.read_text())
    return compose


def test_the_sqlite_compose_file_stays_the_default() -> None:
    # The PostgreSQL variant is a file of its own: the default has no database service.
    assert set(yaml.safe_load(COMPOSE.read_text())["services"]) == {"bot"}
    assert "compose.yaml" in (ROOT / "docs" / "operations.md").read_text()


def test_postgres_compose_has_a_database_with_a_volume_and_a_health_check() -> None:
    compose = _postgres_compose()
    assert compose["name"] == yaml.safe_load(COMPOSE.read_text())["name"]  # same data volume
    assert set(compose["services"]) == {"postgres", "migrate", "bot"}
    postgres = compose["services"]["postgres"]
    assert postgres["image"].startswith("postgres:")
    volume, _, mount = postgres["volumes"][0].partition(":")
    assert volume in compose["volumes"] and mount == "/var/lib/postgresql/data"
    assert "metatutor-data" in compose["volumes"]
    check = postgres["healthcheck"]["test"]
    assert check[0] == "CMD-SHELL" and check[1].startswith("pg_isready")
    assert "ports" not in postgres  # reached on the compose network only
    env = postgres["environment"]
    assert f"-U {env['POSTGRES_USER']} -d {env['POSTGRES_DB']}" in check[1]
    with pytest.raises(KeyError, match="POSTGRES_PASSWORD"):
        _interpolate(env["POSTGRES_PASSWORD"], {})


def test_postgres_compose_migrates_once_then_starts_the_workers() -> None:
    services = _postgres_compose()["services"]
    migrate, bot = services["migrate"], services["bot"]
    assert migrate["command"] == ["db", "upgrade"]
    assert migrate["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    assert bot["depends_on"] == {
        "postgres": {"condition": "service_healthy"},
        "migrate": {"condition": "service_completed_successfully"},
    }
    assert migrate["build"] == {"context": "..", "dockerfile": "deploy/Dockerfile"}
    assert bot["image"] == migrate["image"]  # the image migrate builds
    assert bot["command"][:2] == ["serve", "--workers"]
    assert _interpolate(bot["command"][2], {}) == "auto"
    assert _interpolate(bot["command"][2], {"METATUTOR_WORKERS": "4"}) == "4"
    for service in (migrate, bot):
        assert "metatutor-data:/data" in service["volumes"]
        assert service["env_file"][0]["path"] == "../.env"
        assert "no-new-privileges:true" in service["security_opt"]


def test_postgres_compose_commands_exist_in_the_cli(monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.cli import _parser, workers_wanted

    services = _postgres_compose()["services"]
    parser = _parser()
    upgrade = parser.parse_args(services["migrate"]["command"])
    assert (upgrade.command, upgrade.db_command) == ("db", "upgrade")
    serve = parser.parse_args(["serve"])
    assert serve.command == "serve"
    command = [_interpolate(part, {}) for part in services["bot"]["command"]]
    if not hasattr(serve, "workers"):
        pytest.skip("`metatutor serve --workers N` is not in this CLI yet (built beside this)")
    # The default: one worker per usable core, at most 4 (a one-core host serves with one).
    for cores, workers in (({0}, 1), ({0, 1}, 2), (set(range(16)), 4)):
        monkeypatch.setattr("os.sched_getaffinity", lambda pid, cores=cores: cores)
        assert workers_wanted(parser.parse_args(command).workers) == workers


def test_postgres_compose_settings_are_the_bots_own(monkeypatch: pytest.MonkeyPatch) -> None:
    compose = _postgres_compose()
    names = _setting_names()
    env = {
        "POSTGRES_PASSWORD": "s3cretHex",
        "METATUTOR_WEBHOOK_URL": "https://tutor.example.org/telegram",
        "METATUTOR_WEBHOOK_SECRET": "a-secret_1",
    }
    postgres_env = compose["services"]["postgres"]["environment"]
    for name in ("migrate", "bot"):
        service = compose["services"][name]
        for variable, value in service["environment"].items():
            assert variable in names, f"{name}: {variable} is not a setting in bot/settings.py"
            for used in _VARIABLE.findall(str(value)):
                assert used[0] in names | COMPOSE_ONLY, used[0]
        for variable, value in service["environment"].items():
            monkeypatch.setenv(variable, _interpolate(str(value), env))
        settings = Settings(_env_file=None)  # type: ignore[call-arg]
        url = str(settings.database)
        user = postgres_env["POSTGRES_USER"]
        assert url == (f"postgresql://{user}:s3cretHex@postgres:5432/{postgres_env['POSTGRES_DB']}")
        if name == "bot":
            assert settings.webhook_url == env["METATUTOR_WEBHOOK_URL"]
            assert settings.webhook_listen == "0.0.0.0"
            port = settings.webhook_port
            assert [_interpolate(p, env) for p in service["ports"]] == [f"127.0.0.1:{port}:{port}"]
    example = ENV_EXAMPLE.read_text()
    for variable in ("POSTGRES_PASSWORD", "METATUTOR_WORKERS"):
        assert re.search(rf"^#? ?{variable}=", example, re.MULTILINE), variable
