"""Import of real exports: read (CSV/TSV/XLSX/Parquet, UTF-8 or GBK), map columns, validate, load or reject."""

from winback.common.phones import mask_phone
from winback.ingest.service import ImportResult, import_file

__all__ = ["ImportResult", "import_file", "mask_phone"]
