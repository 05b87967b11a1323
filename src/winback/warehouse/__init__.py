"""The warehouse: one DuckDB file, versioned schema, one writer."""

from winback.warehouse.connection import connect, open_warehouse
from winback.warehouse.migrate import current_version, migrate
from winback.warehouse.transaction import transaction

__all__ = ["connect", "current_version", "migrate", "open_warehouse", "transaction"]
