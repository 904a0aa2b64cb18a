"""Kanban of email cards (one per customer thread), one column per status.

Statuses, assignees and corrections are people's events: the cards come from
``marts.email_cards`` with the live event fold applied (``app.data.fetch_email_cards``), so
a change shows without waiting for a dbt build.

Email content is untrusted: it is shown with `st.text` (no Markdown, no HTML) only.
"""

import pandas as pd
import streamlit as st

from app.data import (
    HIDDEN_STATUS,
    KANBAN_COLUMNS,
    MartNotBuilt,
    classification_line,
    fetch_email_cards,
    fetch_mailboxes,
    thread_line,
)
from pebble.settings import get_settings

TZ = get_settings().timezone


@st.cache_data(ttl=30, max_entries=32, show_spinner=False)
def _cards(mailbox: str | None):
    return fetch_email_cards(mailbox)


st.title("Email Kanban")
mailboxes = fetch_mailboxes()
choice = st.selectbox("Mailbox", ["All mailboxes", *mailboxes], key="kanban_mailbox")
mailbox = None if choice == "All mailboxes" else choice

try:
    cards = _cards(mailbox)
except MartNotBuilt:
    st.info("No cards yet: materialise the assets (`pebble materialize`) to build the email cards.")
    st.stop()

totals = cards.groupby("status")["status_total"].max().to_dict() if len(cards) else {}
hidden = int(totals.pop(HIDDEN_STATUS, 0))
caption = f"{sum(totals.values())} cards"
if hidden:
    caption += f" · {hidden} marked spam, not shown"
st.caption(caption)
columns = st.columns(len(KANBAN_COLUMNS))
for column, (status, heading) in zip(columns, KANBAN_COLUMNS, strict=True):
    in_column = cards[cards["status"] == status]
    total = int(totals.get(status, 0))
    with column:
        st.subheader(f"{heading} ({total})")
        if total > len(in_column):
            st.caption(f"newest {len(in_column)} shown")
        for card in in_column.itertuples():
            with st.container(border=True, key=f"card_{card.card_id}"):
                st.text(card.subject)
                last = (
                    ""
                    if pd.isna(card.last_message_at)
                    else card.last_message_at.tz_convert(TZ).strftime("%d %b %Y %H:%M")
                )
                st.text(f"{card.from_display} · {card.mailbox} · {last}")
                thread = thread_line(card.message_count, card.assignee)
                if thread:
                    st.text(thread)
                st.text(
                    classification_line(
                        card.stream,
                        card.intent,
                        card.confidence,
                        card.requires_review,
                        card.reclassified,
                    )
                )
                if card.snippet:
                    st.text(card.snippet[:200])
                if card.attachment_count:
                    st.text(f"📎 {card.attachment_count} attachment(s)")
