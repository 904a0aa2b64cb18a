"""The managers' dashboards: queries over the KPI marts (``app.dashboards.queries``) and the
plotly figures drawn from them (``app.dashboards.figures``). ``app/pages/dashboards.py`` only
lays them out.

Every figure is read from a mart that dbt already aggregated (``marts.kpi_*``,
``deal_pipeline``, ``stock_history``, ``qc_batches``, ``qc_alerts``, ``email_cards``); the
queries here only filter by the page's date range and filters and sum what is left, so the
page's numbers are the marts' numbers.
"""
