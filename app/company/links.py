"""Links to the Company 360 page from any page: ``company?key=<company_key>``, or
``company?order=<sales order no>`` for an order whose company the page looks up.

:func:`company_link` draws one (Streamlit): a page link inside the app, or a plain URL
link where the page is not registered (a page run on its own, as in AppTest). Its label
is always our own words; a company name is data and never a label (labels render
Markdown).
"""

from __future__ import annotations

from urllib.parse import quote

COMPANY_PAGE = "pages/company.py"
#: Query parameters of the page.
KEY_PARAM, ORDER_PARAM, SEARCH_PARAM = "key", "order", "q"
_NO_PAGE = "company_link_no_page"


def company_url(company_key: str) -> str:
    """The page's relative URL for one company."""
    return f"company?{KEY_PARAM}=" + quote(company_key, safe="")


def order_url(sales_order_no: str) -> str:
    """The page's relative URL for the company of one sales order."""
    return f"company?{ORDER_PARAM}=" + quote(sales_order_no, safe="")


def company_link(
    company_key: str, label: str = "Open Company 360", *, key: str | None = None
) -> None:
    """Draw a link to the company's page (``label`` must be our own words)."""
    import streamlit as st
    from streamlit.errors import StreamlitAPIException

    if not st.session_state.get(_NO_PAGE):
        try:
            st.page_link(
                COMPANY_PAGE,
                label=label,
                icon=":material/domain:",
                query_params={KEY_PARAM: company_key},
            )
            return
        except StreamlitAPIException:
            st.session_state[_NO_PAGE] = True
    st.link_button(label, company_url(company_key), icon=":material/domain:", key=key)
