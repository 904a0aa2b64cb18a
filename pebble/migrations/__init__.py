"""Alembic migrations for every table Python owns (``raw.*``, ``ml.*``, ``ops.*``).

Run them with :func:`pebble.db.upgrade` or ``pebble db upgrade``; the configuration is built
in code (:func:`pebble.db.alembic_config`), so no ``alembic.ini`` is needed. The version table
is ``ops.alembic_version``. Revisions live in ``versions/`` as ``NNNN_<slug>.py`` with
``revision = "NNNN"`` and ``down_revision`` the previous head.
"""
