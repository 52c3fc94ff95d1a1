"""SQLite storage: the schema, its migrations, and every query the tutor runs."""

from storage.database import Connection, Database, DatabaseMissing, SchemaMismatch

__all__ = ["Connection", "Database", "DatabaseMissing", "SchemaMismatch"]
