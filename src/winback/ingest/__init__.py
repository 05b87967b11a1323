"""Import of real exports: read (CSV/TSV/XLSX/Parquet, UTF-8 or GBK), map columns, validate, load or reject.

Entry points call `wb.ingest` (`IngestService`); `import_file(db, ...)` runs one import on a given warehouse."""

from winback.ingest.service import ImportResult, IngestService, import_file

__all__ = ["ImportResult", "IngestService", "import_file"]
