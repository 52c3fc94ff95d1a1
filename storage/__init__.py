"""SQLite storage: the schema, its migrations, and every query the tutor runs."""

from storage.database import Connection, Database, DatabaseMissing, SchemaMismatch
from storage.pg_connect import DatabaseUnreachable

__all__ = ["Connection", "Database", "DatabaseMissing", "DatabaseUnreachable", "SchemaMismatch"]
