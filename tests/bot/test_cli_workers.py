"""``serve --workers`` as an operator types it: counts that cannot work, more workers than
cores, ``auto``, and a worker that cannot start."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli import main


def test_several_workers_without_a_webhook_stop_with_one_line_naming_it(
    env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "5550001:" + "A1b2C3d4E5" * 3)
    monkeypatch.delenv("METATUTOR_WEBHOOK_URL", raising=False)
    assert main(["serve", "--workers", "2"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0
    assert "--workers 2 needs a webhook: set METATUTOR_WEBHOOK_URL" in err
    assert not (env / "tutor.sqlite3").exists()  # refused before anything started


@pytest.mark.parametrize("cores", [2, 1], ids=["2_cores", "1_core"])
@pytest.mark.parametrize("given", ["0", "-1", "two", ""], ids=["zero", "negative", "word", "empty"])
def test_a_workers_count_that_cannot_work_stops_with_one_line_naming_the_option(
    env: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    cores: int,
    given: str,
) -> None:
    """Like a wrong setting: one line (argparse printed its usage and a second line)."""
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "5550001:" + "A1b2C3d4E5" * 3)
    monkeypatch.setenv("METATUTOR_WEBHOOK_URL", "https://tutor.example.org/telegram")
    monkeypatch.setattr("os.sched_getaffinity", lambda pid: set(range(cores)))
    assert main(["serve", "--workers", given]) == 2
    err = capsys.readouterr().err
    what = {
        2: "give a whole number from 1 to 2 (at most one bot process per CPU core this"
        " process may use)",
        1: "use --workers 1 (this process may use one CPU core)",
    }[cores]
    assert (
        err
        == f"metatutor: --workers {given}: {what}, or --workers auto (one per core, at most 4)\n"
    )
    assert not (env / "tutor.sqlite3").exists()  # refused before anything started


def test_more_workers_than_cores_stop_with_one_line_naming_the_limit(
    env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "5550001:" + "A1b2C3d4E5" * 3)
    monkeypatch.setenv("METATUTOR_WEBHOOK_URL", "https://tutor.example.org/telegram")
    monkeypatch.setattr("os.sched_getaffinity", lambda pid: {0, 1})
    assert main(["serve", "--workers", "3"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == (
        "metatutor: --workers 3 is more than the 2 CPU cores this process may use: each worker"
        " is a whole bot process that keeps one core busy under load (and holds its own"
        " learner model), so more would only share them; use --workers 2 or fewer"
    )
    assert not (env / "tutor.sqlite3").exists()  # refused before anything started


@pytest.mark.parametrize(
    ("cores", "quota", "workers"),
    [
        ({0}, None, 1),
        ({0, 1}, None, 2),
        (set(range(8)), None, 4),
        (set(range(8)), "max 100000", 4),
        (set(range(8)), "100000 100000", 1),  # docker run --cpus 1 on an 8-core host
        (set(range(8)), "250000 100000", 2),
    ],
    ids=["1_core", "2_cores", "8_cores", "no_quota", "quota_1", "quota_2.5"],
)
def test_workers_auto_runs_one_per_usable_core_at_most_four(
    env: Path,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    cores: set[int],
    quota: str | None,
    workers: int,
) -> None:
    """The compose file's default: a one-core host serves (a fixed 2 was refused there)."""
    from bot import operations

    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "5550001:" + "A1b2C3d4E5" * 3)
    monkeypatch.setenv("METATUTOR_WEBHOOK_URL", "https://tutor.example.org/telegram")
    monkeypatch.setattr("os.sched_getaffinity", lambda pid: cores)
    cpu_max = tmp_path / "cpu.max"
    if quota is not None:
        cpu_max.write_text(quota + "\n")
    monkeypatch.setattr(operations, "CPU_MAX", cpu_max)
    served: list[int] = []

    async def serve(settings: object, *, workers: int, worker: None, worker_port: int) -> int:
        served.append(workers)
        return 0

    monkeypatch.setattr(operations, "serve", serve)
    assert main(["serve", "--workers", "auto"]) == 0
    assert served == [workers]
    logged = capsys.readouterr().err.splitlines()
    assert len(logged) == 1 and logged[0].endswith(
        f' msg="--workers auto: {workers} (one per CPU core this process may use, at most 4)"'
    )


def test_a_container_cpu_quota_counts_as_its_cores(
    env: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from bot import operations

    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "5550001:" + "A1b2C3d4E5" * 3)
    monkeypatch.setenv("METATUTOR_WEBHOOK_URL", "https://tutor.example.org/telegram")
    monkeypatch.setattr("os.sched_getaffinity", lambda pid: set(range(8)))
    cpu_max = tmp_path / "cpu.max"
    cpu_max.write_text("100000 100000\n")  # docker run --cpus 1
    monkeypatch.setattr(operations, "CPU_MAX", cpu_max)
    assert main(["serve", "--workers", "2"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("metatutor: --workers 2 is more than the 1 CPU core this process may")
    assert err.rstrip().endswith("use --workers 1 or fewer")
    assert not (env / "tutor.sqlite3").exists()


def test_a_worker_that_cannot_start_names_itself_in_its_line(
    env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # The front's log holds every worker's lines: the one that failed says which it is.
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "5550001:" + "A1b2C3d4E5" * 3)
    monkeypatch.setenv("METATUTOR_WEBHOOK_URL", "https://tutor.example.org/telegram")
    monkeypatch.setenv("METATUTOR_DATABASE", "postgresql://tutor:hunter2@127.0.0.1:1/tutor")
    monkeypatch.setattr("os.sched_getaffinity", lambda pid: {0, 1})
    assert main(["serve", "--workers", "2", "--worker", "1", "--worker-port", "0"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("metatutor worker 1: METATUTOR_DATABASE: cannot connect to"), err
    assert len(err.splitlines()) == 1
