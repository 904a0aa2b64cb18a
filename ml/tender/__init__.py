"""Tender IQ: reading Notice Inviting Tender PDFs into fields (see docs/tenders.md).

`read_notice(pdf)` takes a PDF's bytes (text layer first, OCR for pages without one) and
returns a `NoticeReading`; `extract_fields(text)` reads the fields from text alone.
"""

from ml.tender.fields import extract_fields
from ml.tender.model import FieldValue, NoticeReading
from ml.tender.reading import EXTRACTOR_VERSION, read_notice

__all__ = ["EXTRACTOR_VERSION", "FieldValue", "NoticeReading", "extract_fields", "read_notice"]
