#!/usr/bin/env bash
# Install metatutor from a clean clone into a fresh virtual environment, then run the
# commands the Dockerfile and the systemd unit run: db upgrade, import, backup, health, and
# serve (against the project's HTTP Bot API fake) until SIGTERM.
#
#   deploy/smoke_test.sh [TORCH_WHEEL_OR_SPEC]
#
# TORCH_WHEEL_OR_SPEC: a local CPU torch wheel, or a pip spec (default: torch==2.13.0 from
# the PyTorch CPU index, as in the Dockerfile).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
TORCH="${1:-}"
WORK="$(mktemp -d)"
trap 'kill "${FAKE_PID:-0}" 2>/dev/null || true; rm -rf "$WORK"' EXIT
step() { echo "smoke: $*" >&2; }

step "clone into $WORK"
git clone --quiet "$ROOT" "$WORK/src"
python3 -m venv "$WORK/venv"
PIP="$WORK/venv/bin/pip"
step "install torch (CPU)"
if [ -z "$TORCH" ]; then
    "$PIP" install --quiet --index-url https://download.pytorch.org/whl/cpu torch==2.13.0
else
    "$PIP" install --quiet "$TORCH"
fi
step "install the project (not editable)"
"$PIP" install --quiet "$WORK/src"
BIN="$WORK/venv/bin"
"$BIN/python" -c "import torch; assert not torch.cuda.is_available()"

mkdir -p "$WORK/run" && cd "$WORK/run"
export METATUTOR_DATABASE="$WORK/run/data/metatutor.sqlite3"
step "db upgrade"; "$BIN/metatutor" db upgrade
[ "$(stat -c %a "$METATUTOR_DATABASE")" = 600 ] || { echo "database not owner-only" >&2; exit 1; }
step "import"; "$BIN/metatutor" import "$WORK/src/docs/examples/ancient-rome.csv"
step "backup"; "$BIN/metatutor" db backup "$WORK/run/backup.sqlite3"
step "health (database)"; "$BIN/metatutor" health --skip scheduler --skip model

step "serve against the HTTP Bot API fake"
TOKEN="5550001:SmokeTestSmokeTestSmokeTest"
"$BIN/python" - "$TOKEN" > "$WORK/fake.log" 2>&1 <<'PY' &
import asyncio, sys
from bot.fake_telegram.api import FakeBotApi
from bot.fake_telegram.objects import FakeUser
from bot.fake_telegram.http_server import HttpBotApi

async def main() -> None:
    fake = FakeBotApi()
    fake.token = sys.argv[1]
    user = FakeUser(77, "Tess")
    fake.register_user(user)
    async with HttpBotApi(fake, port=18766):
        print("ready", flush=True)
        while not fake.calls_of("getUpdates"):
            await asyncio.sleep(0.1)
        fake.queue_update(fake.user_command(user, "/start"))
        for _ in range(300):
            if fake.messages(user.id):
                print("answered:", fake.messages(user.id)[0].text.splitlines()[0], flush=True)
                break
            await asyncio.sleep(0.1)
        await asyncio.sleep(3600)

asyncio.run(main())
PY
FAKE_PID=$!
for _ in $(seq 50); do grep -q ready "$WORK/fake.log" && break; sleep 0.2; done
TELEGRAM_BOT_TOKEN="$TOKEN" TELEGRAM_API_BASE_URL=http://127.0.0.1:18766/bot \
TELEGRAM_API_FILE_BASE_URL=http://127.0.0.1:18766/file/bot \
    "$BIN/metatutor" serve 2> "$WORK/serve.log" &
BOT_PID=$!
for _ in $(seq 150); do grep -q answered "$WORK/fake.log" && break; sleep 0.2; done
grep answered "$WORK/fake.log" || { cat "$WORK/serve.log" >&2; exit 1; }
kill -TERM "$BOT_PID"
wait "$BOT_PID" && status=0 || status=$?
[ "$status" = 0 ] || { echo "serve exited with $status" >&2; cat "$WORK/serve.log" >&2; exit 1; }
if grep -q "$TOKEN" "$WORK/serve.log"; then echo "the token appears in the log" >&2; exit 1; fi
step "ok: installed, migrated, imported, backed up, served /start, stopped cleanly"
