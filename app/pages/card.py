"""One card (?card=<card id>): the whole thread as plain text, attachments, the entities
found with their links, the classification, and the actions (assign, re-classify, move,
draft a reply, mark it sent).

Sales and ops act on the cards of their streams; a manager reads every card and has no
actions. A card outside the user's streams is refused exactly like a card that does not
exist. Every action appends one event with the card version this page showed (bound when
the page was drawn, in the button's callback), after the role check in ``app.card``; a
change by someone else in between is a conflict that names them. Queries and commands:
``app/card.py``. Email content is untrusted: shown with ``st.text`` and tables only.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

import streamlit as st

from app import card as cards
from app.auth import current_user, require_role
from app.company.links import company_link
from app.data import classification_line
from app.tasks import add_task_control
from ml.taxonomy import STREAMS
from pebble import events
from pebble.auth import NotAllowed
from pebble.settings import get_settings

TZ = ZoneInfo(get_settings().timezone)
FLASH = "card_flash"
PROPOSAL = "card_proposal"
DRAFT_BODY = "card_draft_body"
STATUS_WORDS = {s: s.replace("_", " ") for s in events.CARD_STATUSES}

user = require_role(*cards.PAGE_ROLES)


@st.cache_data(ttl=30, max_entries=64, show_spinner=False)
def _card(card_id: str):
    with cards.connect() as conn:
        return cards.fetch_card_row(conn, card_id)


@st.cache_data(ttl=30, max_entries=64, show_spinner=False)
def _details(thread_key: str):
    with cards.connect() as conn:
        thread = cards.fetch_thread(conn, thread_key)
        keys = cards.iter_email_keys(thread)
        return (
            thread,
            cards.fetch_attachments(conn, keys),
            cards.fetch_entities(conn, keys),
            cards.linked_companies(conn, keys),
        )


@st.cache_data(ttl=30, max_entries=64, show_spinner=False)
def _overview(company_key: str):
    with cards.connect() as conn:
        return cards.company_overview(conn, company_key)


@st.cache_data(ttl=30, show_spinner=False)
def _assignees() -> list[str]:
    with cards.connect() as conn:
        return cards.assignees(conn)


def _done(message: str) -> None:
    st.session_state[FLASH] = ("success", "Saved.", message)
    st.cache_data.clear()


def _act(what: str, run) -> None:  # noqa: ANN001 - a callable taking a connection and user
    """Run one command for the signed-in user; the outcome is shown on the next run."""
    who = current_user()
    try:
        with cards.connect() as conn:
            run(conn, who)
    except events.VersionConflict as exc:
        st.session_state[FLASH] = (
            "error",
            "Someone else changed this card: nothing was saved.",
            cards.conflict_message(exc, TZ),
        )
        st.cache_data.clear()
        return
    except (NotAllowed, cards.CardNotFound) as exc:
        st.session_state[FLASH] = ("error", "Not allowed.", str(exc))
        return
    except events.EventError as exc:
        st.session_state[FLASH] = ("error", "Not saved.", str(exc))
        return
    _done(what)


def _assign(card_id: str, version: int) -> None:
    choice = st.session_state.get("card_assignee")
    name = None if choice in (None, "", "(unassigned)") else str(choice)
    _act(
        f"Assigned to {name}." if name else "Unassigned.",
        lambda conn, who: cards.assign(conn, who, card_id, name, version),
    )


def _reclassify(card_id: str, version: int, previous: tuple, email_key: str | None) -> None:
    stream, intent = st.session_state.get("card_stream"), st.session_state.get("card_intent")
    who = current_user()
    gone = "" if who is None or stream in who.streams else " It has left your streams."
    _act(
        f"Re-classified as {stream} · {str(intent).replace('_', ' ')}.{gone}",
        lambda conn, who: cards.reclassify(
            conn, who, card_id, stream, intent, version, previous=previous, email_key=email_key
        ),
    )


def _move(card_id: str, version: int, status: str) -> None:
    to = st.session_state.get("card_status")
    _act(
        f"Moved to {STATUS_WORDS.get(to, to)}.",
        lambda conn, who: cards.move(conn, who, card_id, to, version, from_status=status),
    )


def _propose(card: dict, message: dict) -> None:
    with cards.connect() as conn:
        proposal = cards.propose_draft(conn, card, message)
    st.session_state[PROPOSAL] = proposal
    st.session_state[DRAFT_BODY] = proposal.text


def _save_draft(card_id: str, version: int, email_key: str) -> None:
    body = str(st.session_state.get(DRAFT_BODY) or "")
    if not body.strip():
        st.session_state[FLASH] = ("error", "Not saved.", "The draft is empty.")
        return
    proposal = st.session_state.get(PROPOSAL)
    review = True if proposal is None else bool(proposal.requires_review)
    _act(
        "Draft saved.",
        lambda conn, who: cards.save_draft(
            conn, who, card_id, email_key, body, version, requires_review=review
        ),
    )


def _mark_sent(card_id: str, version: int, email_key: str, draft_id: str | None) -> None:
    _act(
        "Marked as sent.",
        lambda conn, who: cards.mark_sent(conn, who, card_id, email_key, version, draft_id),
    )


st.title("Card")
flash = st.session_state.pop(FLASH, None)
# drawn on every run, flash or not: when the flash is gone on the next run, what follows
# keeps its place, so a popover or expander opened meanwhile ("Add task", the draft) stays
# open instead of being drawn anew, closed
with st.container():
    if flash:  # a fixed headline; the details (names, values) as plain text
        kind, headline, detail = flash
        (st.success if kind == "success" else st.error)(headline)
        st.text(detail)

card_id = st.query_params.get("card")
if not card_id:
    st.info("Open a card from the Kanban: this page shows the card named in its address.")
    st.stop()
card = _card(card_id)
if card is None or not cards.visible(user, card["stream"]):
    st.error("No such card (or not one of your streams).")
    st.stop()

version = int(card["version"])
st.text(card["subject"] or "(no subject)")
st.text(
    f"{card['mailbox'] or 'no mailbox'} · {STATUS_WORDS.get(card['status'], card['status'])}"
    f" · {('assigned to ' + card['assignee']) if card['assignee'] else 'unassigned'}"
)
st.text(
    "Classification: "
    + classification_line(
        card["stream"],
        card["intent"],
        card["confidence"],
        bool(card["requires_review"]),
        bool(card["reclassified"]),
    )
)
st.text(
    f"Version {version}" + (f" · last change by {card['updated_by']}" if card["updated_by"] else "")
)

thread, attachments, entities, companies = _details(card["thread_key"])

st.subheader(f"Thread ({len(thread)} messages)")
if not thread:
    st.info("The messages of this card are not readable yet (the staging views are built by dbt).")
by_message: dict[str, list] = {}
for attachment in attachments:
    by_message.setdefault(attachment.email_key, []).append(attachment)
for n, message in enumerate(thread):
    with st.container(border=True, key=f"message_{n}"):
        st.text(cards.message_header(message, TZ))
        st.text(f"Subject: {message['subject'] or '(no subject)'}")
        st.text(message["body_text"] or "(no text)")
        for a, attachment in enumerate(by_message.get(message["email_key"], [])):
            size = f"{attachment.size_bytes:,} bytes" if attachment.size_bytes else "size unknown"
            st.text(f"Attachment: {attachment.filename} · {attachment.content_type or ''} · {size}")
            if not attachment.stored():
                st.text("(not in this machine's content store)")
                continue
            # a small file is read (its hash checked) now; a large one when clicked
            data = attachment.read_or_empty() if attachment.small() else attachment.read_or_empty
            st.download_button(
                "Download",
                data,
                file_name=attachment.filename,
                mime=attachment.content_type or "application/octet-stream",
                key=f"download_{n}_{a}",
                on_click="ignore",
            )

st.subheader("Found in the mail")
if companies:
    st.text("Company (CRM): " + "; ".join(f"{name} ({key})" for key, name in companies))
elif card["company_name"]:
    st.text(f"Company (model): {card['company_name']} ({card['company_key']})")
if entities.height:
    for row in entities.iter_rows(named=True):
        line = f"{row['label']}: {row['value']}"
        if row["valid"]:
            line += f" · {row['valid']}"
        if row["link"]:
            line += f" → {row['link']}"
        st.text(line)
    st.dataframe(entities, hide_index=True)
else:
    st.text("No entities found (or the mail is not scored yet).")

company_key = companies[0][0] if companies else card["company_key"]
overview = _overview(company_key) if company_key else None
if overview is not None:
    st.subheader("The company in our records")
    st.text(f"{overview.name} ({overview.company_key})")
    company_link(overview.company_key)
    for title, frame in (
        ("Open orders", overview.open_orders),
        ("Receivables outstanding", overview.receivables),
        ("Last prices", overview.last_prices),
    ):
        st.text(f"{title}: {frame.height if frame.height else 'none'}")
        if frame.height:
            st.dataframe(frame, hide_index=True)

if user.role not in cards.WRITE_ROLES:
    st.caption("Read only: your role sees cards but does not change them.")
    st.stop()

st.subheader("Actions")
add_task_control(user, card, TZ)  # "Send COA", "Follow up quote"... linked to this card
left, middle, right = st.columns(3)
with left:
    names = _assignees()
    if names:
        options = ["(unassigned)", *names]
        current = card["assignee"] if card["assignee"] in names else "(unassigned)"
        st.selectbox("Assignee", options, index=options.index(current), key="card_assignee")
    else:
        st.text_input("Assignee", value=card["assignee"] or "", key="card_assignee")
    st.button("Assign", key="card_assign", on_click=_assign, args=(card_id, version))
with middle:
    stream_index = STREAMS.index(card["stream"]) if card["stream"] in STREAMS else 0
    stream = st.selectbox("Stream", STREAMS, index=stream_index, key="card_stream")
    intents = cards.intent_choices(stream)
    intent_index = intents.index(card["intent"]) if card["intent"] in intents else 0
    st.selectbox(
        "Intent",
        intents,
        index=intent_index,
        key="card_intent",
        format_func=lambda i: i.replace("_", " "),
    )
    st.button(
        "Re-classify",
        key="card_reclassify",
        on_click=_reclassify,
        # the message whose labels the card shows: the one the correction trains on
        args=(card_id, version, (card["stream"], card["intent"]), card["latest_email_key"]),
    )
with right:
    statuses = list(events.CARD_STATUSES)
    st.selectbox(
        "Move to",
        statuses,
        index=statuses.index(card["status"]) if card["status"] in statuses else 0,
        key="card_status",
        format_func=STATUS_WORDS.get,
    )
    st.button("Move", key="card_move", on_click=_move, args=(card_id, version, card["status"]))

st.subheader("Reply")
target = cards.latest_inbound(thread)
if target is None:
    st.info("No message to reply to yet.")
    st.stop()
st.text(f"Replying to: {target['from_address'] or '(no sender)'} · {target['subject'] or ''}")
st.button("Draft reply", key="card_draft", on_click=_propose, args=(card, target))
proposal = st.session_state.get(PROPOSAL)
if proposal is not None and proposal.email_key == target["email_key"]:
    if proposal.requires_review:
        st.warning("Requires review: check every figure against the facts before sending.")
    if proposal.supported:
        confidence = f" · confidence {proposal.confidence:.0%}" if proposal.confidence else ""
        st.caption(f"written by the {proposal.source}{confidence}")
    for note in proposal.notes:
        st.text(note)
    if proposal.facts.height:
        st.text("Grounding (our records this draft rests on):")
        st.dataframe(proposal.facts, hide_index=True)
with cards.connect() as conn:
    saved = cards.latest_draft(conn, card_id)
if saved and saved.get("email_key") == target["email_key"] and DRAFT_BODY not in st.session_state:
    st.session_state[DRAFT_BODY] = saved["body"]  # carry on from the last saved draft
st.text_area("Draft", key=DRAFT_BODY, height=260)
with st.expander("Copy the draft"):
    st.code(st.session_state.get(DRAFT_BODY) or "", language=None)
col_save, col_sent = st.columns(2)
with col_save:
    st.button(
        "Save draft",
        key="card_save_draft",
        on_click=_save_draft,
        args=(card_id, version, target["email_key"]),
    )
with col_sent:
    st.button(
        "Mark sent",
        key="card_mark_sent",
        on_click=_mark_sent,
        args=(
            card_id,
            version,
            target["email_key"],
            saved["draft_id"] if saved and saved.get("email_key") == target["email_key"] else None,
        ),
    )
if saved:
    at = saved["occurred_at"].astimezone(TZ)
    st.text(f"Last draft saved by {saved['actor']} at {at:%d %b %H:%M}")
if card["last_reply_sent_at"]:
    st.text(f"A reply was marked sent at {card['last_reply_sent_at'].astimezone(TZ):%d %b %H:%M}")
