"""Routing rules: the streams an admin fixed, applied to scored mail before the model's say.

An admin routes mail in the app (``app/pages/router.py``); each change is an event
(``RouteRuleChanged`` for a sender rule, ``RouteChanged`` for a mailbox), folded by the
views ``ops.route_rules`` and ``ops.mailbox_routes``. The scoring run
(:func:`ml.warehouse.score_pending`) reads them once per run (:func:`load_routes`) and
applies them to every email it scores (:func:`route_prediction`).

Which rule decides, first match wins:

1. **address**: the sender's address, case-insensitive (``buyer@acme.in``);
2. **domain**: the sender's domain or any sub-domain of it (``acme.in`` matches
   ``acme.in`` and ``mail.acme.in``, not ``notacme.in``); the longest matching domain wins;
3. **subject**: a regular expression searched in the subject, case-insensitive; of several
   that match, the most recently changed wins;
4. **mailbox**: the stream an admin set for the mailbox the mail arrived in (a
   ``RouteChanged`` event). The seeded ``raw.mailbox_routes`` rows are *not* rules: they
   only give mail the model has not scored yet a stream (``marts.email_cards``), so the
   model still tells a sales enquiry from an invoice in a shared inbox until an admin says
   "everything sent to tenders@ is a tender";
5. the model.

When a rule decides, the prediction's ``stream`` is the rule's, ``routed_by`` names the rule
(``address:buyer@acme.in``, ``mailbox:tenders``...), and the model's own stream, intent and
confidence stay in ``model_stream``, ``model_intent``, ``model_confidence``. The intent
stays one of the stream's (``ml.taxonomy``): the model's if it belongs to the stream, else
the model's most probable intent within the stream (from its intent probabilities), else
the stream's :data:`GENERIC_INTENT`. ``stream_confidence`` is 1 (a person decided the
stream); ``confidence`` is the model's probability of the intent given that stream (0 when
the intent is the generic fallback, which then asks for review).

Rules change nothing already scored: they apply from the next scoring run on, to mail
without a prediction from the model in service (new mail, and all mail again after the
model is retrained). The router page previews which cards a rule would have matched.

Subject patterns must mean the same to Python (scoring) and PostgreSQL (the preview,
``~*``): :func:`check_subject_pattern` admits the subset both read alike.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from email.utils import parseaddr
from typing import Any, Literal

from ml.taxonomy import INTENT_STREAM, INTENTS, STREAMS

RuleKind = Literal["address", "domain", "subject", "mailbox"]
#: Precedence of the rule kinds, strongest first (the model comes after all of them).
PRECEDENCE: tuple[RuleKind, ...] = ("address", "domain", "subject", "mailbox")

#: The intent a forced stream gets when the model's intent is not one of the stream's and
#: its intent probabilities are not at hand: each stream's first intent in the taxonomy's
#: class order (the taxonomy has no "generic" intent of its own).
GENERIC_INTENT: dict[str, str] = {
    stream: next(i for i in INTENTS if INTENT_STREAM[i] == stream) for stream in STREAMS
}
#: Longest subject pattern accepted (a pattern is searched in every scored subject).
MAX_SUBJECT_PATTERN = 200

_DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{2,63}$")
_ADDRESS = re.compile(r"^[^@\s]+@[^@\s]+$")
# Escapes that mean the same in Python's re and PostgreSQL's ARE: the class shorthands, and
# a backslash before punctuation (a literal). \b is a word boundary in Python but a
# backspace in PostgreSQL, \A, \Z, \m, \y... exist in one of them only: refused.
_SAFE_ESCAPE = re.compile(r"\\(?:[dDsSwW]|[^0-9A-Za-z\s])")
# Groups both read alike: (?: ... ), lookahead (?= ... ) and (?! ... ).
_SAFE_GROUP = re.compile(r"\(\?[:=!]")
# A repetition both read as one: {m}, {m,}, {m,n}.
_BOUND = re.compile(r"\{\d+(?:,\d*)?\}")


class RuleError(ValueError):
    """A rule pattern that cannot be applied (says what is wrong)."""


def normalise_domain(text: str) -> str:
    """A domain rule's pattern: lower case, without a leading ``@`` or ``.``; raises
    :class:`RuleError` unless it looks like a domain (``acme.in``, ``mail.acme.co.in``)."""
    domain = text.strip().lower().lstrip("@.").rstrip(".")
    if not _DOMAIN.match(domain):
        raise RuleError(f"{text.strip()!r} is not a domain (e.g. acme.in)")
    return domain


def normalise_address(text: str) -> str:
    """An address rule's pattern: the bare address in lower case (``Name <a@b.in>`` gives
    ``a@b.in``); raises :class:`RuleError` unless it is one address."""
    address = parseaddr(text.strip())[1].strip().lower()
    if not _ADDRESS.match(address):
        raise RuleError(f"{text.strip()!r} is not an email address (e.g. buyer@acme.in)")
    return address


def check_subject_pattern(pattern: str) -> str:
    """The pattern, stripped, if Python and PostgreSQL read it alike; else :class:`RuleError`.

    Admitted: literals, ``. ^ $ | * + ? {m,n}`` (and their lazy forms), ``( )``, ``(?: )``,
    lookahead ``(?= )``/``(?! )``, bracket sets ``[...]`` without POSIX classes, and the
    escapes ``\\d \\D \\s \\S \\w \\W`` and ``\\`` before punctuation. Refused: other
    escapes (``\\b`` is a word boundary in Python and a backspace in PostgreSQL), back
    references, named groups, inline flags, ``[[:alpha:]]``, and a ``{`` that does not
    start a repetition ``{m}``/``{m,}``/``{m,n}`` (``{,5}`` repeats in Python, is text in
    PostgreSQL). Case never matters (Python's
    IGNORECASE, PostgreSQL's ``~*``). The caller also compiles it in PostgreSQL."""
    pattern = pattern.strip()
    if not pattern:
        raise RuleError("the subject pattern is empty")
    if len(pattern) > MAX_SUBJECT_PATTERN:
        raise RuleError(f"the subject pattern is longer than {MAX_SUBJECT_PATTERN} characters")
    position = 0
    while position < len(pattern):
        char = pattern[position]
        if char == "\\":
            escape = pattern[position : position + 2]
            if not _SAFE_ESCAPE.fullmatch(escape):
                raise RuleError(
                    f"the escape {escape!r} means different things in Python and PostgreSQL "
                    "(or nothing in one of them): use \\d \\s \\w, their capitals, or a "
                    "backslash before punctuation"
                )
            position += 2
            continue
        if char == "(" and pattern.startswith("(?", position):
            if not _SAFE_GROUP.match(pattern, position):
                raise RuleError(
                    f"the group {pattern[position : position + 3]!r}... is not read alike by "
                    "Python and PostgreSQL: use (?: ), (?= ) or (?! )"
                )
        if char == "{" and not _BOUND.match(pattern, position):
            raise RuleError(
                "a { must start a repetition such as {2} or {2,5} (Python reads {,5} as a "
                "repetition, PostgreSQL as text): write \\{ for the character"
            )
        position += 1
    if "[:" in pattern or "[=" in pattern or "[." in pattern:
        raise RuleError("POSIX bracket classes such as [[:alpha:]] are not supported")
    try:
        re.compile(pattern, re.IGNORECASE)
    except re.error as exc:
        raise RuleError(f"the subject pattern is not a regular expression: {exc}") from None
    return pattern


@dataclass(frozen=True)
class RouteRule:
    """One rule: mail matching ``pattern`` (of ``kind``) goes to ``stream``."""

    kind: RuleKind
    pattern: str
    stream: str

    @property
    def rule_id(self) -> str:
        """How a prediction names the rule that decided it: ``<kind>:<pattern>`` (the
        entity id of its events; a mailbox rule's is the mailbox's name)."""
        return f"{self.kind}:{self.pattern}"


def sender_parts(sender: str | None) -> tuple[str | None, str | None]:
    """The sender's bare address and domain, in lower case (None when there is none)."""
    address = parseaddr(sender or "")[1].strip().lower()
    if "@" not in address:
        return None, None
    return address, address.rsplit("@", 1)[1].rstrip(".") or None


@dataclass(frozen=True)
class Routes:
    """The rules in force. Build with :meth:`from_rules` or :func:`load_routes`."""

    addresses: Mapping[str, RouteRule] = field(default_factory=dict)
    domains: Mapping[str, RouteRule] = field(default_factory=dict)
    #: Strongest first (the most recently changed), each with its compiled pattern.
    subjects: tuple[tuple[re.Pattern[str], RouteRule], ...] = ()
    mailboxes: Mapping[str, RouteRule] = field(default_factory=dict)

    @classmethod
    def from_rules(cls, rules: Iterable[RouteRule]) -> Routes:
        """Rules of any kinds; subject rules keep their order (put the newest first). A rule
        whose pattern no longer passes the checks is skipped (it could not be applied the
        same way the preview showed it)."""
        addresses: dict[str, RouteRule] = {}
        domains: dict[str, RouteRule] = {}
        subjects: list[tuple[re.Pattern[str], RouteRule]] = []
        mailboxes: dict[str, RouteRule] = {}
        for rule in rules:
            if rule.stream not in STREAMS:
                continue
            try:
                if rule.kind == "address":
                    addresses.setdefault(normalise_address(rule.pattern), rule)
                elif rule.kind == "domain":
                    domains.setdefault(normalise_domain(rule.pattern), rule)
                elif rule.kind == "subject":
                    compiled = re.compile(check_subject_pattern(rule.pattern), re.IGNORECASE)
                    subjects.append((compiled, rule))
                elif rule.kind == "mailbox":
                    mailboxes.setdefault(rule.pattern.strip().lower(), rule)
            except RuleError:
                continue
        return cls(addresses, domains, tuple(subjects), mailboxes)

    def __len__(self) -> int:
        return len(self.addresses) + len(self.domains) + len(self.subjects) + len(self.mailboxes)

    def match(
        self, sender: str | None, subject: str | None, mailbox: str | None
    ) -> RouteRule | None:
        """The rule that decides an email's stream, or None (the model decides)."""
        address, domain = sender_parts(sender)
        if address is not None and address in self.addresses:
            return self.addresses[address]
        if domain is not None:
            labels = domain.split(".")
            for start in range(len(labels) - 1):  # the longest suffix first
                rule = self.domains.get(".".join(labels[start:]))
                if rule is not None:
                    return rule
        for compiled, rule in self.subjects:
            if compiled.search(subject or ""):
                return rule
        if mailbox:
            return self.mailboxes.get(mailbox.strip().lower())
        return None


_RULES = """
    SELECT kind, pattern, stream FROM ops.route_rules
    ORDER BY updated_at DESC, kind, pattern
"""
_MAILBOXES = "SELECT mailbox, default_stream FROM ops.mailbox_routes ORDER BY mailbox"


def load_routes(conn: Any) -> Routes:
    """The rules in force now: ``ops.route_rules`` and the mailbox streams admins set
    (``ops.mailbox_routes``, the ``RouteChanged`` events)."""
    rules = [RouteRule(kind, pattern, stream) for kind, pattern, stream in conn.execute(_RULES)]
    rules += [RouteRule("mailbox", mailbox, stream) for mailbox, stream in conn.execute(_MAILBOXES)]
    return Routes.from_rules(rules)


def route_prediction(
    prediction: dict[str, Any],
    rule: RouteRule | None,
    intent_scores: Mapping[str, float] | None = None,
    *,
    threshold: float,
    review: bool | None = None,
) -> dict[str, Any]:
    """Apply ``rule`` (None: the model decides) to one scored email, in place; returns it.

    ``prediction`` holds the model's ``stream``, ``intent``, ``confidence``,
    ``stream_confidence`` and ``requires_review``. Afterwards it also holds ``routed_by``
    (the rule's id, or None) and ``model_stream``, ``model_intent``, ``model_confidence``
    (the model's own answer, always). ``intent_scores`` are the model's calibrated intent
    probabilities (intent -> probability), used to pick the intent within a forced stream.
    A routed email needs review when the intent's confidence is below ``threshold`` or
    when ``review`` (the caller's other reasons, e.g. a lead filed under ``other``) says so.
    """
    model_stream, model_intent = prediction["stream"], prediction["intent"]
    model_confidence = float(prediction["confidence"])
    prediction.update(
        routed_by=None,
        model_stream=model_stream,
        model_intent=model_intent,
        model_confidence=model_confidence,
    )
    if rule is None:
        return prediction
    stream = rule.stream
    candidates = [i for i in INTENTS if INTENT_STREAM[i] == stream]
    scores = {
        i: float(intent_scores[i]) for i in candidates if intent_scores and i in intent_scores
    }
    if scores:
        intent = (
            model_intent
            if model_intent in scores and model_stream == stream
            else max(candidates, key=lambda i: (scores.get(i, -1.0), -candidates.index(i)))
        )
        total = sum(scores.values())
        confidence = scores.get(intent, 0.0) / total if total > 0 else 0.0
    elif INTENT_STREAM.get(model_intent) == stream:
        intent = model_intent
        stream_confidence = float(prediction.get("stream_confidence") or 0.0)
        confidence = min(1.0, model_confidence / stream_confidence) if stream_confidence else 0.0
    else:
        intent, confidence = GENERIC_INTENT[stream], 0.0
    confidence = round(confidence, 4)
    prediction.update(
        stream=stream,
        intent=intent,
        confidence=confidence,
        stream_confidence=1.0,
        requires_review=confidence < threshold or bool(review),
        routed_by=rule.rule_id,
    )
    return prediction
