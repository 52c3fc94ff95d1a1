"""``metatutor db copy SQLITE_FILE POSTGRES_URL``: move a deployment to PostgreSQL."""

from __future__ import annotations

import sys
from pathlib import Path

from storage.postgres import is_postgres_url, redacted
from storage.transfer import CopyError, copy_database


async def db_copy(source: Path, url: str) -> int:
    """Copy every row of the SQLite file into the empty PostgreSQL database, checked by counts."""
    if not is_postgres_url(url):
        print(
            f"metatutor: {url!r} is not a PostgreSQL URL; give one like"
            " postgresql://user:password@host/metatutor",
            file=sys.stderr,
        )
        return 2
    try:
        counts = await copy_database(source, url)
    except CopyError as error:
        print(f"metatutor: {error}", file=sys.stderr)
        return 1
    width = max(len(count.table) for count in counts)
    for count in counts:
        print(f"{count.table:<{width}}  {count.source:>10} -> {count.target:>10}")
    total = sum(count.target for count in counts)
    print(
        f"copied {total} rows of {len(counts)} tables from {source} to {redacted(url)};"
        " every count matches. Set METATUTOR_DATABASE to the URL and start the bot."
    )
    return 0
