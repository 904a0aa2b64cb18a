"""Prelead screening: marketing adjudicates lead lists; a manager reads.

Queries and commands are in ``app/prelead.py`` (every command checks the role again on
the server). Lead rows are untrusted text (bought lists): they are shown with st.text and
st.dataframe only; labels and confirmations are built from our own words.

Keyboard (Streamlit button shortcuts, active when no text field has the focus):
J next row, K previous row, A approve, X reject (R is reserved by Streamlit), M merge.
"""

from __future__ import annotations

import streamlit as st

from app import prelead
from app.auth import require_role
from app.company.links import company_link
from pebble import events
from pebble.auth import NotAllowed

user = require_role(*prelead.READERS)
can_decide = user.role in prelead.DECIDERS

ROW = "prelead_row"  # the current row (prelead_id) of the row-by-row flow
FLASH = "prelead_flash"  # (kind, headline, detail) of the last action, shown once
UPLOADS = "prelead_uploads"  # [(path, batch)] uploaded in this session
PAGE_IDS = "prelead_page_ids"  # the current page's prelead_ids, in order
VERSIONS = "prelead_versions"  # prelead_id -> version shown on the current page
HISTORY_SHOWN = 500  # decision events listed on the page (the export holds all)


def _flash(kind: str, headline: str, detail: str | None = None) -> None:
    """Say what the last action did: ``headline`` in our own words (alerts render
    Markdown), ``detail`` (row ids, names, reasons: untrusted) as plain text below it."""
    st.session_state[FLASH] = (kind, headline, detail)


def _move(step: int) -> None:
    ids = st.session_state.get(PAGE_IDS) or []
    current = st.session_state.get(ROW)
    if not ids:
        return
    at = ids.index(current) if current in ids else -1
    st.session_state[ROW] = ids[min(max(at + step, 0), len(ids) - 1)]


def _decide(decision: str) -> None:
    """Button callback: one decision on the current row, at the version shown, then on to
    the next row."""
    prelead_id = st.session_state.get(ROW)
    version = (st.session_state.get(VERSIONS) or {}).get(prelead_id)
    if prelead_id is None or version is None:
        return
    reason = st.session_state.get("prelead_reason") or None
    into = st.session_state.get("prelead_merge_into") if decision == "merged" else None
    try:
        with prelead.connect() as conn:
            prelead.decide(
                conn, user, prelead_id, version, decision, reason=reason, into_company_key=into
            )
    except events.VersionConflict as exc:
        _flash("error", "Not saved: the row changed meanwhile.", prelead.conflict_message(exc))
        return
    except (NotAllowed, ValueError) as exc:
        _flash("error", "Not saved.", str(exc))
        return
    _flash("success", f"Saved: {decision}.", f"Row {prelead_id}: {decision}.")
    st.session_state["prelead_reason"] = ""
    _move(+1)


def _bulk(filters: prelead.Filters, expected: int) -> None:
    decision = st.session_state.get("prelead_bulk_decision", "approved")
    reason = st.session_state.get("prelead_bulk_reason") or None
    try:
        with prelead.connect() as conn:
            result = prelead.bulk_decide(
                conn, user, filters, decision, reason=reason, expected_rows=expected
            )
    except events.VersionConflict as exc:
        _flash("error", "Not saved: the row changed meanwhile.", prelead.conflict_message(exc))
        return
    except (NotAllowed, ValueError, prelead.SelectionChanged) as exc:
        _flash("error", "Not saved.", str(exc))
        return
    st.session_state["prelead_bulk_confirm"] = False
    _flash("success", f"{result.rows} rows {decision} in one commit.")


def _bulk_selected(items: list[tuple[str, int]]) -> None:
    decision = st.session_state.get("prelead_sel_decision", "approved")
    reason = st.session_state.get("prelead_sel_reason") or None
    try:
        with prelead.connect() as conn:
            result = prelead.bulk_decide_rows(conn, user, items, decision, reason=reason)
    except events.VersionConflict as exc:
        _flash("error", "Not saved: the row changed meanwhile.", prelead.conflict_message(exc))
        return
    except (NotAllowed, ValueError) as exc:
        _flash("error", "Not saved.", str(exc))
        return
    _flash("success", f"{result.rows} selected rows {decision}.")


def _upload() -> None:
    file = st.session_state.get("prelead_upload_file")
    if file is None:
        _flash("warning", "Choose a CSV or XLSX file first.")
        return
    try:
        with prelead.connect() as conn:
            stored = prelead.store_upload(file.getvalue(), file.name, user, conn=conn)
    except (prelead.UploadRefused, NotAllowed) as exc:
        _flash("error", "Not uploaded.", str(exc))
        return
    st.session_state.setdefault(UPLOADS, []).append((str(stored.path), stored.batch))
    _flash(
        "success",
        "Stored in the prelead drop folder; the loader picks it up shortly.",
        f"Batch {stored.batch}",
    )


def _export(batch: str) -> bytes:
    with prelead.connect() as conn:
        return prelead.decisions_csv(conn, batch)


PROGRESS = {"queued": 0.15, "landing": 0.5, "failed": 0.5, "landed": 1.0, "refused": 1.0}


@st.fragment(run_every=3)
def _upload_progress() -> None:
    """Poll the drop ledger for this session's uploads until each has landed or was refused."""
    uploads = st.session_state.get(UPLOADS) or []
    if not uploads:
        return
    with prelead.connect() as conn:
        for path, batch in uploads[-5:]:
            status = prelead.upload_status(conn, path, batch)
            st.progress(PROGRESS.get(status.state, 0.0), text=status.state)
            st.text(f"Batch {batch}: {status.message}")


st.title("Prelead screening")
if flash := st.session_state.pop(FLASH, None):
    kind, headline, detail = flash
    getattr(st, kind)(headline)
    if detail:
        st.text(detail)
if not can_decide:
    st.caption("Read only: marketing decides; managers see the queue and its decisions.")

if can_decide:
    with st.expander("Upload a lead list", expanded=False):
        st.file_uploader("CSV or XLSX lead list", type=["csv", "xlsx"], key="prelead_upload_file")
        st.button("Send to the loader", key="prelead_upload_go", on_click=_upload)
        _upload_progress()

conn = prelead.connect()
try:
    try:
        batches = prelead.list_batches(conn)
    except prelead.QueueNotBuilt:
        st.info("No lead lists landed yet: upload one, or drop it in the prelead folder.")
        st.stop()
    if batches.is_empty():
        st.info("No lead lists landed yet: upload one, or drop it in the prelead folder.")
        st.stop()

    st.subheader("Batches")
    st.dataframe(batches, hide_index=True, key="prelead_batches")
    names = batches["batch"].to_list()
    batch = st.selectbox("Batch", names, key="prelead_batch")

    queue_tab, invalid_tab, decisions_tab = st.tabs(["Queue", "Invalid rows", "Decisions"])

    with queue_tab:
        c1, c2, c3, c4 = st.columns(4)
        decision_filter = c1.selectbox("Decision", prelead.DECISION_FILTERS, key="prelead_decision")
        min_score = c2.number_input(
            "Minimum score", min_value=0, max_value=100, value=0, key="prelead_min_score"
        )
        no_candidates = c3.checkbox("Only rows without duplicate candidates", key="prelead_no_cand")
        search = c4.text_input("Search name, GSTIN, PAN, email", key="prelead_search")
        filters = prelead.Filters(
            batch,
            decision=decision_filter,
            min_score=int(min_score) or None,
            no_candidates=True if no_candidates else None,
            search=search or None,
        )
        try:
            total = prelead.queue_count(conn, filters)
        except prelead.QueueNotBuilt:
            st.info("The queue is built by the next model run (`pebble materialize`).")
            st.stop()
        pages = max((total + prelead.PAGE_SIZE - 1) // prelead.PAGE_SIZE, 1)
        if st.session_state.get("prelead_page_no", 1) > pages:
            st.session_state["prelead_page_no"] = 1
        page_no = st.number_input("Page", min_value=1, max_value=pages, key="prelead_page_no")
        frame = prelead.queue_page(conn, filters, page=int(page_no) - 1)
        st.caption(f"{total} rows match · page {page_no} of {pages} · best score first")
        ids = frame["prelead_id"].to_list()
        st.session_state[PAGE_IDS] = ids
        st.session_state[VERSIONS] = dict(zip(ids, frame["version"].to_list(), strict=True))
        shown = frame.select(
            "row_no", "score", "decision", "company_name", "contact_person", "gstin", "pan",
            "email", "phone", "state", "industry", "candidate_count", "best_candidate_name",
            "duplicate_in_batch_of", "reasons", "decided_by", "decision_reason",
        )  # fmt: skip
        picked = st.dataframe(
            shown,
            hide_index=True,
            on_select="rerun",
            selection_mode="multi-row",
            key="prelead_table",
        )
        selected_rows = list(picked.selection.rows) if picked is not None else []
        selected = [ids[i] for i in selected_rows if i < len(ids)]
        if selected and st.session_state.get("prelead_last_pick") != selected:
            st.session_state[ROW] = selected[0]  # a click in the table opens that row
        st.session_state["prelead_last_pick"] = selected

        if can_decide and total:
            with st.expander(f"Bulk decision over the filter ({total} rows)"):
                st.text(f"Selection: {filters.describe()}.")
                b1, b2 = st.columns(2)
                b1.radio("Decision", ["approved", "rejected"], key="prelead_bulk_decision")
                b2.text_input("Reason (required to reject)", key="prelead_bulk_reason")
                confirm = st.checkbox(
                    f"Apply it to all {total} rows of the filter", key="prelead_bulk_confirm"
                )
                st.button(
                    f"Apply to {total} rows",
                    key="prelead_bulk_go",
                    disabled=not confirm,
                    on_click=_bulk,
                    args=(filters, total),
                )
        if can_decide and len(selected) > 1:
            with st.expander(f"Decide the {len(selected)} rows selected in the table"):
                versions = st.session_state[VERSIONS]
                s1, s2 = st.columns(2)
                s1.radio("Decision", ["approved", "rejected"], key="prelead_sel_decision")
                s2.text_input("Reason (required to reject)", key="prelead_sel_reason")
                st.button(
                    f"Apply to the {len(selected)} selected rows",
                    key="prelead_sel_go",
                    on_click=_bulk_selected,
                    args=([(pid, versions[pid]) for pid in selected],),
                )

        if ids:
            if st.session_state.get(ROW) not in ids:
                st.session_state[ROW] = ids[0]
            row_of = dict(zip(ids, frame["row_no"].to_list(), strict=True))
            score_of = dict(zip(ids, frame["score"].to_list(), strict=True))
            decision_of = dict(zip(ids, frame["decision"].to_list(), strict=True))
            st.subheader("Row by row")
            n1, n2, n3 = st.columns([3, 1, 1])
            current = n1.selectbox(
                "Row",
                ids,
                key=ROW,
                format_func=lambda pid: (
                    f"row {row_of[pid]} · score {score_of[pid]} · {decision_of[pid]}"
                ),
            )
            n2.button("Previous (K)", key="prelead_prev", on_click=_move, args=(-1,), shortcut="K")
            n3.button("Next (J)", key="prelead_next", on_click=_move, args=(+1,), shortcut="J")
            detail = prelead.row_detail(conn, current)
            if detail is not None:
                row = detail.row
                st.text(row["company_name"] or "(no company name)")
                st.text(
                    " · ".join(
                        str(v)
                        for v in (
                            row.get("contact_person"),
                            row.get("email"),
                            row.get("phone"),
                            row.get("city"),
                            row.get("state"),
                        )
                        if v
                    )  # fmt: skip
                )
                st.text(
                    f"GSTIN {row.get('gstin') or '-'} · PAN {row.get('pan') or '-'} · "
                    f"CIN {row.get('cin') or '-'} · industry {row.get('industry') or '-'}"
                )
                decided = (
                    f"Decision: {detail.decision} (version {detail.version})"
                    + (f" by {detail.decided_by}" if detail.decided_by else "")
                    + (f" at {detail.decided_at:%Y-%m-%d %H:%M}" if detail.decided_at else "")
                    + (f"; merged into {detail.merged_into}" if detail.merged_into else "")
                    + (f"; reason: {detail.decision_reason}" if detail.decision_reason else "")
                )
                st.text(decided)
                if detail.merged_into:
                    company_link(detail.merged_into, "Company 360: merged into",
                                 key="prelead_company_merged")  # fmt: skip
                st.text(f"Score {row['score']} of 100:")
                st.dataframe(prelead.score_reason_frame(detail.score_reasons), hide_index=True)
                st.text("Validation problems: " + (detail.problems or "none (the row is valid)"))
                if row.get("duplicate_in_batch_of"):
                    st.text(f"Repeats row {row['duplicate_in_batch_of']} of this list.")
                if detail.candidates:
                    st.text(f"Duplicate candidates in the CRM master: {len(detail.candidates)}")
                    st.dataframe(prelead.candidate_frame(detail.candidates), hide_index=True)
                    st.text("Side by side (match: the field is the same):")
                    st.dataframe(detail.comparison, hide_index=True)
                    for n, candidate in enumerate(detail.candidates, start=1):
                        if candidate.get("company_key"):
                            company_link(candidate["company_key"], f"Company 360: candidate {n}",
                                         key=f"prelead_company_{n}")  # fmt: skip
                else:
                    st.text("No duplicate candidates in the CRM master.")

                if can_decide:
                    st.text_input("Reason (required to reject)", key="prelead_reason")
                    d1, d2, d3 = st.columns(3)
                    d1.button(
                        "Approve (A)", key="prelead_approve", on_click=_decide,
                        args=("approved",), shortcut="A", type="primary",
                    )  # fmt: skip
                    d2.button(
                        "Reject (X)", key="prelead_reject", on_click=_decide,
                        args=("rejected",), shortcut="X",
                    )  # fmt: skip
                    choices = {c["company_key"]: c.get("name") for c in detail.candidates}
                    found = st.text_input(
                        "Find a CRM company to merge into (name, GSTIN or PAN)",
                        key="prelead_company_search",
                    )
                    if found:
                        hits = prelead.search_companies(conn, found)
                        for key, name in zip(hits["company_key"], hits["name"], strict=True):
                            choices.setdefault(key, name)
                    if choices:
                        st.selectbox(
                            "Merge into",
                            list(choices),
                            key="prelead_merge_into",
                            format_func=lambda key: f"{choices.get(key) or ''} ({key})",
                        )
                        d3.button(
                            "Merge (M)", key="prelead_merge", on_click=_decide,
                            args=("merged",), shortcut="M",
                        )  # fmt: skip
                with st.expander("Audit trail of this row"):
                    st.dataframe(prelead.row_history(conn, current), hide_index=True)

    with invalid_tab:
        bad, bad_total = prelead.invalid_rows(conn, batch)
        st.caption(
            f"{bad_total} invalid rows (not in the queue); the first {bad.height} in row order"
        )
        st.dataframe(bad, hide_index=True, key="prelead_invalid")

    with decisions_tab:
        shown_history = prelead.decision_history(conn, batch, newest=HISTORY_SHOWN)
        count = prelead.decision_count(conn, batch)
        st.caption(
            f"{count} decision events in this batch (every change); the newest "
            f"{shown_history.height} shown; the export holds all"
        )
        st.download_button(
            "Export decisions as CSV",
            data=lambda: _export(batch),  # built on the click, not on every rerun
            file_name=f"prelead-decisions-{batch}.csv",
            mime="text/csv",
            key="prelead_export",
            on_click="ignore",
        )
        st.dataframe(shown_history, hide_index=True, key="prelead_history")
finally:
    conn.close()
