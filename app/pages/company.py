"""Company 360 (``company?key=<company_key>``): one CRM company with its identifiers and
their validity, GSTINs by state, group, risk score and its inputs, contacts, emails and
cards, orders, invoices and receivables, prices, QC and complaints, and its activity
timeline. ``company?order=<sales order no>`` opens the company of an order; ``q=`` holds
a search (name, GSTIN, PAN, CIN, e-mail domain or address) and ``company_tab=`` the open
tab, so a view can be shared. Only the open tab's queries run.

Every role opens the page; what each sees is limited by role, in the query layer
(``app.company.queries``, policy in ``app.company.access``), not by hiding tabs:

- marketing: overview, contacts, orders, activity. No mail, no receivables, no prices; the
  risk score without its money inputs;
- sales: every section; mail (cards, quoted prices, mail events) of the crm and tender
  streams only;
- ops: every section; mail of the erp stream only;
- qc: overview, contacts, orders, QC and complaints, activity. No mail bodies or subjects
  (a complaint card shows only when and where it stands), no receivables, no prices;
- manager and admin: everything, every stream.

The timeline holds only the event kinds of the sections the role sees. Everything shown
is read-only. Company names, subjects and payloads are untrusted: they are shown with
``st.text``, dataframes and select boxes only, never as Markdown or HTML, and never as a
button or link label.
"""

from __future__ import annotations

from urllib.parse import quote

import polars as pl
import streamlit as st
from streamlit.errors import StreamlitAPIException

from app import card as card_page
from app.auth import require_role
from app.company import PAGE_ROLES, SECTION_TITLES, access_for, timeline
from app.company import queries as company
from app.company.links import KEY_PARAM, ORDER_PARAM, SEARCH_PARAM
from app.company.search import search_companies
from ml.indian_numbers import indian_grouping
from pebble.auth import User
from pebble.settings import get_settings

TZ = get_settings().timezone
CARD_PAGE = "pages/card.py"
TAB_PARAM = "company_tab"

user = require_role(*PAGE_ROLES)
access = access_for(user)


# --- cached reads (per user: what a role sees differs) -------------------------------------


@st.cache_data(ttl=60, max_entries=64, show_spinner=False)
def _search(text: str) -> list:
    with company.connect() as conn:
        return search_companies(conn, text)


@st.cache_data(ttl=60, max_entries=64, show_spinner=False)
def _company(key: str) -> company.Company | None:
    with company.connect() as conn:
        return company.fetch_company(conn, key)


@st.cache_data(ttl=60, max_entries=64, show_spinner=False)
def _order_company(order_no: str) -> str | None:
    with company.connect() as conn:
        return company.company_for_order(conn, order_no)


@st.cache_data(ttl=30, max_entries=256, show_spinner=False)
def _section(who: User, key: str, section: str):  # noqa: ANN202 - one of several shapes
    found = _company(key)
    with company.connect() as conn:
        if section == "group":
            return company.group_members(conn, who, found)
        if section == "contacts":
            return company.contacts(conn, who, found)
        if section == "mail":
            return company.cards(conn, who, found, TZ)
        if section == "orders":
            return company.orders(conn, who, found), company.order_lines(conn, who, found)
        if section == "receivables":
            return company.receivables(conn, who, found)
        if section == "prices":
            return company.last_prices(conn, who, found), company.quoted_prices(
                conn, who, found, TZ
            )
        if section == "qc":
            return company.quality(conn, who, found, TZ)
        if section == "activity":
            return timeline.activity(conn, who, found, TZ)
    raise ValueError(section)


def _inr(value: float) -> str:
    return "₹" + indian_grouping(value)


def _table(frame, key: str, caption: str | None = None) -> None:  # noqa: ANN001
    """A table with its row count in our words, exportable as CSV (Streamlit's toolbar)."""
    if caption:
        st.caption(f"{caption}: {frame.height} row{'s' if frame.height != 1 else ''}")
    if frame.height:
        st.dataframe(frame, hide_index=True, key=key)


def _open_card(card_ids: list[str], subjects: dict[str, str], key: str) -> None:
    """Pick one of the cards shown and open it on the card page (roles that open it)."""
    if not card_ids or user.role not in card_page.PAGE_ROLES:
        return
    chosen = st.selectbox(
        "Card",
        card_ids,
        key=key,
        format_func=lambda c: subjects.get(c) or c,
    )
    try:
        st.page_link(CARD_PAGE, label="Open the card", icon=":material/mail:",
                     query_params={"card": chosen})  # fmt: skip
    except StreamlitAPIException:  # the card page not registered (the page run on its own)
        st.link_button("Open the card", "card?card=" + quote(chosen, safe=""), key=f"{key}_go")


def _open_company(key: str) -> None:
    st.query_params[KEY_PARAM] = key
    st.query_params.pop(ORDER_PARAM, None)
    st.query_params.pop(TAB_PARAM, None)


# --- search --------------------------------------------------------------------------------

st.title("Company 360")

order_no = st.query_params.get(ORDER_PARAM)
if order_no and not st.query_params.get(KEY_PARAM):
    found_key = _order_company(order_no)
    if found_key is None:
        st.error("No CRM company for this order (or the order is not in the warehouse).")
        st.text(f"Order: {order_no}")
    else:
        _open_company(found_key)

with st.form("company_search", border=False):
    text = st.text_input(
        "Find a company: name, GSTIN, PAN, CIN or e-mail domain",
        value=st.query_params.get(SEARCH_PARAM, ""),
        key="company_search_text",
        max_chars=200,
    )
    searched = st.form_submit_button("Search", key="company_search_go")
if searched:
    if text.strip():
        st.query_params[SEARCH_PARAM] = text.strip()
    else:
        st.query_params.pop(SEARCH_PARAM, None)
query = st.query_params.get(SEARCH_PARAM, "")
if query:
    hits = _search(query)
    if not hits:
        st.info("No company matches the search.")
    else:
        st.dataframe(
            pl.DataFrame(
                [
                    {
                        "name": h.name,
                        "matched": h.matched,
                        "matched_value": h.matched_value,
                        "score": h.score,
                        "company_key": h.company_key,
                    }
                    for h in hits
                ]
            ),  # fmt: skip
            hide_index=True,
            key="company_hits",
        )
        names = {h.company_key: f"{h.name} · {h.company_key}" for h in hits}
        pick = st.selectbox(
            "Company", list(names), key="company_pick", format_func=lambda k: names.get(k, k)
        )
        st.button("Open", key="company_open", on_click=_open_company, args=(pick,))

key = st.query_params.get(KEY_PARAM)
if not key:
    if not query:
        st.info("Search for a company, or open one from a card, a prelead or an order.")
    st.stop()

current = _company(key)
if current is None:
    st.error("No such company in the CRM master (or the CRM master is not built yet).")
    st.text(f"Key: {key}")
    st.stop()

# --- the company ---------------------------------------------------------------------------

st.divider()
st.text(current.name)
st.text(
    f"{current.company_key} · sources: {', '.join(current.source_systems) or 'none'}"
    + (f" · last activity {current.last_activity_at:%d %b %Y}" if current.last_activity_at else "")
)
st.text(f"Risk score {current.risk_score} of 100")

sections = list(access.sections)
titles = [SECTION_TITLES[s] for s in sections]
tabs = st.tabs(titles, key=TAB_PARAM, on_change="rerun", bind="query-params")


def _open(tab) -> bool:  # noqa: ANN001
    """Only the chosen tab's queries run (``open`` is None where tabs do not track it)."""
    return tab.open is not False


for section, tab in zip(sections, tabs, strict=True):
    if not _open(tab):
        continue
    with tab:
        if section == "overview":
            st.subheader("Identifiers")
            _table(company.identifiers(user, current), "company_identifiers")
            st.subheader("GSTINs by state")
            by_state = company.gstins_by_state(user, current)
            if by_state.height:
                _table(by_state, "company_gstin_states")
            else:
                st.text("No GSTIN on record.")
            st.subheader("Group")
            if current.group_key:
                st.text(f"Group {current.group_key} (companies sharing a mail domain)")
                members = _section(user, key, "group")
                _table(members.drop("company_page"), "company_group", "Other companies")
                if members.height:
                    group = dict(zip(members["company_key"], members["name"], strict=True))
                    other = st.selectbox(
                        "Group company",
                        list(group),
                        key="company_group_pick",
                        format_func=lambda k, group=group: f"{group.get(k) or ''} · {k}",
                    )
                    st.button("Open", key="company_group_open", on_click=_open_company,
                              args=(other,))  # fmt: skip
            else:
                st.text("No group: no other company shares its mail domain.")
            st.subheader("Risk")
            score, inputs, withheld = company.risk(user, current)
            st.text(f"Risk score {score} of 100; the points each input earned:")
            _table(inputs, "company_risk")
            if withheld:
                st.caption(
                    "The overdue amount, overdue invoices and payment days are not shown "
                    "to your role."
                )
        elif section == "contacts":
            _table(_section(user, key, "contacts"), "company_contacts", "Contacts")
        elif section == "mail":
            frame = _section(user, key, "mail")
            st.caption(f"Cards of the streams: {', '.join(access.card_streams)}")
            _table(frame.drop("card_id", "card_page"), "company_cards", "Cards")
            _open_card(
                frame["card_id"].to_list(),
                dict(zip(frame["card_id"], frame["subject"], strict=True)),
                "company_card_pick",
            )
        elif section == "orders":
            heads, lines = _section(user, key, "orders")
            _table(heads, "company_orders", "Orders")
            _table(lines, "company_order_lines", "Order lines")
        elif section == "receivables":
            owed = _section(user, key, "receivables")
            st.text(
                f"Outstanding {_inr(owed.outstanding_inr)} · overdue {_inr(owed.overdue_inr)}"
                f" on {owed.overdue_count} invoice{'s' if owed.overdue_count != 1 else ''}"
            )
            _table(owed.ageing, "company_ageing", "Overdue by age (days)")
            _table(owed.invoices, "company_invoices", "Invoices")
        elif section == "prices":
            last, quoted = _section(user, key, "prices")
            _table(last, "company_last_prices", "Last prices (invoices and orders)")
            _table(quoted, "company_quoted_prices", "Prices named in the mail")
        elif section == "qc":
            qc = _section(user, key, "qc")
            st.text(
                f"Quality complaints by mail: {qc.complaint_email_count} · failed batches "
                f"dispatched: {qc.failed_batch_count}"
            )
            _table(qc.alerts, "company_qc_alerts", "QC alerts")
            _table(qc.batches, "company_qc_batches", "Batches")
            _table(qc.flagged_results, "company_qc_results", "Results out of spec or near a limit")
            complaints = qc.complaints
            hidden = [c for c in ("card_id", "card_page") if c in complaints.columns]
            _table(complaints.drop(hidden), "company_complaints", "Complaint cards")
            if "subject" in complaints.columns:
                _open_card(
                    complaints["card_id"].to_list(),
                    dict(zip(complaints["card_id"], complaints["subject"], strict=True)),
                    "company_complaint_pick",
                )
        elif section == "activity":
            _table(_section(user, key, "activity"), "company_activity", f"Latest events ({TZ})")
