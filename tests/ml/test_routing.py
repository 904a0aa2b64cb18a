"""Routing rules (ml.routing) and their place in scoring: an admin's rule decides the stream
before the model, from the next scoring run on, and the prediction keeps the model's answer.

The scoring tests run the real path (``ml.warehouse.score_pending`` and the Dagster asset)
with the real encoder and a hand-set classifier head (training one takes minutes): every
email gets the same intent probabilities, so what differs between them is the rules.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import dagster as dg
import numpy as np
import psycopg
import pytest

from ml.classifier import EmailClassifier, Head
from ml.encoder import EMBEDDING_DIM
from ml.routing import (
    GENERIC_INTENT,
    RouteRule,
    Routes,
    RuleError,
    check_subject_pattern,
    load_routes,
    normalise_address,
    normalise_domain,
    route_prediction,
)
from ml.taxonomy import INTENTS, stream_of
from ml.warehouse import score_pending
from orchestration.defs.ml.assets import email_predictions
from orchestration.resources import WarehouseResource
from pebble import events
from pebble.settings import get_settings

VERSION = "0123456789abcdef"
#: The hand-set head's logits: crm/price_enquiry first, then erp's order_status.
LOGITS = {"price_enquiry": 3.0, "order_status": 2.0, "invoice_payment": 1.0}


# --- matching ------------------------------------------------------------------------------


def _routes() -> Routes:
    return Routes.from_rules(
        [
            RouteRule("subject", r"tender\s+no", "tender"),
            RouteRule("subject", "invoice", "erp"),
            RouteRule("domain", "acme.in", "crm"),
            RouteRule("domain", "bulk.acme.in", "other"),
            RouteRule("address", "Accounts@Acme.in", "erp"),
            RouteRule("mailbox", "tenders", "tender"),
        ]
    )


def _decides(sender: str | None, subject: str | None = "", mailbox: str | None = "sales"):
    rule = _routes().match(sender, subject, mailbox)
    return None if rule is None else rule.rule_id


def test_precedence_address_domain_subject_mailbox_then_the_model() -> None:
    # the address beats its domain and a matching subject
    assert _decides("Accounts <ACCOUNTS@acme.IN>", "Tender No 5", "tenders") == (
        "address:Accounts@Acme.in"
    )
    # the domain beats the subject and the mailbox
    assert _decides("buyer@acme.in", "Invoice 12", "tenders") == "domain:acme.in"
    # the subject beats the mailbox; the first subject rule (the newest) wins
    assert _decides("x@other.in", "Re: Tender no. 7 and invoice", "tenders") == (
        r"subject:tender\s+no"
    )
    assert _decides("x@other.in", "hello", "Tenders") == "mailbox:tenders"
    assert _decides("x@other.in", "hello", "sales") is None
    assert _decides(None, None, None) is None


def test_domains_match_sub_domains_and_the_longest_wins() -> None:
    assert _decides("a@mail.acme.in") == "domain:acme.in"
    assert _decides("a@x.y.acme.in") == "domain:acme.in"
    assert _decides("a@news.bulk.acme.in") == "domain:bulk.acme.in"
    assert _decides("a@notacme.in") is None
    assert _decides("a@acme.in.evil.com") is None
    assert _decides("not an address") is None


def test_addresses_and_subjects_ignore_case() -> None:
    assert _decides('"Accounts Team" <accounts@ACME.in>') == "address:Accounts@Acme.in"
    assert _decides("x@other.in", "PAYMENT OF INVOICE") == "subject:invoice"
    assert _decides("x@other.in", "TENDER    NO 9") == r"subject:tender\s+no"
    assert _decides("x@other.in", "tenderno") is None


def test_patterns_are_normalised_or_refused() -> None:
    assert normalise_domain(" @Mail.ACME.in. ") == "mail.acme.in"
    assert normalise_address("Ravi <Ravi@Acme.IN>") == "ravi@acme.in"
    for bad in ("acme", "acme..in", "a b.in", "-acme.in"):
        with pytest.raises(RuleError):
            normalise_domain(bad)
    for bad in ("acme.in", "a@b@c.in", ""):
        with pytest.raises(RuleError):
            normalise_address(bad)


def test_subject_patterns_are_the_subset_python_and_postgresql_read_alike() -> None:
    for good in (r"invoice\s+\d+", r"^re:\s*po[-/]\d{4,}", r"tender\.|gem", "(?:a|b)c", "[a-z]+",
                 r"\{draft\}", "x{2}"):  # fmt: skip
        assert check_subject_pattern(f" {good} ") == good
    # \b is a word boundary in Python and a backspace in PostgreSQL, {,3} a repetition in
    # Python and text in PostgreSQL; \y, \A, named groups, inline flags, back references and
    # POSIX classes exist in one of them only
    for bad in (r"\binvoice\b", r"\yinvoice", r"\Ainvoice", "(?P<n>x)", "(?i)x", r"(a)\1",
                "[[:alpha:]]", "a{,3}", "x{", "(", "x" * 201, "  "):  # fmt: skip
        with pytest.raises(RuleError):
            check_subject_pattern(bad)


def test_a_rule_whose_pattern_no_longer_passes_is_skipped() -> None:
    routes = Routes.from_rules(
        [RouteRule("subject", r"\bpo\b", "erp"), RouteRule("domain", "acme.in", "nowhere")]
    )
    assert len(routes) == 0


# --- applying a rule to a prediction ------------------------------------------------------


def _scored(stream: str = "crm", intent: str = "price_enquiry") -> dict:
    return {
        "stream": stream,
        "intent": intent,
        "confidence": 0.5,
        "stream_confidence": 0.8,
        "requires_review": True,
    }


def test_without_a_rule_the_model_decides_and_says_so() -> None:
    out = route_prediction(_scored(), None, threshold=0.6)
    assert (out["stream"], out["intent"], out["confidence"], out["routed_by"]) == (
        "crm", "price_enquiry", 0.5, None,
    )  # fmt: skip
    assert (out["model_stream"], out["model_intent"], out["model_confidence"]) == (
        "crm", "price_enquiry", 0.5,
    )  # fmt: skip


def test_a_forced_stream_takes_the_model_s_best_intent_within_it() -> None:
    scores = dict.fromkeys(INTENTS, 0.01) | {"price_enquiry": 0.6, "coa_request": 0.2,
                                             "order_status": 0.1}  # fmt: skip
    rule = RouteRule("domain", "acme.in", "erp")
    out = route_prediction(_scored(), rule, scores, threshold=0.6)
    assert (out["stream"], out["intent"], out["routed_by"]) == ("erp", "coa_request", rule.rule_id)
    assert stream_of(out["intent"]) == out["stream"]
    # the intent's probability given the stream: 0.2 / (0.2 + 0.1 + 3 * 0.01)
    assert out["confidence"] == pytest.approx(0.2 / 0.33, abs=1e-4)
    assert out["stream_confidence"] == 1.0 and out["requires_review"] is False
    assert (out["model_stream"], out["model_intent"], out["model_confidence"]) == (
        "crm", "price_enquiry", 0.5,
    )  # fmt: skip


def test_without_scores_the_stream_s_generic_intent_asks_for_review() -> None:
    out = route_prediction(_scored(), RouteRule("subject", "x", "tender"), threshold=0.6)
    assert (out["stream"], out["intent"]) == ("tender", GENERIC_INTENT["tender"])
    assert out["confidence"] == 0.0 and out["requires_review"] is True
    # a rule agreeing with the model keeps its intent: P(intent | stream) = 0.5 / 0.8
    same = route_prediction(_scored(), RouteRule("address", "a@b.in", "crm"), threshold=0.6)
    assert (same["intent"], same["confidence"], same["requires_review"]) == (
        "price_enquiry", 0.625, False,
    )  # fmt: skip
    # another reason for review (a lead filed under other) is kept
    kept = route_prediction(_scored(), RouteRule("address", "a@b.in", "crm"), threshold=0.6,
                            review=True)  # fmt: skip
    assert kept["requires_review"] is True
    assert set(GENERIC_INTENT) == {"crm", "erp", "tender", "other"}
    assert all(stream_of(i) == s for s, i in GENERIC_INTENT.items())


# --- scoring with the rules in the warehouse ------------------------------------------------


@pytest.fixture
def classifier(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> EmailClassifier:
    """A classifier in PEBBLE_HOME's model store: the real encoder, a hand-set head."""
    home = tmp_path / "home"
    path = home / "models" / "classifier" / VERSION
    path.mkdir(parents=True)
    (path / "labels.json").write_text(json.dumps({"intents": list(INTENTS)}))
    (path / "encoder.json").write_text(json.dumps({"max_length": 64, "int8": True}))
    (path / "metrics.json").write_text("{}")
    intercept = np.array([LOGITS.get(i, 0.0) for i in INTENTS], dtype=np.float32)
    Head(INTENTS, np.zeros((len(INTENTS), EMBEDDING_DIM), np.float32), intercept).save(
        path / "head.npz"
    )
    (home / "models" / "classifier" / "latest").write_text(VERSION + "\n")
    monkeypatch.setenv("PEBBLE_HOME", str(home))
    get_settings.cache_clear()
    return EmailClassifier(path)


def _email(conn: psycopg.Connection, sender: str, subject: str, mailbox: str) -> str:
    key = uuid.uuid4().hex
    conn.execute(
        "INSERT INTO raw.emails (email_key, mailbox, source_kind, source, subject, from_addr,"
        " thread_key, subject_key, body_text, size_bytes)"
        " VALUES (%s, %s, 'eml', 'test', %s, %s, %s, %s, 'Please see below.', 100)",
        (key, mailbox, subject, sender, key, subject.lower()),
    )
    return key


def _record(conn: psycopg.Connection, event_type: str, entity: str | None, payload: dict) -> None:
    event = events.new_event(event_type, entity, actor="asha", payload=payload)
    events.append(conn, event, events.current_version(conn, event.entity_type, event.entity_id))


def _prediction(conn: psycopg.Connection, key: str) -> tuple:
    return conn.execute(
        "SELECT stream, intent, routed_by, model_stream, model_intent, requires_review"
        " FROM ml.email_predictions WHERE email_key = %s",
        (key,),
    ).fetchone()


def test_rules_recorded_as_events_route_the_next_scored_mail(
    warehouse: psycopg.Connection, classifier: EmailClassifier, pebble_env: str
) -> None:
    conn = warehouse
    plain = _email(conn, "buyer@acme.in", "Rate for caustic soda", "sales")
    portal = _email(conn, "noreply@mail.tenderportal.gov.in", "Corrigendum", "sales")
    invoice = _email(conn, "someone@other.in", "Invoice 1234 overdue", "sales")
    _record(conn, "RouteRuleChanged", None,
            {"kind": "domain", "pattern": "tenderportal.gov.in", "stream": "tender",
             "reason": "the GeM portal"})  # fmt: skip
    _record(conn, "RouteRuleChanged", None,
            {"kind": "subject", "pattern": r"invoice\s+\d+", "stream": "erp",
             "reason": "accounts"})  # fmt: skip
    assert len(load_routes(conn)) == 2

    said: list[str] = []
    report = score_pending(conn, classifier, None, products=[], log=said.append)
    assert report.scored == 3 and any("2 routing rules" in line for line in said)
    # no rule: the model's crm / price_enquiry (the hand-set head's first choice)
    assert _prediction(conn, plain)[:5] == ("crm", "price_enquiry", None, "crm", "price_enquiry")
    # a sub-domain of a domain rule; the model's answer kept beside the rule's
    assert _prediction(conn, portal)[:5] == (
        "tender", "tender_notice", "domain:tenderportal.gov.in", "crm", "price_enquiry",
    )  # fmt: skip
    # a subject rule; the intent is the model's best within erp
    assert _prediction(conn, invoice)[:5] == (
        "erp", "order_status", r"subject:invoice\s+\d+", "crm", "price_enquiry",
    )  # fmt: skip

    # rules changed after the run: an address rule, a mailbox routed, the domain rule removed
    _record(conn, "RouteRuleChanged", None,
            {"kind": "address", "pattern": "buyer@acme.in", "stream": "other",
             "reason": "a mailing list"})  # fmt: skip
    _record(conn, "RouteChanged", "accounts", {"stream": "erp", "reason": "accounts is erp"})
    _record(conn, "RouteRuleChanged", None,
            {"kind": "domain", "pattern": "tenderportal.gov.in", "stream": None,
             "reason": "wrong"})  # fmt: skip
    again = _email(conn, "Buyer <BUYER@Acme.in>", "Rate for caustic soda", "sales")
    accounts = _email(conn, "z@z.in", "hello", "accounts")
    portal_again = _email(conn, "noreply@mail.tenderportal.gov.in", "Corrigendum 2", "sales")

    # the next run is the Dagster asset itself
    result = dg.materialize(
        [email_predictions], resources={"warehouse": WarehouseResource(database_url=pebble_env)}
    )
    assert result.success
    # already scored mail keeps its stream; the new mail follows the rules now in force
    assert _prediction(conn, plain)[:3] == ("crm", "price_enquiry", None)
    assert _prediction(conn, portal)[2] == "domain:tenderportal.gov.in"
    assert _prediction(conn, again)[:3] == ("other", "newsletter_spam", "address:buyer@acme.in")
    assert _prediction(conn, accounts)[:3] == ("erp", "order_status", "mailbox:accounts")
    assert _prediction(conn, portal_again)[:3] == ("crm", "price_enquiry", None)
