"""The raw/tender_documents asset over landed tender mail in a real PostgreSQL: the PDF
attachments of mail scored ``tender`` are read by ml.tender (text layer, else OCR) with the
stock master's products; the same PDF in two mails is read once; a corrupt PDF is stored
with its error; mail of another stream and non-PDF attachments are left alone. A re-run
reads nothing again (no re-OCR) unless the extractor's version changed; a PDF whose bytes
are missing from the store gets no row until they are back. A run reads at most
``max_notices``, newest mail first, and the next runs read the rest.
"""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import psycopg
import pytest

from orchestration.defs.tender.assets import tender_documents
from orchestration.resources import WarehouseResource
from tests.tender_pipeline import notices as N

NIT = N.notice("BPCL/MR/TN/2026/0417", 5,
               items=(("Caustic Soda Flakes", 20, "MT"), ("Soda Ash Light (dense)", 500, "KG")))  # fmt: skip
SCANNED = N.notice("GEM/2026/B/5512345", 12, items=(("Hydrogen Peroxide 50% w/w", 10, "MT"),),
                   organisation="Hindustan Zinc Limited")  # fmt: skip
OTHER = N.notice("NTPC/2026/0099", 3)


def _materialize(url: str, **config: object) -> dict:
    result = dg.materialize(
        [tender_documents],
        resources={"warehouse": WarehouseResource(database_url=url)},
        run_config={"ops": {"raw__tender_documents": {"config": config}}} if config else None,
    )
    assert result.success
    (materialization,) = result.asset_materializations_for_node("raw__tender_documents")
    return {k: v.value for k, v in materialization.metadata.items()}


def _rows(conn: psycopg.Connection) -> dict[str, tuple]:
    rows = conn.execute(
        "SELECT filename, content_sha256, email_key, pages, text_method, text, ocr_seconds,"
        " fields, extractor_version, error, read_at FROM raw.tender_documents"
    ).fetchall()
    return {row[0]: row[1:] for row in rows}


@pytest.fixture
def tender_mail(warehouse: psycopg.Connection, tmp_path: Path) -> psycopg.Connection:
    drop = tmp_path / "drop"
    nit = N.text_pdf(NIT)
    N.land(warehouse, [
        N.eml(drop, "nit", "NIT for caustic soda", {"NIT-0417.pdf": nit, "terms.txt": b"Terms"}),
        N.eml(drop, "fwd", "Fwd: NIT for caustic soda", {"copy.pdf": nit}, day=1),
        N.eml(drop, "scan", "Tender: hydrogen peroxide", {"scan.pdf": N.scanned_pdf(SCANNED)}),
        N.eml(drop, "bad", "Tender notice", {"damaged.pdf": N.CORRUPT_PDF}),
        N.eml(drop, "crm", "Rate enquiry", {"enquiry.pdf": N.text_pdf(OTHER)},
              mailbox="sales@pebbledemo.in"),
    ])  # fmt: skip
    for subject in ("NIT for caustic soda", "Fwd: NIT for caustic soda",
                    "Tender: hydrogen peroxide", "Tender notice"):  # fmt: skip
        N.predict(warehouse, subject, "tender")
    N.predict(warehouse, "Rate enquiry", "crm")
    N.stock_master(warehouse)
    return warehouse


def test_tender_pdfs_are_read_once_with_their_fields_and_errors(
    tender_mail: psycopg.Connection, pebble_env: str
) -> None:
    from ml.tender import EXTRACTOR_VERSION

    conn = tender_mail
    meta = _materialize(pebble_env)
    assert meta["rows_added"] == 3 and meta["dagster/row_count"] == 3
    assert meta["errors"] == 1
    assert meta["ocr_pages"] == 1 and meta["ocr_seconds"] > 0
    assert meta["stock_items"] == len(N.STOCK_ITEMS)
    assert meta["missing_bytes"] == 0
    assert meta["extractor_version"] == EXTRACTOR_VERSION

    rows = _rows(conn)
    # the same PDF in two mails is one row, named after the earlier mail; the CRM mail's
    # PDF and the text attachment are not notices
    assert set(rows) == {"NIT-0417.pdf", "scan.pdf", "damaged.pdf"}
    sha, key, pages, method, text, ocr_s, fields, version, error, _ = rows["NIT-0417.pdf"]
    assert key == N.email_key(conn, "NIT for caustic soda")
    assert (pages, method, error, version) == (1, "text_layer", None, EXTRACTOR_VERSION)
    assert ocr_s is None
    assert fields["tender_no"]["value"] == "BPCL/MR/TN/2026/0417"
    evidence = fields["tender_no"]
    assert text[evidence["start"] : evidence["end"]] == evidence["evidence"]
    assert fields["bid_end"]["value"] == NIT.bid_end.isoformat()
    products = [item["product"] for item in fields["items"]["value"]]
    assert products == ["Caustic Soda Flakes", "Soda Ash Light"]  # the stock master's names

    _, _, pages, method, text, ocr_s, fields, _, error, _ = rows["scan.pdf"]
    assert (pages, method, error) == (1, "ocr", None)
    assert ocr_s > 0 and "Hindustan Zinc" in text
    assert fields["tender_no"]["value"] == "GEM/2026/B/5512345"
    assert fields["items"]["value"][0]["product"] == "Hydrogen Peroxide 50%"

    _, key, pages, method, text, _, fields, _, error, _ = rows["damaged.pdf"]
    assert key == N.email_key(conn, "Tender notice")
    assert (pages, method, text, fields) == (0, "none", "", {})
    assert error and "PDF" in error


def test_a_rerun_reads_nothing_again_unless_the_extractor_changed(
    tender_mail: psycopg.Connection,
    pebble_env: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    conn = tender_mail
    _materialize(pebble_env)
    first = _rows(conn)

    again = _materialize(pebble_env)
    assert again["rows_added"] == 0 and again["ocr_pages"] == 0
    assert again["dagster/row_count"] == 3
    assert _rows(conn) == first  # same rows, same read_at: nothing re-read, no re-OCR

    # a new notice arrives: only it is read
    N.land(conn, [N.eml(tmp_path / "later", "later", "Tender: NTPC",
                        {"ntpc.pdf": N.text_pdf(OTHER)}, day=4)])  # fmt: skip
    N.predict(conn, "Tender: NTPC", "tender")
    later = _materialize(pebble_env)
    assert later["rows_added"] == 1 and later["dagster/row_count"] == 4
    rows = _rows(conn)
    assert {k: v for k, v in rows.items() if k != "ntpc.pdf"} == first

    # a new extractor version reads every notice again, the corrupt one included
    monkeypatch.setattr("ml.tender.EXTRACTOR_VERSION", "tender-test-next")
    bumped = _materialize(pebble_env)
    assert bumped["rows_added"] == 4 and bumped["ocr_pages"] == 1
    rows = _rows(conn)
    assert len(rows) == 4
    assert {r[7] for r in rows.values()} == {"tender-test-next"}
    assert all(rows[name][9] > first[name][9] for name in first)  # read again
    assert rows["damaged.pdf"][3] == "none" and rows["damaged.pdf"][8]


def test_a_pdf_missing_from_the_store_is_read_once_it_is_back(
    tender_mail: psycopg.Connection, pebble_env: str
) -> None:
    from ingest.common import store

    conn = tender_mail
    (sha,) = conn.execute(
        "SELECT sha256 FROM raw.email_attachments WHERE filename = 'scan.pdf'"
    ).fetchone()
    blob = store.blob_path(store.attachments_root(), sha)
    moved = blob.with_name("away")
    blob.rename(moved)
    meta = _materialize(pebble_env)
    assert meta["missing_bytes"] == 1 and meta["rows_added"] == 2
    assert "scan.pdf" not in _rows(conn)

    moved.rename(blob)
    meta = _materialize(pebble_env)
    assert meta["missing_bytes"] == 0 and meta["rows_added"] == 1
    assert _rows(conn)["scan.pdf"][3] == "ocr"


def test_a_person_s_correction_of_the_stream_decides_which_mail_is_tender_mail(
    tender_mail: psycopg.Connection, pebble_env: str
) -> None:
    from pebble import events

    conn = tender_mail

    def reclassify(subject: str, stream: str, intent: str, message: bool) -> None:
        key, thread = conn.execute(
            "SELECT email_key, thread_key FROM raw.emails WHERE subject = %s", (subject,)
        ).fetchone()
        payload = {"stream": stream, "intent": intent} | ({"email_key": key} if message else {})
        event = events.new_event("CardReclassified", thread, actor="priya", payload=payload)
        events.append(conn, event, 0)

    # the CRM mail's PDF is a notice after all (the thread corrected); the scan's mail is not
    reclassify("Rate enquiry", "tender", "tender_notice", message=False)
    reclassify("Tender: hydrogen peroxide", "crm", "price_enquiry", message=True)
    _materialize(pebble_env)
    assert set(_rows(conn)) == {"NIT-0417.pdf", "damaged.pdf", "enquiry.pdf"}


def test_a_run_reads_at_most_max_notices_newest_first_and_the_next_runs_the_rest(
    tender_mail: psycopg.Connection, pebble_env: str, tmp_path: Path
) -> None:
    conn = tender_mail
    N.land(conn, [N.eml(tmp_path / "later", "later", "Tender: NTPC",
                        {"ntpc.pdf": N.text_pdf(OTHER)}, day=9)])  # fmt: skip
    N.predict(conn, "Tender: NTPC", "tender")

    first = _materialize(pebble_env, max_notices=1)
    assert first["rows_added"] == 1 and first["left_for_next_runs"] == 3
    assert set(_rows(conn)) == {"ntpc.pdf"}  # the newest mail's notice first

    second = _materialize(pebble_env, max_notices=2)
    assert second["rows_added"] == 2 and second["left_for_next_runs"] == 1
    rest = _materialize(pebble_env, max_notices=2)
    assert rest["rows_added"] == 1 and rest["left_for_next_runs"] == 0
    assert set(_rows(conn)) == {"ntpc.pdf", "NIT-0417.pdf", "scan.pdf", "damaged.pdf"}
    assert _materialize(pebble_env)["rows_added"] == 0  # nothing read twice


def test_max_notices_below_one_is_refused(tender_mail: psycopg.Connection) -> None:
    from orchestration.defs.tender.reading import read_pending

    with pytest.raises(ValueError, match="max_notices"):
        read_pending(tender_mail, max_notices=0, products=())
