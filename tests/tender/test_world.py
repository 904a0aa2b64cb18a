"""The demo world's tender mails carry NIT PDFs (both kinds) without moving its main stream."""

from __future__ import annotations

from email import message_from_bytes
from email.policy import default
from pathlib import Path

import pytest

import demo.world.nit as nit
from demo.world import generate_world, load_jsonl
from ml.tender import read_notice
from ml.tender.evaluate import catalogue_names, evaluate, world_notices


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("nitworld") / "w"
    generate_world(out, seed=7, scale=0.1)
    return out


def test_tender_mails_carry_text_and_scanned_nits(world: Path) -> None:
    rows = [r for r in load_jsonl(world / "mail" / "truth.jsonl") if r["intent"] == "tender_notice"]
    with_nit = [r for r in rows if "nit" in r]
    assert rows and 0.15 <= len(with_nit) / len(rows) <= 0.8
    assert {r["nit"]["kind"] for r in with_nit} == {"text", "scanned"}
    for r in with_nit:
        msg = message_from_bytes((world / r["file"]).read_bytes(), policy=default)
        pdfs = [p for p in msg.iter_attachments() if p.get_content_type() == "application/pdf"]
        assert [p.get_filename() for p in pdfs] == [r["nit"]["filename"]]
        assert pdfs[0].get_content().startswith(b"%PDF-")
        assert msg.get_body(("plain", "html")) is not None  # the alert text is still there
        fields = r["nit"]["fields"]
        assert {"tender_no", "organisation", "items", "bid_end", "contact"} <= set(fields)


def test_world_nits_read_back_to_their_metadata(world: Path) -> None:
    rows, kinds = [], set()
    for mid, kind, pdf, truth in world_notices(world):
        reading = read_notice(pdf, products=catalogue_names())
        assert reading.method == ("ocr" if kind == "scanned" else "text_layer")
        rows.append((mid, kind, truth, {k: v.value for k, v in reading.fields.items()}))
        kinds.add(kind)
    report = evaluate(rows)
    assert kinds == {"text", "scanned"}
    assert report["text"]["f1"] >= 0.95, report["mistakes"]
    assert report["scanned"]["f1"] >= 0.85, report["mistakes"]


def test_nits_do_not_move_the_worlds_random_stream(tmp_path: Path, monkeypatch) -> None:
    generate_world(tmp_path / "with", seed=5, scale=0.05)
    monkeypatch.setattr(nit, "NIT_SHARE", 0.0)
    generate_world(tmp_path / "without", seed=5, scale=0.05)
    with_rows = list(load_jsonl(tmp_path / "with" / "mail" / "truth.jsonl"))
    without_rows = list(load_jsonl(tmp_path / "without" / "mail" / "truth.jsonl"))
    assert any("nit" in r for r in with_rows)
    assert [{k: v for k, v in r.items() if k != "nit"} for r in with_rows] == without_rows
    for r in with_rows:
        a = (tmp_path / "with" / r["file"]).read_bytes()
        b = (tmp_path / "without" / r["file"]).read_bytes()
        assert (a == b) != ("nit" in r), r["file"]
    for name in ("sales_orders.jsonl", "invoices.jsonl", "qc_records.jsonl", "companies.jsonl"):
        assert (tmp_path / "with" / name).read_bytes() == (tmp_path / "without" / name).read_bytes()
