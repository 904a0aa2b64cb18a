"""What each event type's payload may hold: one pydantic model per event type, unknown
fields refused (a typo is an error, not a silently lost value). :data:`pebble.events.PAYLOADS`
registers them by event type, and :func:`pebble.events.new_event` validates every payload
against its model before anything is appended.

People's card, prelead, company, route, user and QC actions first, then the tender decision,
the pipeline's stages, deals and tasks.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from ml.taxonomy import STREAMS, check_label
from pebble.roles import ROLES

#: Longest reply body kept in a ReplyDrafted event.
MAX_REPLY_CHARS = 100_000

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]
Key = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=512)]
Status = Literal["new", "in_progress", "waiting_on_customer", "quoted", "done", "spam"]


class _Payload(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CardMoved(_Payload):
    """A card dragged to another column. ``from_status`` is what the person saw (optional)."""

    to: Status
    from_status: Status | None = None


class CardAssigned(_Payload):
    """A card given to someone; ``assignee`` None takes it back (unassigned)."""

    assignee: (
        Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
        | None
    )


class CardReclassified(_Payload):
    """A person's correction of the model's stream and intent: what ``ml`` trains on next.

    ``email_key`` names the message corrected; without it the correction is the thread's."""

    stream: str
    intent: str
    email_key: Key | None = None
    previous_stream: Key | None = None
    previous_intent: Key | None = None
    note: Text | None = None

    @model_validator(mode="after")
    def _known_labels(self) -> CardReclassified:
        check_label(self.stream, self.intent)
        return self


class ReplyDrafted(_Payload):
    """A reply draft written (or accepted) for one message of the card's thread."""

    email_key: Key
    draft_id: Key
    body: Annotated[str, StringConstraints(min_length=1, max_length=MAX_REPLY_CHARS)]
    requires_review: bool = True


class ReplySent(_Payload):
    """A reply sent; ``message_id`` is the sent message's Message-ID when known."""

    email_key: Key
    draft_id: Key | None = None
    message_id: Key | None = None


class _PreleadRow(_Payload):
    """A prelead row is keyed by its batch and spreadsheet row number."""

    batch: Key
    row_no: Annotated[int, Field(ge=1)]


class PreleadApproved(_PreleadRow):
    reason: Text | None = None


class PreleadRejected(_PreleadRow):
    reason: Text


class PreleadMerged(_PreleadRow):
    """The lead is a company we know: merged into ``into_company_key``."""

    into_company_key: Key
    reason: Text | None = None


class CompanyMerged(_Payload):
    """The entity's company key is the same legal entity as ``into_company_key``."""

    into_company_key: Key
    reason: Text | None = None


class SourceRecord(_Payload):
    system: Literal["tally", "focus", "mail", "prelead"]
    source_id: Key


class CompanySplit(_Payload):
    """Undo any merge of the company, and detach ``sources`` (records that the rules put in
    it wrongly) so they resolve on their own."""

    sources: list[SourceRecord] = Field(default_factory=list, max_length=1000)
    reason: Text | None = None


def _known_stream(stream: str | None) -> str | None:
    if stream is not None and stream not in STREAMS:
        raise ValueError(f"unknown stream {stream!r}; expected one of {', '.join(STREAMS)}")
    return stream


class RouteChanged(_Payload):
    """The stream a mailbox's mail defaults to, and why it changed."""

    stream: str
    reason: Text | None = None

    @model_validator(mode="after")
    def _known(self) -> RouteChanged:
        _known_stream(self.stream)
        return self


#: What a sender rule matches: the sender's domain, the sender's address, or a regular
#: expression searched in the subject (case-insensitive).
RuleKind = Literal["domain", "address", "subject"]


class RouteRuleChanged(_Payload):
    """A sender rule set (``stream``) or removed (``stream`` None). Rules apply before the
    model, on the next scoring run; the entity id is
    :func:`pebble.events.route_rule_id`."""

    kind: RuleKind
    pattern: Key
    stream: str | None
    reason: Text | None = None

    @model_validator(mode="after")
    def _known(self) -> RouteRuleChanged:
        _known_stream(self.stream)
        if self.kind == "subject":
            try:
                re.compile(self.pattern)
            except re.error as exc:
                raise ValueError(
                    f"the subject pattern is not a regular expression: {exc}"
                ) from None
        return self


Role = Literal["marketing", "sales", "ops", "qc", "manager", "admin"]
if tuple(Role.__args__) != ROLES:  # type: ignore[attr-defined]
    raise RuntimeError("the event payloads' roles must be pebble.roles.ROLES")


class UserAdded(_Payload):
    """A local account created (``pebble user add``); the hash lives in ``auth.users``."""

    role: Role
    display_name: Text | None = None


class UserRoleChanged(_Payload):
    role: Role
    previous_role: Role | None = None


class UserPasswordReset(_Payload):
    """A password set again (``pebble user reset``); never the password or its hash."""

    reason: Text | None = None


class SignedIn(_Payload):
    method: Literal["password", "oidc"]
    role: Role


class SignedOut(_Payload):
    reason: Literal["user", "expired"]


class SignInFailed(_Payload):
    """A refused sign-in under this user name (which may not exist)."""

    reason: Literal["bad_password", "unknown_user", "rate_limited", "disabled"]


#: The kinds of alert in ``marts.qc_alerts``; an alert's id starts with its kind and a colon.
QCAlertType = Literal["out_of_spec", "drift", "coa_pending"]


class QCAlertAcknowledged(_Payload):
    """QC has seen an alert of ``marts.qc_alerts`` (entity id: its ``alert_id``) and says
    what is done about it (``note``, required); the actor is who acknowledged it."""

    alert_type: QCAlertType
    note: Text
    batch_no: Key | None = None


class TenderDecided(_Payload):
    """Bid or no-bid on a tender (entity id: the tender's ``tender_id`` in ``marts.tenders``)."""

    decision: Literal["bid", "no_bid"]
    note: Text | None = None


#: A pipeline stage's name: lower-case words joined by underscores ("sample_sent").
StageName = Annotated[
    str, StringConstraints(strip_whitespace=True, pattern=r"^[a-z][a-z0-9_]{0,39}$")
]
#: Where every deal ends: the two closing stages, after a pipeline's open stages.
CLOSED_STAGES: tuple[str, ...] = ("won", "lost")


class PipelineConfigured(_Payload):
    """An admin's stages of a pipeline (entity id: the pipeline id, ``sales`` the default),
    open stages in order; ``won`` and ``lost`` always follow and are not listed."""

    name: Text
    stages: list[StageName] = Field(min_length=1, max_length=20)

    @model_validator(mode="after")
    def _distinct_open_stages(self) -> PipelineConfigured:
        if len(set(self.stages)) != len(self.stages):
            raise ValueError("stages must be distinct")
        closing = [s for s in self.stages if s in CLOSED_STAGES]
        if closing:
            raise ValueError(f"{', '.join(closing)}: won and lost close a deal, not a stage")
        return self


Money = Annotated[float, Field(ge=0, le=1e13, allow_inf_nan=False)]


class DealCreated(_Payload):
    """A deal made by hand (entity id: a new deal id). The event's ``company_key`` names the
    customer; ``thread_key`` the card it came from, if any."""

    title: Text
    stage: StageName
    pipeline: Key = "sales"
    value_inr: Money | None = None
    product: Text | None = None
    thread_key: Key | None = None
    owner: Key | None = None

    @model_validator(mode="after")
    def _open_stage(self) -> DealCreated:
        if self.stage in CLOSED_STAGES:
            raise ValueError("a deal is created in an open stage; close it with DealClosed")
        return self


class DealMoved(_Payload):
    """A deal moved to another open stage (a hand-made deal, or one the warehouse inferred,
    by its ``deal_key``). ``from_stage`` is what the person saw; ``value_inr`` revalues it."""

    to: StageName
    from_stage: StageName | None = None
    value_inr: Money | None = None

    @model_validator(mode="after")
    def _open_stage(self) -> DealMoved:
        if self.to in CLOSED_STAGES:
            raise ValueError("won and lost close a deal: use DealClosed")
        return self


class DealClosed(_Payload):
    """A deal won or lost, with why (required when lost)."""

    outcome: Literal["won", "lost"]
    reason: Text | None = None
    value_inr: Money | None = None

    @model_validator(mode="after")
    def _lost_says_why(self) -> DealClosed:
        if self.outcome == "lost" and not self.reason:
            raise ValueError("a lost deal needs a reason")
        return self


class TaskCreated(_Payload):
    """A task (entity id: a new task id) due on a day, for an owner, linked to what it is
    about. The event's ``company_key`` names the company when there is one."""

    title: Text
    due_on: date
    owner: Key
    linked_type: Literal["company", "contact", "card", "deal", "tender"] | None = None
    linked_id: Key | None = None
    note: Text | None = None

    @model_validator(mode="after")
    def _link_whole(self) -> TaskCreated:
        if (self.linked_type is None) != (self.linked_id is None):
            raise ValueError("linked_type and linked_id go together")
        return self


class TaskAssigned(_Payload):
    owner: Key


class TaskCompleted(_Payload):
    note: Text | None = None
