import pytest
import streamlit as st


@pytest.fixture(autouse=True)
def _fresh_streamlit_caches() -> None:
    """Each test has its own database; cached query results must not leak between them."""
    st.cache_data.clear()
    st.cache_resource.clear()
