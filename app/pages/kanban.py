"""The Kanban board: one card per customer thread, in Inbox / In progress / Waiting on
customer / Done, for the signed-in user's streams (``app.board`` holds the queries and the
move command; this page only draws them).

- Moving: drag and drop (``app.components.board``), or the "Move to…" menu of each card
  (the list view, and inside the drag board). Every move goes through
  ``app.board.move_card``, which checks the role on the server; a manager reads only.
- Filters and the search live in the URL's query parameters, so a view can be shared.
- The board re-reads every ``REFRESH_S`` seconds (a fragment), so other people's moves
  show within 30 s; one's own move shows at once (the cached page is dropped).

Email content is untrusted: it is shown with ``st.text`` or the component's
``textContent`` only, never as Markdown or HTML.
"""

from __future__ import annotations

import hashlib
import importlib.util
from urllib.parse import quote
from zoneinfo import ZoneInfo

import psycopg
import streamlit as st
from streamlit.errors import StreamlitAPIException

from app import board, tenders
from app.auth import require_role
from app.data import classification_line, thread_line
from ml.taxonomy import INTENT_STREAM
from pebble import db, events
from pebble.auth import NotAllowed, User
from pebble.settings import get_settings

TZ = ZoneInfo(get_settings().timezone)
#: How often the board re-reads the cards; with the cache's ttl, another session's move
#: shows within REFRESH_S + CACHE_TTL_S (< 30 s).
REFRESH_S = 10
CACHE_TTL_S = 5
#: Query parameters this page owns (the filter's fields, the search, the view).
SEARCH_PARAM, VIEW_PARAM = "q", "view"
VIEWS = {"drag": "Drag and drop", "list": "List with menus"}
ALL = "__all__"

user = require_role(*board.READERS)
can_move = user.role in board.MOVERS


@st.cache_data(ttl=CACHE_TTL_S, max_entries=256, show_spinner=False)
def _fetch(
    user: User,
    board_filter: board.BoardFilter,
    pages: tuple[tuple[str, int], ...],
    card_ids: tuple[str, ...] | None,
) -> board.Board:
    return board.fetch_board(user, board_filter, dict(pages), card_ids=card_ids)


@st.cache_data(ttl=60, max_entries=32, show_spinner=False)
def _options(user: User) -> dict[str, list[str]]:
    return board.fetch_options(user)


@st.cache_data(ttl=60, max_entries=64, show_spinner="Searching…")
def _search(text: str) -> tuple[str, ...]:
    from app.search import search_cards

    return tuple(search_cards(text))


def _widget_key(prefix: str, card_id: str) -> str:
    return f"{prefix}_{hashlib.sha1(card_id.encode()).hexdigest()[:16]}"


def _move(card_id: str, to: str, version: int) -> None:
    """Record a move (the server checks role, streams and version) and say how it went."""
    try:
        with psycopg.connect(db.warehouse_url(), autocommit=True, connect_timeout=10) as conn:
            board.move_card(conn, user, card_id, to, version)
    except events.VersionConflict as exc:
        flash = ("error", board.conflict_message(exc, TZ))
    except NotAllowed:
        flash = ("error", "Not moved: you may not move this card (managers read only).")
    except events.EventError:
        flash = ("error", "Not moved: that is not a column of the board.")
    else:
        flash = ("success", f"Card moved to {board.MOVE_LABELS[to]}.")
    _fetch.clear()
    st.session_state["board_flash"] = flash


def _on_menu(card_id: str, version: int, key: str) -> None:
    to = st.session_state.get(key)
    st.session_state[key] = None
    if to:
        _move(card_id, to, version)


def _turn_page(column: str, step: int) -> None:
    pages = st.session_state.setdefault("board_pages", {})
    pages[column] = max(0, pages.get(column, 0) + step)


# --- the filter, read from the URL on load and written back on every change ------------------

OURS = {SEARCH_PARAM, VIEW_PARAM, *board.BoardFilter.__dataclass_fields__}
# Widget state is dropped when another page ran in between: on the first load, and on the
# way back from a card, the filter comes from the URL, else from the last one of this session.
if "board_stream" not in st.session_state:
    url = st.query_params.to_dict()
    if not OURS & url.keys():
        url = st.session_state.get("board_last_url", url)
    wanted = board.BoardFilter.from_params(url)
    st.session_state["board_q"] = url.get(SEARCH_PARAM, "")[:500]
    st.session_state["board_stream"] = wanted.stream or ALL
    st.session_state["board_intent"] = wanted.intent or ALL
    st.session_state["board_mailbox"] = wanted.mailbox or ALL
    st.session_state["board_assignee"] = wanted.assignee or ALL
    st.session_state["board_company"] = wanted.company or ""
    st.session_state["board_review"] = wanted.review
    st.session_state["board_older"] = wanted.older or 0
    view = url.get(VIEW_PARAM)
    st.session_state["board_view"] = view if view in VIEWS else ("drag" if can_move else "list")

st.title("Email Kanban")

# the mail drop zone (helper "card"); it checks the role itself
if importlib.util.find_spec("app.upload") is not None:
    from app import upload

    upload.render_upload(user)

# tender bids due within a week (bid or undecided), for users with the tender stream
tenders.render_due_reminders(user)

options = _options(user)
streams = list(user.streams)
intents = [i for i, s in INTENT_STREAM.items() if s in streams]


def _choices(values: list[str], key: str) -> list[str]:
    """ALL first, then the values, keeping a value from a shared URL that is not offered."""
    current = st.session_state.get(key)
    extra = [current] if current and current != ALL and current not in values else []
    return [ALL, *values, *extra]


query = st.text_input(
    "Search by meaning",
    key="board_q",
    placeholder="customers asking about sulphuric acid quotes last month",
)
row = st.columns(4)
row[0].selectbox(
    "Stream",
    _choices(streams, "board_stream"),
    key="board_stream",
    format_func=lambda v: "All streams" if v == ALL else v,
)
row[1].selectbox(
    "Intent",
    _choices(intents, "board_intent"),
    key="board_intent",
    format_func=lambda v: "All intents" if v == ALL else v.replace("_", " "),
)
row[2].selectbox(
    "Mailbox",
    _choices(options["mailbox"], "board_mailbox"),
    key="board_mailbox",
    format_func=lambda v: "All mailboxes" if v == ALL else v,
)
row[3].selectbox(
    "Assignee",
    _choices(options["assignee"], "board_assignee"),
    key="board_assignee",
    format_func=lambda v: "Anyone" if v == ALL else v,
)
row = st.columns(4)
row[0].text_input("Company", key="board_company", placeholder="name or key")
row[1].number_input("Older than (days)", key="board_older", min_value=0, max_value=3650, step=1)
row[2].checkbox("Needs review only", key="board_review")
if can_move:
    row[3].radio("View", list(VIEWS), key="board_view", format_func=VIEWS.get, horizontal=True)
view = st.session_state["board_view"] if can_move else "list"


def _picked(key: str) -> str | None:
    value = st.session_state.get(key)
    return None if value in (None, ALL, "") else value


board_filter = board.BoardFilter(
    stream=_picked("board_stream"),
    intent=_picked("board_intent"),
    mailbox=_picked("board_mailbox"),
    assignee=_picked("board_assignee"),
    company=(st.session_state.get("board_company") or "").strip() or None,
    review=bool(st.session_state.get("board_review")),
    older=int(st.session_state.get("board_older") or 0) or None,
)
board_url = board_filter.to_params()
if query.strip():
    board_url[SEARCH_PARAM] = query.strip()
if can_move:
    board_url[VIEW_PARAM] = view
st.session_state["board_last_url"] = board_url
wanted_url = {k: v for k, v in st.query_params.to_dict().items() if k not in OURS} | board_url
if st.query_params.to_dict() != wanted_url:
    st.query_params.from_dict(wanted_url)

# a new filter or search starts every column at its first page
signature = (board_filter, query.strip())
if st.session_state.get("board_signature") != signature:
    st.session_state["board_signature"] = signature
    st.session_state["board_pages"] = {}

card_ids: tuple[str, ...] | None = None
if query.strip():
    from app.search import SearchUnavailable

    try:
        card_ids = _search(query.strip())
    except SearchUnavailable as exc:
        st.warning(str(exc))


# --- the board -----------------------------------------------------------------------------


def _when(card: dict) -> str:
    at = card["last_message_at"]
    return "" if at is None else at.astimezone(TZ).strftime("%d %b %Y %H:%M")


def _lines(card: dict) -> list[str]:
    lines = [
        f"{card['from_display'] or card['from_address'] or ''} · {card['mailbox']} · {_when(card)}"
    ]
    thread = thread_line(card["message_count"], card["assignee"])
    if thread:
        lines.append(thread)
    lines.append(
        classification_line(
            card["stream"],
            card["intent"],
            card["confidence"],
            bool(card["requires_review"]),
            bool(card["reclassified"]),
        )
    )
    if card["snippet"]:
        lines.append(card["snippet"][:200])
    if card["attachment_count"]:
        count = card["attachment_count"]
        lines.append(f"{count} attachment{'s' if count != 1 else ''}")
    return lines


CARD_PAGE = "pages/card.py"


def _card_link(card_id: str) -> None:
    """A link to the card's page (``?card=<card_id>``) in this session. Without the page
    (not registered: the page run on its own, or not written yet) a plain URL link."""
    if not st.session_state.get("board_no_card_page"):
        try:
            st.page_link(CARD_PAGE, label="Open card", query_params={"card": card_id})
            return
        except StreamlitAPIException:
            st.session_state["board_no_card_page"] = True
    st.link_button("Open card", "card?card=" + quote(card_id, safe=""))


def _open_card(card_id: str) -> None:
    try:
        st.switch_page(CARD_PAGE, query_params={"card": card_id})
    except StreamlitAPIException:
        st.session_state["board_flash"] = ("error", "The card page is not available yet.")


def _list_column(cards: list[dict]) -> None:
    for card in cards:
        with st.container(border=True, key=_widget_key("card", card["card_id"])):
            st.text(card["subject"])
            if card["status"] == "quoted":
                st.caption("quoted")
            for line in _lines(card):
                st.text(line)
            _card_link(card["card_id"])
            if can_move:
                key = f"move_{card['card_id']}"
                st.selectbox(
                    "Move to…",
                    [s for s in board.MOVE_LABELS if s != card["status"]],
                    index=None,
                    key=key,
                    placeholder="Move to…",
                    format_func=board.MOVE_LABELS.get,
                    label_visibility="collapsed",
                    on_change=_on_menu,
                    args=(card["card_id"], int(card["card_version"]), key),
                )


def _drag_board(data: board.Board) -> None:
    from app.components.board import kanban_board

    columns = []
    for column in board.COLUMNS:
        cards = [
            {
                "card_id": card["card_id"],
                "subject": card["subject"],
                "lines": _lines(card),
                "tags": ["quoted"] if card["status"] == "quoted" else [],
                "status": card["status"],
                "column": column.key,
                "version": int(card["card_version"]),
            }
            for card in data.column(column.key).iter_rows(named=True)
        ]
        columns.append(
            {
                "key": column.key,
                "heading": column.heading,
                "total": data.totals[column.key],
                "target": column.target,
                "cards": cards,
            }
        )
    action = kanban_board(
        columns, can_move=can_move, targets=list(board.MOVE_LABELS.items()), key="board_dnd"
    )
    if not action or action.get("nonce") == st.session_state.get("board_dnd_nonce"):
        return
    st.session_state["board_dnd_nonce"] = action.get("nonce")
    if isinstance(action.get("open"), str):
        _open_card(action["open"])
        st.rerun(scope="fragment")
    try:
        card_id, to, version = str(action["card_id"]), str(action["to"]), int(action["version"])
    except (KeyError, TypeError, ValueError):
        return
    _move(card_id, to, version)  # the server checks the role, whatever the browser sent
    st.rerun(scope="fragment")


def _pager(column: board.Column, total: int, page: int) -> None:
    pages = max(1, -(-total // board.PAGE_SIZE))
    if pages <= 1:
        return
    st.caption(f"page {page + 1} of {pages} · newest first")
    left, right = st.columns(2)
    left.button(
        "Newer",
        key=f"newer_{column.key}",
        disabled=page == 0,
        on_click=_turn_page,
        args=(column.key, -1),
    )
    right.button(
        "Show more",
        key=f"older_{column.key}",
        disabled=page + 1 >= pages,
        on_click=_turn_page,
        args=(column.key, 1),
    )


@st.fragment(run_every=REFRESH_S)
def _board_view(board_filter: board.BoardFilter, card_ids: tuple[str, ...] | None, view: str):
    flash = st.session_state.pop("board_flash", None)
    if flash:
        kind, text = flash
        (st.success if kind == "success" else st.error)(text)
    pages = st.session_state.setdefault("board_pages", {})
    try:
        data = _fetch(user, board_filter, tuple(sorted(pages.items())), card_ids)
    except board.MartNotBuilt:
        st.info(
            "No cards yet: materialise the assets (`pebble materialize`) to build the email cards."
        )
        return
    caption = f"{data.total} cards"
    if data.spam:
        caption += f" · {data.spam} marked spam, not shown"
    if card_ids is not None:
        caption += " · matching the search, best match first"
    st.caption(caption)
    if card_ids is not None and not data.total and not data.spam:
        st.info("No card of yours matches the search.")
    if view == "drag":
        _drag_board(data)
    columns = st.columns(len(board.COLUMNS))
    for slot, column in zip(columns, board.COLUMNS, strict=True):
        with slot:
            if view != "drag":
                st.subheader(f"{column.heading} ({data.totals[column.key]})")
                _list_column(list(data.column(column.key).iter_rows(named=True)))
            _pager(column, data.totals[column.key], pages.get(column.key, 0))


_board_view(board_filter, card_ids, view)
