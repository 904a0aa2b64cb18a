"""Pebble's Streamlit app: pages in `pages/`, data access and logic in importable modules."""
