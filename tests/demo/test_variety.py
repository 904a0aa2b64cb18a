"""Variety of the generated mailbox: phrasings, shapes, noise and wrappers a classifier meets in
real mail, with entity truth still exact."""

from __future__ import annotations

import hashlib
import html
import re
from collections import Counter, defaultdict
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from pathlib import Path
from typing import Any

import pytest
from stdnum.in_ import gstin as gstin_mod

from demo.world import generate_world, load_jsonl, templates
from demo.world import templates_new_business as nb
from demo.world import templates_other as other
from demo.world.catalogue import PRODUCTS
from demo.world.masters import FREE_MAIL
from ml.taxonomy import stream_of

HISTORY_RE = re.compile(
    r"(?:^|\n)(?:---------- Forwarded message|-----Original Message-----|On .+ wrote:)"
)
HINGLISH_RE = re.compile(
    r"\b(bhejo|bhej do|kab|hai|nahi|kya|bhai|jaldi|karo|abhi tak|kal tak|chahiye|maal|gaadi|"
    r"hua|aaya|ka|ke|ji|dekho|dekh lo|kar do|karein|wapas|kharab|ho gaya|nikla|niklega)\b",
    re.IGNORECASE,
)
ERP = ("purchase_order", "order_status", "invoice_payment", "coa_request", "quality_complaint")
IDENTIFIERS = {
    "GSTIN": re.compile(r"\b\d{2}[A-Z]{5}\d{4}[A-Z][0-9A-Z]Z[0-9A-Z]\b"),
    "ORDER_NO": re.compile(r"SO/25-26/\d{5}"),
    "INVOICE_NO": re.compile(r"INV/25-26/\d{5}"),
    "CIN": re.compile(r"\b[LU]\d{5}[A-Z]{2}\d{4}[A-Z]{3}\d{6}\b"),
}


def visible_text(msg: EmailMessage) -> str:
    part = msg.get_body(preferencelist=("plain", "html"))
    text = part.get_content() if part is not None else ""
    if part is not None and part.get_content_type() == "text/html":
        text = html.unescape(re.sub(r"<[^>]+>", "\n", text))
    m = HISTORY_RE.search(text)
    return text[: m.start()] if m else text


def skeleton(text: str, entities: list[dict[str, Any]]) -> str:
    """`text` with entity strings and digits masked: what stays is the phrasing."""
    for e in sorted(entities, key=lambda e: -len(e["text"])):
        text = text.replace(e["text"], "<e>")
    return re.sub(r"\s+", " ", re.sub(r"\d+", "#", text.lower())).strip()


class Mail:
    def __init__(self, truth: dict[str, Any], msg: EmailMessage) -> None:
        self.truth = truth
        self.msg = msg
        self.subject = str(msg["Subject"] or "")
        self.body = visible_text(msg)
        self.intent = truth["intent"]
        self.inbound = truth["direction"] == "inbound"
        self.labels = {e["label"] for e in truth["entities"]}


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("variety") / "w"
    generate_world(out, seed=5, scale=0.3)
    return out


@pytest.fixture(scope="module")
def mails(world: Path) -> list[Mail]:
    return [
        Mail(t, message_from_bytes((world / t["file"]).read_bytes(), policy=default))
        for t in load_jsonl(world / "mail" / "truth.jsonl")
    ]


def test_phrasing_tables_are_wide() -> None:
    for intent, styles in templates.BODIES.items():
        assert sum(len(v) for v in styles.values()) >= 25, intent
        if intent != "tender_notice":
            assert set(styles) == {"formal", "terse", "hinglish"}, intent
            assert len(styles["hinglish"]) >= 6, intent
            assert len(templates.SUBJECTS[intent]) >= 10, intent
            assert templates.SUBJECT_ONLY[intent], intent
    kinds = other.BULK_KINDS
    assert {"news", "cold_cn", "cold_in", "service", "fair", "webinar", "portal", "phish"} <= set(
        kinds
    )
    combos = 0
    for table, *_ in kinds.values():
        pitches = table.get("pitches", table.get("offers"))
        n = len(table["subjects"]) * len(table["openers"]) * len(pitches) * len(table["ctas"])
        combos += n * len(table.get("intros", (1,)))
        assert len(table["subjects"]) >= 3 and len(pitches) >= 3
    assert combos > 10_000
    ooo = len(other.OOO_OPENERS) * len(other.OOO_ABSENCE) * len(other.OOO_ALT)
    assert ooo >= 200
    for table in (other.TICKET_BODIES, other.AP_BODIES, other.NOREPLY_BODIES, other.MOVED_BODIES):
        assert len(table) >= 3


def test_other_intents_have_many_skeletons(mails: list[Mail]) -> None:
    subjects: dict[str, set[str]] = defaultdict(set)
    bodies: dict[str, set[str]] = defaultdict(set)
    for m in mails:
        subjects[m.intent].add(skeleton(m.subject, m.truth["entities"]))
        bodies[m.intent].add(skeleton(m.body, m.truth["entities"])[:50])
    assert len(subjects["newsletter_spam"]) >= 30
    assert len(bodies["newsletter_spam"]) >= 40
    assert len(subjects["auto_reply"]) >= 20
    assert len(bodies["auto_reply"]) >= 18
    counts = Counter(m.intent for m in mails)
    for intent in ERP + ("price_enquiry", "sample_request"):
        assert len(bodies[intent]) >= min(20, 0.6 * counts[intent]), intent


def test_spam_and_auto_reply_kinds_are_all_present(mails: list[Mail]) -> None:
    spam = "\n".join(m.subject + "\n" + m.body for m in mails if m.intent == "newsletter_spam")
    markers = (
        r"\busd\b",  # exporters' cold pitches
        r"manufacturer|exporter",
        r"\bexpo\b|exhibition",  # trade fairs
        r"webinar",
        r"buyer",  # portal lead alerts
        r"verify|password|mailbox",  # phishing
        r"\bloan\b|\bseo\b|website|gst return",
        r"unsubscribe",
    )
    found = [marker for marker in markers if re.search(marker, spam.lower())]
    assert len(found) >= len(markers) - 1, found
    auto = "\n".join(m.subject + "\n" + m.body for m in mails if m.intent == "auto_reply")
    markers = (
        r"out of office|out of the office",
        r"ticket|request #|case |reference number",  # helpdesk acknowledgements
        r"not monitored|unmonitored|do not reply",
        r"^read( receipt)?: ",  # read receipts
        r"\bleave\b",
        r"changed|moved on|no longer in use|new email",  # moved to a new address
        r"delivered|relayed|could not be delivered",
        "|".join(name.lower() for name, *_ in other.HOLIDAYS),
        r"invoice .*inv[/-]25-26|accounts payable|vendor portal|supplier portal",
    )
    found = [marker for marker in markers if re.search(marker, auto.lower(), re.MULTILINE)]
    assert len(found) >= len(markers) - 2, found
    # header-less ones too: the text, not only the headers, says what they are
    autos = [m for m in mails if m.intent == "auto_reply"]
    assert any(m.msg["Auto-Submitted"] is None for m in autos)
    assert any(m.msg["List-Unsubscribe"] is None for m in mails if m.intent == "newsletter_spam")
    # a price in US dollars is not a PRICE (PRICE is rupees)
    for m in mails:
        for e in m.truth["entities"]:
            if e["label"] == "PRICE":
                assert "USD" not in e["text"], e


def test_order_status_chasers(mails: list[Mail]) -> None:
    chasers = [m for m in mails if m.intent == "order_status" and m.inbound]
    po_only = [m for m in chasers if "PO_NO" in m.labels and "ORDER_NO" not in m.labels]
    so_only = [m for m in chasers if "ORDER_NO" in m.labels and "PO_NO" not in m.labels]
    assert len(po_only) >= 5 and len(so_only) >= 5
    text = "\n".join(m.subject + "\n" + m.body for m in chasers).lower()
    for phrase in (
        r"\blr\b",
        r"vehicle|gaadi",
        r"e-?way bill",
        r"reminder",
        r"balance|baaki|aadha|part of the|part material|pending quantity",  # partial deliveries
        r"dispatch",
        r"delivery date|eta\b|reach",
    ):
        assert re.search(phrase, text), phrase


def test_hinglish_and_chat_noise_in_every_erp_intent(mails: list[Mail]) -> None:
    total = 0
    for intent in ERP:
        inbound = [m for m in mails if m.intent == intent and m.inbound]
        hinglish = [m for m in inbound if len(HINGLISH_RE.findall(m.subject + " " + m.body)) >= 2]
        assert hinglish, intent
        total += len(hinglish)
    assert total >= 25
    text = "\n".join(m.body for m in mails if m.inbound)
    abbreviations = Counter(
        w for w in re.findall(r"\b(pls|plz|tmrw|qty|amt|pmt|rcvd|recd|dt|asap|ur)\b", text)
    )
    assert len(abbreviations) >= 6, abbreviations
    assert re.search(r"\b(ji|bhai|kripya|jaldi|abhi tak|kal tak|bhugtan|paisa)\b", text)


def test_mail_shapes_and_wrappers(mails: list[Mail]) -> None:
    customer = [m for m in mails if m.inbound and m.intent not in ("newsletter_spam", "auto_reply")]
    customer = [m for m in customer if m.intent != "tender_notice"]
    # the subject says it all: an empty body, or only "Sent from my iPhone" and a name
    subject_only = [m for m in customer if len(m.body.split()) <= 4]
    assert len(subject_only) >= 8
    assert any(not m.body.strip() for m in subject_only)
    one_line = [m for m in customer if 0 < len(m.body.split()) <= 12]
    assert len(one_line) >= 20
    long_ones = [m for m in customer if len(m.body.split()) >= 80]
    assert len(long_ones) >= 10
    forwards = [m for m in customer if m.subject.startswith(("Fwd:", "Fw:", "FW:"))]
    assert len({skeleton(m.body.split("\n\n")[0], []) for m in forwards}) >= 6
    # replies typed on top of an earlier mail about something else: the new text sets the label
    on_top = [
        m
        for m in customer
        if m.intent not in ("price_enquiry",)
        and re.match(r"(?i)re: (quotation for|our offer|price list)", m.subject)
    ]
    assert len(on_top) >= 3
    assert any(HISTORY_RE.search(m.msg.get_body(("plain", "html")).get_content()) for m in on_top)
    vague = {"urgent", "reg.", "request", "follow up", "query", "important", ""}
    assert sum(m.subject.strip().lower() in vague for m in customer) >= 5


def test_entity_truth_still_exact(world: Path, mails: list[Mail]) -> None:
    orders = {o["doc_no"] for o in load_jsonl(world / "sales_orders.jsonl")}
    invoices = {i["doc_no"] for i in load_jsonl(world / "invoices.jsonl")}
    names = {p.name for p in PRODUCTS}
    checked = 0
    for m in mails:
        visible = m.subject + "\n" + m.body
        listed = {(e["label"], e["text"]) for e in m.truth["entities"]}
        assert len(listed) == len(m.truth["entities"])
        for e in m.truth["entities"]:
            assert e["text"] in visible, (m.truth["file"], e)
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
        for label, rx in IDENTIFIERS.items():
            for hit in rx.finditer(visible):
                assert (label, hit.group(0)) in listed, (m.truth["file"], label, hit.group(0))
                checked += 1
    assert checked > 200


def test_stream_mix_stays_realistic(mails: list[Mail]) -> None:
    streams = Counter(m.truth["stream"] for m in mails)
    n = len(mails)
    assert 0.03 < streams["tender"] / n < 0.08
    assert 0.11 < streams["other"] / n < 0.20
    intents = Counter(m.intent for m in mails)
    assert intents["auto_reply"] > 0.25 * intents["newsletter_spam"]


def test_variety_is_deterministic(world: Path, tmp_path: Path) -> None:
    again = tmp_path / "again"
    generate_world(again, seed=5, scale=0.3)
    for rel in ("mail/truth.jsonl", "mail/mbox/sales.mbox", "mail/mbox/accounts.mbox"):
        a = hashlib.sha256((world / rel).read_bytes()).hexdigest()
        b = hashlib.sha256((again / rel).read_bytes()).hexdigest()
        assert a == b, rel


def test_new_business_has_every_first_contact_family(world: Path, mails: list[Mail]) -> None:
    """First contacts come in every family, from senders outside the customer master, in
    every writing style, and carry the product's label."""
    master_domains = {c["domain"] for c in load_jsonl(world / "companies.jsonl")}
    master_emails = {c["email"] for c in load_jsonl(world / "contacts.jsonl")}
    first = [m for m in mails if m.intent == "new_business" and m.inbound]
    assert all(m.truth["stream"] == stream_of("new_business") for m in first)
    assert all("family" in m.truth for m in mails if m.intent == "new_business")
    assert not any("family" in m.truth for m in mails if m.intent != "new_business")
    by_family: dict[str, list[Mail]] = defaultdict(list)
    for m in first:
        by_family[m.truth["family"]].append(m)
    assert set(by_family) == set(nb.FAMILY_WEIGHTS)

    def text_of(family: str) -> str:
        return "\n".join(m.subject + "\n" + m.body for m in by_family[family]).lower()

    assert re.search(r"distribut|dealer|stockist", text_of("distributorship"))
    assert re.search(r"\bagent\b|agency|represent", text_of("agency"))
    assert re.search(r"tie.?up|partner|collaborat", text_of("tie_up"))
    vendor = text_of("vendor_registration")
    assert re.search(r"vendor|supplier", vendor) and re.search(r"udyam|msme", vendor)
    assert any("PAN" in m.labels for m in by_family["vendor_registration"])
    # first contacts come from outside the customer master, some from free mail addresses
    for family in ("distributorship", "agency", "vendor_registration", "unknown_company", "tie_up"):
        for m in by_family[family]:
            assert m.truth["company_id"] is None, m.truth["file"]
            address = str(m.msg["From"]).rsplit("<", 1)[-1].rstrip(">").lower()
            assert address not in master_emails, m.truth["file"]
            domain = address.rsplit("@", 1)[1]
            assert domain in FREE_MAIL or domain not in master_domains, m.truth["file"]
    assert any(
        str(m.msg["From"]).rstrip(">").endswith(("gmail.com", "yahoo.co.in", "rediffmail.com"))
        for m in by_family["unknown_company"]
    )
    # forwarded introductions: the writer resending, or a customer referring a friend's firm
    forwards = by_family["intro_forward"]
    assert all(m.subject.startswith(("Fwd:", "Fw:", "FW:")) for m in forwards)
    assert any(m.truth["company_id"] is None for m in forwards)
    assert any(m.truth["company_id"] is not None for m in forwards)
    # several writers' styles: formal letters, one-liners, Hinglish
    assert sum(len(m.body.split()) >= 40 for m in first) >= 5
    assert sum(0 < len(m.body.split()) <= 12 for m in first) >= 5
    assert sum(len(HINGLISH_RE.findall(m.subject + " " + m.body)) >= 2 for m in first) >= 5
    skeletons = {skeleton(m.body, m.truth["entities"])[:50] for m in first}
    assert len(skeletons) >= 0.6 * len(first)
