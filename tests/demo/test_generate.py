"""The demo world generator: determinism, identifiers, documents, mail and prelead dirt."""

from __future__ import annotations

import csv
import hashlib
import html
import io
import json
import mailbox
import re
from collections import Counter
from email import message_from_bytes
from email.policy import default
from pathlib import Path

import pytest
from openpyxl import load_workbook
from stdnum.in_ import gstin as gstin_mod

from demo.world import generate_world, load_jsonl
from demo.world.catalogue import PRODUCTS, product_by_code, product_by_name

CIN_RE = re.compile(
    r"^[LU]\d{5}[A-Z]{2}\d{4}(PLC|PTC|FLC|FTC|GAP|GAT|GOI|NPL|OPC|SGC|ULL|ULT)\d{6}$"
)
HISTORY_RE = re.compile(
    r"\n(?:---------- Forwarded message|-----Original Message-----|On .+ wrote:)"
)


def tree_hash(root: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(root.rglob("*")):
        if p.is_file():
            h.update(str(p.relative_to(root)).encode() + b"\0" + p.read_bytes() + b"\0")
    return h.hexdigest()


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("world") / "w"
    generate_world(out, seed=11, scale=0.05)
    return out


@pytest.fixture(scope="module")
def world_02(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("world02") / "w"
    generate_world(out, seed=3, scale=0.2)
    return out


def test_same_seed_is_byte_identical_and_other_seed_differs(world: Path, tmp_path: Path) -> None:
    again = tmp_path / "again"
    generate_world(again, seed=11, scale=0.05)
    assert tree_hash(again) == tree_hash(world)
    other = tmp_path / "other"
    generate_world(other, seed=12, scale=0.05)
    assert tree_hash(other) != tree_hash(world)


def test_rerun_into_same_directory_replaces_world(tmp_path: Path) -> None:
    out = tmp_path / "w"
    generate_world(out, seed=5, scale=0.05)
    first = tree_hash(out)
    generate_world(out, seed=5, scale=0.05)
    assert tree_hash(out) == first


def test_refuses_to_overwrite_a_directory_that_is_not_a_world(tmp_path: Path) -> None:
    (tmp_path / "precious.txt").write_text("keep me")
    with pytest.raises(FileExistsError):
        generate_world(tmp_path, seed=1, scale=0.05)
    assert (tmp_path / "precious.txt").read_text() == "keep me"
    with pytest.raises(ValueError):
        generate_world(tmp_path / "new", seed=1, scale=0)


def test_catalogue_names_and_lookups() -> None:
    assert len(PRODUCTS) == 39
    assert product_by_name("zinc  oxide").code == "ZNO"
    assert product_by_code("ipa").name == "Isopropyl Alcohol"
    for p in PRODUCTS:
        assert re.fullmatch(r"\d{8}", p.hsn), p
        assert p.gst_rate in (5.0, 12.0, 18.0)
        assert p.aliases and p.specs and p.base_price_per_kg > 0
    with pytest.raises(KeyError):
        product_by_code("NOPE")


def test_company_identifiers_are_valid(world: Path) -> None:
    companies = list(load_jsonl(world / "companies.jsonl"))
    assert len(companies) == 20
    states_seen = set()
    for c in companies:
        assert re.fullmatch(r"[A-Z]{3}[CPFHATBLJG][A-Z]\d{4}[A-Z]", c["pan"])
        for g in c["gstins"]:
            assert gstin_mod.is_valid(g["gstin"]), g
            assert g["gstin"][2:12] == c["pan"]
            assert g["gstin"][:2] == g["state_code"]
            states_seen.add(g["state_code"])
        if c["cin"] is not None:
            assert CIN_RE.match(c["cin"]), c["cin"]
    assert len(states_seen) > 3
    contacts = list(load_jsonl(world / "contacts.jsonl"))
    ids = {c["company_id"] for c in companies}
    assert all(c["company_id"] in ids for c in contacts)
    assert all(c["phone"].startswith("+91") and len(c["phone"]) == 13 for c in contacts)


def test_cin_state_matches_registered_state(world_02: Path) -> None:
    from demo.world.identity import STATE_BY_CODE

    companies = [c for c in load_jsonl(world_02 / "companies.jsonl") if c["cin"]]
    assert companies
    for c in companies:
        assert c["cin"][6:8] == STATE_BY_CODE[c["gstins"][0]["state_code"]].cin_code
    assert any(len(c["gstins"]) > 1 for c in load_jsonl(world_02 / "companies.jsonl"))


def test_orders_invoices_and_qc_are_consistent(world: Path) -> None:
    orders = list(load_jsonl(world / "sales_orders.jsonl"))
    invoices = list(load_jsonl(world / "invoices.jsonl"))
    qc = list(load_jsonl(world / "qc_records.jsonl"))
    nos = [o["doc_no"] for o in orders]
    assert all(re.fullmatch(r"SO/25-26/\d{5}", n) for n in nos)
    assert len(set(nos)) == len(nos)
    assert nos == sorted(nos)
    assert all("2025-06-01" <= o["date"] <= "2025-11-30" for o in orders)
    inv_nos = [i["doc_no"] for i in invoices]
    assert all(re.fullmatch(r"INV/25-26/\d{5}", n) for n in inv_nos)
    assert len(set(inv_nos)) == len(inv_nos)
    by_no = {o["doc_no"]: o for o in orders}
    for inv in invoices:
        order = by_no[inv["order_no"]]
        assert order["status"] == "invoiced"
        assert inv["date"] >= order["date"]
        assert inv["taxable_value"] == pytest.approx(
            sum(x["amount"] for x in inv["lines"]), abs=0.01
        )
        assert inv["total"] == pytest.approx(inv["taxable_value"] + inv["gst_amount"], abs=0.01)
    assert {o["status"] for o in orders} <= {"open", "dispatched", "invoiced", "cancelled"}
    for rec in qc:
        assert rec["result"] == ("pass" if all(p["pass"] for p in rec["params"]) else "fail")
        if rec["result"] == "fail":
            assert rec["coa_status"] == "withheld"
        for p in rec["params"]:
            ok = (p["min"] is None or p["result"] >= p["min"]) and (
                p["max"] is None or p["result"] <= p["max"]
            )
            assert ok == p["pass"]


def _visible_text(msg) -> str:
    part = msg.get_body(preferencelist=("plain", "html"))
    text = part.get_content() if part is not None else ""
    if part is not None and part.get_content_type() == "text/html":
        text = html.unescape(re.sub(r"<[^>]+>", "\n", text))
    m = HISTORY_RE.search(text)
    return text[: m.start()] if m else text


def test_mail_parses_and_truth_matches(world: Path) -> None:
    truth = list(load_jsonl(world / "mail" / "truth.jsonl"))
    files = sorted((world / "mail" / "maildir").glob("*/*/*"))
    assert len(truth) == len(files) > 50
    assert len({t["message_id"] for t in truth}) == len(truth)
    orders = {o["doc_no"] for o in load_jsonl(world / "sales_orders.jsonl")}
    invoices = {i["doc_no"] for i in load_jsonl(world / "invoices.jsonl")}
    names = {p.name for p in PRODUCTS}
    for t in truth:
        raw = (world / t["file"]).read_bytes()
        msg = message_from_bytes(raw, policy=default)
        assert msg["Message-ID"] == t["message_id"]
        assert t["file"].split("/")[2] == t["mailbox"]
        visible = str(msg["Subject"]) + "\n" + _visible_text(msg)
        for e in t["entities"]:
            assert e["text"] in visible, (t["file"], e)
            if e["label"] == "ORDER_NO":
                assert e["value"] in orders
            if e["label"] == "INVOICE_NO":
                assert e["value"] in invoices
            if e["label"] == "PRODUCT":
                assert e["value"] in names
            if e["label"] == "GSTIN":
                assert gstin_mod.is_valid(e["value"]) == e["valid"]
            if e["label"] in ("QUANTITY", "PRICE"):
                assert e["value"] > 0


def test_mbox_and_maildir_hold_the_same_messages(world: Path) -> None:
    truth = Counter(t["mailbox"] for t in load_jsonl(world / "mail" / "truth.jsonl"))
    for name in ("sales", "accounts", "tenders", "qc"):
        box = mailbox.mbox(world / "mail" / "mbox" / f"{name}.mbox", create=False)
        md = mailbox.Maildir(world / "mail" / "maildir" / name, create=False)
        mbox_ids = sorted(m["Message-ID"] for m in box)
        md_ids = sorted(m["Message-ID"] for m in md)
        assert len(mbox_ids) == truth[name]
        assert mbox_ids == md_ids


def test_maildir_names_are_deterministic_and_dated(world: Path) -> None:
    for t in load_jsonl(world / "mail" / "truth.jsonl"):
        name = t["file"].rsplit("/", 1)[1]
        m = re.fullmatch(r"(\d+)\.(\d{7})\.pebble(:2,S)?", name)
        assert m, name
        assert ("/new/" in t["file"]) == (m.group(3) is None)


def test_intent_mix_and_mail_features(world_02: Path) -> None:
    truth = list(load_jsonl(world_02 / "mail" / "truth.jsonl"))
    intents = Counter(t["intent"] for t in truth)
    expected = {
        "price_enquiry",
        "sample_request",
        "new_business",
        "purchase_order",
        "order_status",
        "invoice_payment",
        "coa_request",
        "quality_complaint",
        "tender_notice",
        "newsletter_spam",
        "auto_reply",
    }
    assert set(intents) == expected
    streams = Counter(t["stream"] for t in truth)
    n = len(truth)
    assert 0.02 < streams["tender"] / n < 0.09
    assert 0.09 < streams["other"] / n < 0.22
    assert (streams["crm"] + streams["erp"]) / n > 0.7
    labels = Counter(e["label"] for t in truth for e in t["entities"])
    assert {
        "GSTIN",
        "PAN",
        "CIN",
        "ORDER_NO",
        "INVOICE_NO",
        "PO_NO",
        "PRODUCT",
        "QUANTITY",
        "PRICE",
    } <= set(labels)
    assert any(e["label"] == "GSTIN" and not e["valid"] for t in truth for e in t["entities"])
    raws = [(world_02 / t["file"]).read_bytes() for t in truth]
    msgs = [message_from_bytes(r, policy=default) for r in raws]
    assert any(m["In-Reply-To"] for m in msgs)
    assert any(m["Subject"].startswith(("Re:", "RE:")) and not m["In-Reply-To"] for m in msgs)
    assert any(m["Auto-Submitted"] for m in msgs)
    assert any(m.get_content_type() == "multipart/report" for m in msgs)
    assert any(m["List-Unsubscribe"] and m["Precedence"] == "bulk" for m in msgs)
    assert any(m.get_content_type() == "text/html" for m in msgs)
    assert any(m.get_content_type() == "multipart/alternative" for m in msgs)
    pdfs = [
        p.get_content()
        for m in msgs
        for p in m.iter_attachments()
        if p.get_content_type() == "application/pdf"
    ]
    assert pdfs and all(p.startswith(b"%PDF-1.4") and p.rstrip().endswith(b"%%EOF") for p in pdfs)
    visible = "\n".join(_visible_text(m) for m in msgs).lower()
    for phrase in ("rate", "bhejo", "kab", "pls", "regards", "gstin"):
        assert phrase in visible, phrase
    full = "\n".join(b.get_content() for m in msgs if (b := m.get_body(("plain",))) is not None)
    for marker in ("---------- Forwarded message", "-----Original Message-----", " wrote:\n> "):
        assert marker in full, marker


def test_prelead_files_carry_the_advertised_dirt(world_02: Path) -> None:
    folder = world_02 / "prelead"
    truth = list(load_jsonl(folder / "truth.jsonl"))
    files = sorted(p.name for p in folder.glob("batch_*"))
    assert {f.rsplit(".", 1)[1] for f in files} == {"csv", "xlsx"}
    assert any(t["gstin_valid"] is False for t in truth)
    assert any(t["kind"] == "duplicate" for t in truth)
    assert any(t["kind"] == "existing" for t in truth)
    assert any(t["formula_cell"] for t in truth)
    rows_per_file = Counter(t["file"] for t in truth)
    encodings = set()
    for name in files:
        data = (folder / name).read_bytes()
        if name.endswith(".csv"):
            enc = next(t["encoding"] for t in truth if t["file"] == f"prelead/{name}")
            encodings.add(enc)
            if enc == "utf-8-sig":
                assert data.startswith(b"\xef\xbb\xbf")
            rows = list(
                csv.reader(
                    io.StringIO(data.decode(enc)),
                    delimiter=";" if b";" in data.split(b"\n")[0] else ",",
                )
            )
            assert len(rows) - 1 == rows_per_file[f"prelead/{name}"]
        else:
            ws = load_workbook(io.BytesIO(data)).active
            non_empty = [
                r for r in ws.iter_rows(values_only=True) if any(v not in (None, "") for v in r)
            ]
            header_and_title = (
                2 if len(non_empty[0]) and sum(v is not None for v in non_empty[0]) == 1 else 1
            )
            assert len(non_empty) - header_and_title == rows_per_file[f"prelead/{name}"]
    assert len(encodings) >= 2


def test_manifest_counts_match_files(world: Path) -> None:
    manifest = json.loads((world / "manifest.json").read_text())
    assert manifest["seed"] == 11 and manifest["scale"] == 0.05
    counts = manifest["counts"]
    for key, name in (
        ("companies", "companies.jsonl"),
        ("contacts", "contacts.jsonl"),
        ("sales_orders", "sales_orders.jsonl"),
        ("invoices", "invoices.jsonl"),
        ("qc_records", "qc_records.jsonl"),
    ):
        assert counts[key] == sum(1 for _ in load_jsonl(world / name))
    assert counts["emails"] == sum(1 for _ in load_jsonl(world / "mail" / "truth.jsonl"))
    catalogue = json.loads((world / "catalogue.json").read_text())
    assert [c["name"] for c in catalogue] == [p.name for p in PRODUCTS]


def test_truth_lists_every_identifier_in_visible_text(world_02: Path) -> None:
    patterns = {
        "GSTIN": re.compile(r"\b\d{2}[A-Z]{5}\d{4}[A-Z][0-9A-Z]Z[0-9A-Z]\b"),
        "ORDER_NO": re.compile(r"SO/25-26/\d{5}"),
        "INVOICE_NO": re.compile(r"INV/25-26/\d{5}"),
        "CIN": re.compile(r"\b[LU]\d{5}[A-Z]{2}\d{4}[A-Z]{3}\d{6}\b"),
    }
    checked = 0
    for t in load_jsonl(world_02 / "mail" / "truth.jsonl"):
        msg = message_from_bytes((world_02 / t["file"]).read_bytes(), policy=default)
        visible = str(msg["Subject"]) + "\n" + _visible_text(msg)
        listed = {(e["label"], e["text"]) for e in t["entities"]}
        for label, rx in patterns.items():
            for m in rx.finditer(visible):
                assert (label, m.group(0)) in listed, (t["file"], label, m.group(0))
                checked += 1
    assert checked > 50


def test_cli_generate_writes_world(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from demo.world.cli import cli

    result = CliRunner().invoke(
        cli, ["generate", "--seed", "2", "--scale", "0.05", "--out", str(tmp_path / "w")]
    )
    assert result.exit_code == 0, result.output
    assert "emails" in result.output
    assert json.loads((tmp_path / "w" / "manifest.json").read_text())["seed"] == 2
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "notes.txt").write_text("mine")
    bad = CliRunner().invoke(cli, ["generate", "--scale", "0.05", "--out", str(tmp_path / "x")])
    assert bad.exit_code == 2
