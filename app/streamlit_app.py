"""Entry file: page routing only."""

import streamlit as st

st.set_page_config(page_title="Pebble", page_icon=":material/inbox:", layout="wide")

pages = [
    st.Page("pages/kanban.py", title="Kanban", icon=":material/view_kanban:", default=True),
]
st.navigation(pages).run()
