"""Tender IQ: the tenders read from the notices attached to tender mail (``marts.tenders``),
open ones first by bid end date (due within a week highlighted), and a tender card with
every field, the evidence it was read from and its confidence, how the text came (the PDF's
text layer or OCR), the items with the stock items they matched, and the bid / no-bid
decision.

Sales decide (a ``TenderDecided`` event with a note, at the version the card showed; a
decision someone else recorded meanwhile is a conflict, never overwritten). A manager reads
and decides nothing (``app.tenders.decide`` checks the role again on the server). The
filters and the open tender live in the URL's query parameters, so a view can be shared;
the list exports to CSV. Notice and mail text is shown with st.text / st.dataframe only,
never as Markdown or HTML. Queries and the command live in ``app.tenders``.
"""

from __future__ import annotations

import polars as pl
import psycopg
import streamlit as st

from app import tenders
from app.auth import require_role
from pebble import db
from pebble.auth import NotAllowed
from pebble.events import VersionConflict

user = require_role(*tenders.READERS)
can_decide = user.role in tenders.DECIDERS
TZ = tenders.timezone()
STATUS = {"open": "Open tenders", "all": "All tenders"}

st.title("Tenders")


def _highlight_due(row) -> list[str]:
    colour = "background-color: rgba(255, 170, 0, 0.25)" if row["due_soon"] else ""
    return [colour] * len(row)


conn = psycopg.connect(db.warehouse_url(), autocommit=True, connect_timeout=10)
try:
    if not tenders.mart_built(conn):
        st.info(
            "No tenders yet: marts.tenders is built after the tender notices attached to "
            "tender mail are read (materialise the assets: `pebble materialize`)."
        )
        st.stop()

    if saved := st.session_state.pop("tenders_saved", None):
        st.success(saved)

    # --- filters (kept in the URL) ---------------------------------------------------------
    if "tenders_status" not in st.session_state:
        wanted = st.query_params.get("status", "open")
        st.session_state["tenders_status"] = wanted if wanted in STATUS else "open"
        st.session_state["tenders_q"] = st.query_params.get("q", "")[:200]
    left, right = st.columns([1, 2])
    status = left.radio("Show", list(STATUS), format_func=STATUS.get, horizontal=True,
                        key="tenders_status")  # fmt: skip
    search = right.text_input("Search (number, organisation, product)", key="tenders_q")
    st.query_params["status"] = status
    if search.strip():
        st.query_params["q"] = search.strip()
    elif "q" in st.query_params:
        del st.query_params["q"]

    listed = tenders.tender_list(conn)
    shown = listed if status == "all" else listed.filter(pl.col("status") == "open")
    if search.strip():
        needle = search.strip().lower()
        shown = shown.filter(
            pl.concat_str(
                ["tender_no", "organisation", "matched_products"], separator=" ", ignore_nulls=True
            )  # fmt: skip
            .str.to_lowercase()
            .str.contains(needle, literal=True)
        )
    due = shown.filter(pl.col("due_soon")).height
    st.caption(
        f"{shown.height} tenders shown of {listed.height}; {due} due within "
        f"{tenders.DUE_SOON_DAYS} days (highlighted). Bid end and days left in IST."
    )
    if not shown.height:
        st.text("No tenders to show.")
    else:
        table = shown.select(
            [c for c in shown.columns if c not in ("tender_id", "version")] + ["tender_id"]
        )
        st.dataframe(
            table.to_pandas().style.apply(_highlight_due, axis=1),
            hide_index=True,
            key="tenders_table",
            column_config={
                "min_confidence": st.column_config.ProgressColumn(
                    "least confidence", min_value=0.0, max_value=1.0, format="%.2f"
                ),
                "due_soon": st.column_config.CheckboxColumn("due ≤ 7 days"),
                "days_left": st.column_config.NumberColumn("days left", format="%d"),
                "notices": st.column_config.NumberColumn("notices", format="%d"),
            },
        )
        st.download_button(
            "Export CSV",
            data=table.write_csv(),
            file_name="tenders.csv",
            mime="text/csv",
            key="tenders_csv",
            on_click="ignore",
            icon=":material/download:",
        )

    # --- the tender card -------------------------------------------------------------------
    ids = shown["tender_id"].to_list()
    wanted = st.query_params.get("tender")
    if wanted and wanted not in ids and wanted in listed["tender_id"].to_list():
        ids.insert(0, wanted)  # a shared link's tender, whatever the filters say
    labels = {
        r["tender_id"]: " · ".join(
            p for p in (r["tender_no"] or "no number", r["organisation"], r["bid_end"]) if p
        )
        for r in listed.iter_rows(named=True)
    }
    if ids:
        tender_id = st.selectbox(
            "Tender",
            ids,
            index=ids.index(wanted) if wanted in ids else 0,
            format_func=lambda t: labels.get(t, t),
            key="tenders_pick",
        )
        st.query_params["tender"] = tender_id
        card = tenders.tender(conn, tender_id)
    else:
        card = None

    # the versions the previous run showed: a decision expects what was on the screen
    now_versions = dict(zip(listed["tender_id"], listed["version"], strict=True))
    seen_versions = st.session_state.get("tenders_seen", now_versions)
    st.session_state["tenders_seen"] = now_versions

    if card is not None:
        with st.container(border=True, key="tender_card"):
            st.text(f"Tender {card['tender_no'] or '(no number read)'}")
            st.text(f"Organisation: {card['organisation'] or 'not read'}")
            left = tenders.days_left(card["bid_end_at"], tenders.current_time(TZ), TZ)
            due_line = "" if left is None else (
                f" ({'closed' if left < 0 else 'due today' if left == 0 else f'{left} days left'})"
            )  # fmt: skip
            bid_end = tenders.format_when(card["bid_end_at"], TZ) or "not read"
            st.text(f"Bid end: {bid_end}{due_line}")
            if left is not None and 0 <= left <= tenders.DUE_SOON_DAYS:
                st.warning(f"Bid due within {tenders.DUE_SOON_DAYS} days.")
            ocr = (
                f", OCR took {card['ocr_seconds']:.1f} s"
                if card["text_method"] == "ocr" and card.get("ocr_seconds") is not None
                else ""
            )
            st.text(
                f"Text: {tenders.TEXT_METHODS.get(card['text_method'], card['text_method'])}"
                f" · {card['pages'] or 0} pages{ocr} · file {card['filename'] or ''}"
                f" · {card['document_count']} notice(s) of this tender, the latest shown"
            )
            if card["error"]:
                st.error("This notice could not be read; open the mail's attachment.")
                st.text(card["error"])
            st.text("Fields (value, the notice's words it was read from, confidence)")
            field_table = tenders.field_rows(tenders.as_json(card["fields"]))
            st.dataframe(
                field_table,
                hide_index=True,
                key="tender_fields",
                height=(field_table.height + 1) * 35 + 3,  # every field, no scrolling
                column_config={
                    "confidence": st.column_config.ProgressColumn(
                        "confidence", min_value=0.0, max_value=1.0, format="%.2f"
                    )
                },
            )
            items = tenders.item_rows(tenders.as_json(card["items"]))
            st.text(
                f"Items ({items.height}); matched stock items: "
                + (", ".join(card["matched_products"] or ()) or "none")
            )
            if items.height:
                st.dataframe(items, hide_index=True, key="tender_items")
            if card.get("notice_text"):
                with st.expander("Notice text"):
                    st.text(card["notice_text"][: tenders.MAX_TEXT_CHARS])

            # --- the decision --------------------------------------------------------------
            decided = card["decision"]
            if decided:
                at = tenders.format_when(card["decided_at"], TZ)
                st.text(
                    f"Decision: {tenders.DECISIONS.get(decided, decided)} by "
                    f"{card['decided_by']} at {at}"
                    + (f" · note: {card['decision_note']}" if card["decision_note"] else "")
                )
            else:
                st.text("Decision: not decided yet")
            if can_decide:
                expected = int(seen_versions.get(tender_id, card["version"]))
                with st.form("tender_decision_form"):
                    choice = st.radio(
                        "Decision",
                        list(tenders.DECISIONS),
                        format_func=tenders.DECISIONS.get,
                        horizontal=True,
                        key="tender_decision",
                    )
                    note = st.text_area(
                        "Note (required for no bid)", key="tender_note", max_chars=2000
                    )
                    if st.form_submit_button("Record decision"):
                        try:
                            tenders.decide(conn, user, tender_id, choice, note, expected)
                        except VersionConflict as conflict:
                            st.error("Not saved: someone decided on this tender first.")
                            st.text(tenders.conflict_message(conflict, TZ))
                        except NotAllowed:
                            st.error("Not saved: your role may not decide on tenders.")
                        except tenders.TenderError as problem:
                            st.error("Not saved.")
                            st.text(str(problem))
                        else:
                            st.session_state["tenders_saved"] = (
                                f"Decision recorded: {tenders.DECISIONS[choice]}."
                            )
                            st.session_state.pop("tenders_seen", None)
                            conn.close()
                            st.rerun()
            else:
                st.caption("Sales record bid / no-bid decisions; managers read them.")
finally:
    conn.close()
