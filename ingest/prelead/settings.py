"""Lead-list limits from the environment (prefix ``PRELEAD_``).

Lead lists are bought or exported files: untrusted. These caps keep one crafted file from
costing the loader gigabytes of memory (see ``docs/security.md``, "Input caps").

| variable | default | meaning |
| --- | --- | --- |
| ``PRELEAD_MAX_CELL_CHARS`` | 32767 (Excel's own cell limit) | longer XLSX cells are cut to this, the row kept and marked ``cell_too_long`` |
| ``PRELEAD_XLSX_MAX_UNCOMPRESSED_BYTES`` | 512 MiB | a workbook expanding beyond this is rejected whole |
| ``PRELEAD_XLSX_MAX_RATIO`` | 200 (real sheets: under 30) | a part (over 1 MiB) expanding more than this many times is rejected as a zip bomb |
| ``PRELEAD_CSV_MAX_LINE_CHARS`` | 1 Mi characters | a CSV line longer than this rejects the file |
"""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

#: Excel stores at most 32,767 characters in a cell: anything longer was not made by Excel.
EXCEL_MAX_CELL_CHARS = 32_767


class PreleadSettings(BaseSettings):
    """Caps on what one lead list may cost."""

    model_config = SettingsConfigDict(env_prefix="PRELEAD_", env_file=".env", extra="ignore")

    max_cell_chars: int = Field(default=EXCEL_MAX_CELL_CHARS, ge=256)
    xlsx_max_uncompressed_bytes: int = Field(default=512 << 20, ge=1 << 20)
    xlsx_max_ratio: float = Field(default=200.0, gt=1)
    csv_max_line_chars: int = Field(default=1 << 20, ge=1024)
