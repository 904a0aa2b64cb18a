"""Users (admin only): the local accounts and the latest sign-ins, sign-outs and refusals.

Read-only: the app's database role may read ``auth.users`` but not write it. Accounts are
added, reset and given another role on the server with ``pebble user``. No password hash
is ever read here.
"""

import polars as pl
import streamlit as st

from app.auth import require_role
from pebble import auth, db
from pebble.settings import get_settings

require_role("admin")

TZ = get_settings().timezone


def _local_times(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.with_columns(
        pl.col(name).dt.convert_time_zone(TZ)
        for name, dtype in frame.schema.items()
        if isinstance(dtype, pl.Datetime)
    )


st.title("Users")
st.caption(
    "Accounts are managed on the server, as the warehouse owner: "
    "`pebble user add NAME --role ROLE`, `pebble user reset NAME`, `pebble user role NAME ROLE`."
)
with db.connect() as conn:
    users = _local_times(auth.list_users(conn))
    sign_ins = _local_times(auth.recent_sign_in_events(conn))

st.subheader(f"Accounts ({users.height})")
st.dataframe(users, hide_index=True, key="users_accounts")
st.subheader("Recent sign-ins")
st.caption(f"The latest {sign_ins.height} sign-ins, sign-outs and refused sign-ins, newest first.")
st.dataframe(sign_ins, hide_index=True, key="users_sign_ins")
