"""The quality-control dashboard's logic (no Streamlit here; ``app/pages/qc.py`` draws it).

- :mod:`app.qc.queries`: what the page reads from the QC marts (``marts.qc_results``,
  ``qc_batches``, ``qc_alerts``, ``qc_throughput_daily``) and from ``ops.qc_alert_acks``;
  the aggregation lives in the marts, the queries only filter and sum small tables.
- :mod:`app.qc.alerts`: acknowledging an alert, an event (``QCAlertAcknowledged``) with
  who and a note, allowed to the ``qc`` role only (checked on the server).
- :mod:`app.qc.figures`: the plotly charts (control chart, throughput, pass rate).
- :mod:`app.qc.coa`: a batch's certificate of analysis as a PDF.
"""
