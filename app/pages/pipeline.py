"""The sales pipeline board: the deals the warehouse inferred and those made by hand, one
column per stage of the pipeline with its number of deals and their value (₹, Indian
grouping), cards showing the company, product, value, owner and days in the stage.

- Moving: drag a deal to another column (the Kanban's own component,
  ``app.components.board``) or use "Move or close a deal" below the board. Dropping on Won
  or Lost asks to close the deal (a lost deal needs a reason). Every change is one event
  through ``pebble.deals``, which checks the role on the server; a manager reads only.
- Someone else's change since the board was drawn is a conflict that names them.
- Filters (pipeline, owner, company) live in the URL's query parameters.
- An admin edits the pipeline's stages ("Pipeline stages").

Deal text (companies, products, titles) is people's or mail's text: shown with
``st.text``, tables, or the component's ``textContent``, never as Markdown or HTML.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import polars as pl
import streamlit as st
from streamlit.errors import StreamlitAPIException

from app.auth import require_role
from app.dashboards.figures import format_inr
from app.tasks import TASK_FLASH, connect, quick_due, run_command, show_flash
from pebble import deals
from pebble.settings import get_settings

TZ = ZoneInfo(get_settings().timezone)
REFRESH_S = 10
CARDS_PER_STAGE = 30
ALL = "__all__"
CLOSE = "pipeline_close"  # session key of a drop on Won/Lost waiting for its form
CARD_PAGE = "pages/card.py"

user = require_role(*deals.BOARD_READERS)
can_write = user.role in deals.DEAL_WRITERS
is_admin = user.role in deals.PIPELINE_ADMINS


@st.cache_data(ttl=5, max_entries=64, show_spinner=False)
def _board(pipeline_id: str, owner: str | None, company: str | None) -> deals.Board:
    with connect() as conn:
        return deals.fetch_board(conn, pipeline_id, owner=owner, company=company, tz=TZ)


@st.cache_data(ttl=30, show_spinner=False)
def _pipelines() -> dict[str, deals.Pipeline]:
    with connect() as conn:
        return deals.pipelines(conn)


@st.cache_data(ttl=60, show_spinner=False)
def _companies(text: str) -> list[tuple[str, str]]:
    """Up to 50 CRM companies whose name or key contains ``text``."""
    with connect() as conn:
        if not conn.execute("SELECT to_regclass('marts.crm_companies')").fetchone()[0]:
            return []
        rows = conn.execute(
            "SELECT company_key, name FROM marts.crm_companies WHERE strpos(lower(name || ' ' ||"
            " company_key), %s) > 0 ORDER BY name LIMIT 50",
            (text.strip().lower(),),
        ).fetchall()
    return [(k, n) for k, n in rows]


def _rupees(value: float | None) -> str:
    return format_inr(value) if value else "₹0"


# --- the filter, from the URL ---------------------------------------------------------------

pipelines = _pipelines()
if "pipeline_id" not in st.session_state:
    url = st.query_params.to_dict()
    st.session_state["pipeline_id"] = (
        url.get("pipeline") if url.get("pipeline") in pipelines else deals.DEFAULT_PIPELINE_ID
    )
    st.session_state["pipeline_owner"] = url.get("owner") or ALL
    st.session_state["pipeline_company"] = (url.get("company") or "")[:200]

st.title("Pipeline")
show_flash()

row = st.columns(3)
if len(pipelines) > 1:
    row[0].selectbox(
        "Pipeline",
        list(pipelines),
        key="pipeline_id",
        format_func=lambda p: pipelines[p].name,
    )
pipeline_id = st.session_state["pipeline_id"]
if pipeline_id not in pipelines:
    pipeline_id = deals.DEFAULT_PIPELINE_ID
pipeline = pipelines[pipeline_id]
owners = deals.board_owners(_board(pipeline_id, None, None))
current_owner = st.session_state.get("pipeline_owner")
owner_choices = [ALL, *owners, *([current_owner] if current_owner not in (ALL, *owners) else [])]
row[1].selectbox(
    "Owner",
    owner_choices,
    key="pipeline_owner",
    format_func=lambda o: "Anyone" if o == ALL else o,
)
row[2].text_input("Company", key="pipeline_company", placeholder="name or key")
owner = (
    None
    if st.session_state["pipeline_owner"] in (ALL, None)
    else st.session_state["pipeline_owner"]
)
company = (st.session_state.get("pipeline_company") or "").strip() or None
wanted = {"pipeline": pipeline_id, "owner": owner, "company": company}
wanted = {k: v for k, v in wanted.items() if v and not (k == "pipeline" and v == "sales")}
others = {
    k: v for k, v in st.query_params.to_dict().items() if k not in ("pipeline", "owner", "company")
}
if st.query_params.to_dict() != others | wanted:
    st.query_params.from_dict(others | wanted)


# --- commands -------------------------------------------------------------------------------


def _move(deal_id: str, to: str, version: int) -> None:
    run_command(
        f"Deal moved to {deals.stage_label(to)}.",
        lambda conn: deals.move_deal(conn, user, deal_id, to, version),
        TZ,
    )


def _close(deal_id: str, outcome: str, version: int, reason_key: str) -> None:
    reason = st.session_state.get(reason_key) or None
    if run_command(
        f"Deal closed as {outcome}.",
        lambda conn: deals.close_deal(conn, user, deal_id, outcome, version, reason=reason),
        TZ,
    ):
        st.session_state.pop(CLOSE, None)


def _on_menu_move(versions: dict[str, int]) -> None:
    """The menu's move or close, at the version each deal had when the page was drawn."""
    deal_id, to = st.session_state.get("pipeline_act_deal"), st.session_state.get("pipeline_act_to")
    if deal_id not in versions or not to:
        return
    if to in deals.CLOSED_STAGES:
        _close(deal_id, to, versions[deal_id], "pipeline_act_reason")
    else:
        _move(deal_id, to, versions[deal_id])


def _deal_label(deal: dict) -> str:
    who = deal["company_name"] or deal["title"] or deal["deal_id"]
    return f"{who} · {deal['product'] or ''} · {deals.stage_label(deal['stage'])}"


def _follow_up() -> None:
    """A "Follow up" task for the chosen deal's owner (else the user), due in two working
    days, linked to the deal and its company."""
    found = _find(st.session_state.get("pipeline_act_deal"))
    if found is None:
        return
    owner = found["owner"] or user.name
    due = quick_due(2, datetime.now(TZ).date())
    run_command(
        f"Task added: follow up {_deal_label(found)} (due {due:%d %b %Y}, {owner}).",
        lambda conn: deals.create_task(
            conn,
            user,
            title=f"Follow up: {found['company_name'] or found['title'] or 'deal'}",
            due_on=due,
            owner=owner,
            linked_type="deal",
            linked_id=found["deal_id"],
            company_key=found["company_key"],
        ),
        TZ,
    )


def _find(deal_id: str | None) -> dict | None:
    data = _board(pipeline_id, owner, company)
    rows = data.deals.filter(pl.col("deal_id") == deal_id)
    return rows.row(0, named=True) if rows.height else None


def _create() -> None:
    state = st.session_state
    value = state.get("deal_new_value") or None
    picked = state.get("deal_new_company")
    if run_command(
        "Deal created.",
        lambda conn: deals.create_deal(
            conn,
            user,
            title=state.get("deal_new_title") or "",
            stage=state.get("deal_new_stage"),
            company_key=None if picked in (None, "") else picked,
            value_inr=value,
            product=(state.get("deal_new_product") or "").strip() or None,
            owner=(state.get("deal_new_owner") or "").strip() or None,
            pipeline_id=pipeline_id,
        ),  # fmt: skip
        TZ,
    ):  # kept on a refusal, so nothing typed is lost
        for key in ("deal_new_title", "deal_new_product"):
            state[key] = ""
        state["deal_new_value"] = None


def _configure(editing: str) -> None:
    """Save the stages typed for ``editing`` (or for a new pipeline id typed instead)."""
    state = st.session_state
    stages = str(state.get(f"pipeline_stages_{editing}") or "").splitlines()
    target = (state.get(f"pipeline_edit_id_{editing}") or editing).strip()
    expected = pipelines[target].version if target in pipelines else 0
    run_command(
        f"Pipeline {target} saved.",
        lambda conn: deals.configure_pipeline(
            conn, user, target, state.get(f"pipeline_edit_name_{editing}") or "", stages, expected
        ),
        TZ,
    )
    _pipelines.clear()


# --- the board ------------------------------------------------------------------------------


def _lines(deal: dict) -> list[str]:
    lines = [" · ".join(p for p in (deal["product"], _rupees(deal["value_inr"])) if p)]
    days = deal["days_in_stage"]
    in_stage = "" if days is None else f" · {days} day{'s' if days != 1 else ''} in stage"
    lines.append(f"{deal['owner'] or 'no owner'}{in_stage}")
    if deal["title"]:
        lines.append(deal["title"])
    if deal["close_reason"]:
        lines.append(f"lost: {deal['close_reason']}")
    return lines


def _tags(deal: dict) -> list[str]:
    if deal["created_by_hand"]:
        return ["by hand"]
    return ["moved by hand"] if deal["stage_source"] == "person" else []


def _drag_board(data: deals.Board) -> None:
    from app.components.board import kanban_board

    totals = data.totals
    columns = []
    for stage in pipeline.all_stages:
        cards = [
            {
                "card_id": deal["deal_id"],
                "subject": deal["company_name"]
                or deal["company_key"]
                or deal["title"]
                or "(no company)",
                "lines": _lines(deal),
                "tags": _tags(deal),
                "status": stage,
                "column": stage,
                "version": int(deal["version"]),
            }
            for deal in data.stage(stage).head(CARDS_PER_STAGE).iter_rows(named=True)
        ]
        columns.append(
            {
                "key": stage,
                "heading": f"{deals.stage_label(stage)} · {_rupees(totals[stage].value_inr)}",
                "total": totals[stage].count,
                "target": stage,
                "cards": cards,
            }
        )
    targets = [(s, deals.stage_label(s)) for s in pipeline.all_stages]
    action = kanban_board(columns, can_move=can_write, targets=targets, key="pipeline_dnd")
    if not action or action.get("nonce") == st.session_state.get("pipeline_dnd_nonce"):
        return
    st.session_state["pipeline_dnd_nonce"] = action.get("nonce")
    if isinstance(action.get("open"), str):
        found = _find(action["open"])
        if found and found["thread_key"]:
            try:
                st.switch_page(CARD_PAGE, query_params={"card": found["thread_key"]})
            except StreamlitAPIException:
                pass
        st.session_state[TASK_FLASH] = (
            "error",
            "No card to open.",
            "This deal has no email thread.",
        )
        st.rerun(scope="fragment")
    try:
        deal_id, to, version = str(action["card_id"]), str(action["to"]), int(action["version"])
    except (KeyError, TypeError, ValueError):
        return
    if to in deals.CLOSED_STAGES:  # closing asks for the reason first
        st.session_state[CLOSE] = (deal_id, to, version)
    else:
        _move(deal_id, to, version)  # the server checks the role, whatever the browser sent
    st.rerun()


def _close_form(data: deals.Board) -> None:
    pending = st.session_state.get(CLOSE)
    if not pending:
        return
    deal_id, outcome, version = pending
    found = data.deals.filter(pl.col("deal_id") == deal_id)
    name = found["company_name"][0] if found.height else deal_id
    with st.container(border=True, key="pipeline_close_box"):
        st.text(f"Close the deal with {name or deal_id} as {outcome}")
        st.text_input(
            "Reason" + (" (required)" if outcome == "lost" else ""), key="pipeline_close_reason"
        )
        left, right = st.columns(2)
        left.button(
            f"Close as {outcome}",
            key="pipeline_close_confirm",
            on_click=_close,
            args=(deal_id, outcome, version, "pipeline_close_reason"),
        )
        right.button(
            "Cancel",
            key="pipeline_close_cancel",
            on_click=lambda: st.session_state.pop(CLOSE, None),
        )


@st.fragment(run_every=REFRESH_S)
def _board_view() -> None:
    data = _board(pipeline_id, owner, company)
    if not data.inferred:
        st.info(
            "No inferred deals yet: materialise the assets (`pebble materialize`) to build the "
            "sales pipeline from the mail and the orders. Deals made by hand show here."
        )
    totals = data.totals
    summary = pl.DataFrame(
        {
            "stage": [deals.stage_label(s) for s in pipeline.all_stages],
            "deals": [totals[s].count for s in pipeline.all_stages],
            "value": [_rupees(totals[s].value_inr) for s in pipeline.all_stages],
        }
    )
    open_value = sum(totals[s].value_inr for s in pipeline.stages)
    open_count = sum(totals[s].count for s in pipeline.stages)
    st.caption(
        f"{data.deals.height} deals in the {pipeline.name} pipeline · {open_count} open, "
        f"worth {_rupees(open_value)}"
    )
    _close_form(data)
    _drag_board(data)
    with st.expander("Deals and value per stage (export to CSV)"):
        st.dataframe(summary, hide_index=True, key="pipeline_summary")
    with st.expander(f"All {data.deals.height} deals as a table (sort, export to CSV)"):
        table = data.deals.with_columns(
            pl.col("stage").map_elements(deals.stage_label, return_dtype=pl.String)
        ).select("company_name", "product", "value_inr", "owner", "stage", "days_in_stage",
                 "title", "stage_source", "deal_id")  # fmt: skip
        st.dataframe(table, hide_index=True, key="pipeline_table")


_board_view()


# --- move or close from a menu (the keyboard path), new deal, stages ---------------------------

data = _board(pipeline_id, owner, company)
if can_write and data.deals.height:
    with st.expander("Move or close a deal"):
        labels = {d["deal_id"]: _deal_label(d) for d in data.deals.iter_rows(named=True)}
        st.selectbox("Deal", list(labels), key="pipeline_act_deal", format_func=labels.get)
        st.selectbox(
            "To",
            list(pipeline.all_stages),
            key="pipeline_act_to",
            format_func=deals.stage_label,
        )
        st.text_input("Reason (closing as lost)", key="pipeline_act_reason")
        versions = dict(zip(data.deals["deal_id"], data.deals["version"], strict=True))
        left, right = st.columns(2)
        left.button("Save", key="pipeline_act_save", on_click=_on_menu_move, args=(versions,))
        right.button(
            "Add follow-up task",
            key="pipeline_act_task",
            help="Due in two working days, for the deal's owner, linked to the deal",
            on_click=_follow_up,
        )

if can_write:
    with st.expander("New deal"):
        search = st.text_input("Find the company", key="deal_new_search", placeholder="name or key")
        found = _companies(search) if search.strip() else []
        st.selectbox(
            "Company",
            ["", *[k for k, _ in found]],
            key="deal_new_company",
            format_func=lambda k: "(none)" if not k else f"{dict(found).get(k, k)} ({k})",
        )
        with st.form("deal_new"):
            st.text_input(
                "Title", key="deal_new_title", placeholder="e.g. Annual zinc oxide contract"
            )
            st.text_input("Product", key="deal_new_product")
            st.number_input(
                "Value (₹)", key="deal_new_value", min_value=0.0, step=1000.0, value=None
            )
            st.selectbox(
                "Stage", list(pipeline.stages), key="deal_new_stage", format_func=deals.stage_label
            )
            st.text_input("Owner", key="deal_new_owner", value=user.name)
            st.form_submit_button("Create deal", on_click=_create)
elif not is_admin:
    st.caption("Read only: your role sees the pipeline but does not change it.")

if is_admin:
    with st.expander("Pipeline stages (admin)", expanded=not data.deals.height):
        st.caption(
            f"Version {pipeline.version}"
            + (
                f" · last changed by {pipeline.updated_by}"
                if pipeline.updated_by
                else " · the default"
            )
            + ". Open stages in order, one a line; won and lost always follow."
        )
        with st.form(f"pipeline_stages_form_{pipeline_id}"):
            st.text_input(
                "Pipeline id (a new id adds a pipeline)",
                key=f"pipeline_edit_id_{pipeline_id}",
                value=pipeline.pipeline_id,
            )
            st.text_input("Name", key=f"pipeline_edit_name_{pipeline_id}", value=pipeline.name)
            st.text_area(
                "Stages", key=f"pipeline_stages_{pipeline_id}", value="\n".join(pipeline.stages)
            )
            st.form_submit_button("Save stages", on_click=_configure, args=(pipeline_id,))
