"""The deployment files: checked statically (no Docker engine or systemd runs in tests)."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

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
