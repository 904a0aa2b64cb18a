"""Baseline: the schema the code created on its own before migrations existed.

Every statement is idempotent (``IF NOT EXISTS``), so this revision also *adopts* a warehouse
that an earlier release built with its ``ensure_tables()`` functions: existing tables and
rows are kept, and the columns those releases added later by ``ALTER TABLE … ADD COLUMN IF
NOT EXISTS`` are added where missing. The SQL is frozen here on purpose: it must not follow
later changes to the landing code. Collected from ``ingest/mail/land.py``,
``ingest/common/cursors.py``, ``ingest/tally/land.py``, ``ingest/focus/land.py``,
``ingest/prelead/loader.py`` and ``orchestration/defs/ml/assets.py`` at commit 8d9bfe7.

Revision ID: 0001
Revises:
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMAS = ("raw", "staging", "marts", "ml")

MAIL = (
    """
    CREATE TABLE IF NOT EXISTS raw.emails (
        email_key        text PRIMARY KEY,
        message_id       text,
        variant_of       text,
        mailbox          text,
        source_kind      text NOT NULL,
        source           text NOT NULL,
        subject          text,
        from_addr        text,
        from_name        text,
        to_addrs         text[] NOT NULL DEFAULT '{}',
        cc_addrs         text[] NOT NULL DEFAULT '{}',
        delivered_to     text[] NOT NULL DEFAULT '{}',
        sent_at          timestamptz,
        in_reply_to      text,
        "references"     text[] NOT NULL DEFAULT '{}',
        thread_key       text NOT NULL,
        subject_key      text NOT NULL,
        body_text        text NOT NULL DEFAULT '',
        has_html         boolean NOT NULL DEFAULT false,
        attachment_count int NOT NULL DEFAULT 0,
        is_auto_reply    boolean NOT NULL DEFAULT false,
        is_bulk          boolean NOT NULL DEFAULT false,
        is_bounce        boolean NOT NULL DEFAULT false,
        parse_defects    text[] NOT NULL DEFAULT '{}',
        size_bytes       int NOT NULL,
        load_seq         bigint GENERATED ALWAYS AS IDENTITY,
        loaded_at        timestamptz NOT NULL DEFAULT now()
    )
    """,
    # added after the first release of raw.emails
    "ALTER TABLE raw.emails ADD COLUMN IF NOT EXISTS is_bulk boolean NOT NULL DEFAULT false",
    """
    CREATE INDEX IF NOT EXISTS emails_message_id_idx ON raw.emails (message_id)
        WHERE message_id IS NOT NULL
    """,
    "CREATE INDEX IF NOT EXISTS emails_thread_key_idx ON raw.emails (thread_key)",
    "CREATE INDEX IF NOT EXISTS emails_loaded_at_idx ON raw.emails (loaded_at)",
    """
    CREATE TABLE IF NOT EXISTS raw.email_attachments (
        email_key    text NOT NULL REFERENCES raw.emails (email_key) ON DELETE CASCADE,
        sha256       text NOT NULL,
        filename     text NOT NULL,
        content_type text NOT NULL,
        size_bytes   bigint NOT NULL,
        PRIMARY KEY (email_key, sha256)
    )
    """,
    "CREATE INDEX IF NOT EXISTS email_attachments_sha256_idx ON raw.email_attachments (sha256)",
    """
    CREATE TABLE IF NOT EXISTS raw.quarantine (
        quarantine_id  bigserial PRIMARY KEY,
        source_kind    text NOT NULL,
        source         text NOT NULL,
        reason         text NOT NULL,
        sha256         text NOT NULL,
        raw            bytea,
        size_bytes     bigint,
        raw_in_store   boolean NOT NULL DEFAULT false,
        quarantined_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (sha256, source)
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS raw.mailbox_routes (
        mailbox        text PRIMARY KEY,
        default_stream text NOT NULL,
        updated_at     timestamptz NOT NULL DEFAULT now()
    )
    """,
    # the default routes, only into an empty table (as the landing code seeded them)
    """
    INSERT INTO raw.mailbox_routes (mailbox, default_stream)
    SELECT mailbox, default_stream
    FROM (VALUES ('sales', 'crm'), ('accounts', 'erp'), ('qc', 'erp'), ('tenders', 'tender'))
        AS seed (mailbox, default_stream)
    WHERE NOT EXISTS (SELECT 1 FROM raw.mailbox_routes)
    ON CONFLICT (mailbox) DO NOTHING
    """,
)

CURSORS = (
    """
    CREATE TABLE IF NOT EXISTS raw.ingest_cursors (
        source      text NOT NULL,
        cursor_key  text NOT NULL,
        value       text NOT NULL,
        updated_at  timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (source, cursor_key)
    )
    """,
)

TALLY = (
    """
    CREATE TABLE IF NOT EXISTS raw.tally_stock_items (
        guid          text NOT NULL,
        snapshot_at   timestamptz NOT NULL,
        name          text NOT NULL,
        parent        text,
        unit          text,
        opening_qty   numeric,
        opening_value numeric,
        closing_qty   numeric,
        rate          numeric,
        value         numeric,
        hsn           text,
        gst_rate      numeric,
        master_id     bigint,
        alter_id      bigint,
        row_hash      text NOT NULL,
        loaded_at     timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (guid, snapshot_at)
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS raw.tally_stock_groups (
        guid       text PRIMARY KEY,
        name       text NOT NULL,
        parent     text,
        master_id  bigint,
        alter_id   bigint,
        row_hash   text NOT NULL,
        loaded_at  timestamptz NOT NULL DEFAULT now()
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS raw.tally_ledgers (
        guid            text PRIMARY KEY,
        name            text NOT NULL,
        parent          text,
        gstin           text,
        gstins          text[] NOT NULL DEFAULT '{}',
        pan             text,
        state           text,
        email           text,
        mobile          text,
        address         text[] NOT NULL DEFAULT '{}',
        opening_balance numeric,
        master_id       bigint,
        alter_id        bigint,
        row_hash        text NOT NULL,
        loaded_at       timestamptz NOT NULL DEFAULT now()
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS raw.tally_vouchers (
        guid           text PRIMARY KEY,
        voucher_type   text,
        voucher_number text,
        voucher_date   date,
        party          text,
        party_gstin    text,
        reference      text,
        order_refs     text[] NOT NULL DEFAULT '{}',
        is_cancelled   boolean NOT NULL DEFAULT false,
        is_optional    boolean NOT NULL DEFAULT false,
        total          numeric,
        vehicle_no     text,
        lr_no          text,
        ledger_entries jsonb NOT NULL DEFAULT '[]',
        master_id      bigint,
        alter_id       bigint,
        row_hash       text NOT NULL,
        loaded_at      timestamptz NOT NULL DEFAULT now()
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS raw.tally_voucher_lines (
        voucher_guid text NOT NULL REFERENCES raw.tally_vouchers (guid) ON DELETE CASCADE,
        line_no      integer NOT NULL,
        item         text,
        qty          numeric,
        unit         text,
        billed_qty   numeric,
        rate         numeric,
        rate_unit    text,
        amount       numeric,
        order_no     text,
        godown       text,
        PRIMARY KEY (voucher_guid, line_no)
    )
    """,
)

FOCUS = (
    """
    CREATE TABLE IF NOT EXISTS raw.focus_sales_orders (
        doc_no          text NOT NULL,
        doc_date        date NOT NULL,
        customer_code   text,
        customer_name   text,
        gstin           text,
        po_ref          text,
        status          text,
        total           numeric,
        document        jsonb NOT NULL,
        content_hash    text NOT NULL,
        first_loaded_at timestamptz NOT NULL DEFAULT now(),
        loaded_at       timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (doc_no)
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS raw.focus_sales_order_lines (
        doc_no    text NOT NULL,
        line_no   integer NOT NULL,
        item_code text,
        item_name text,
        quantity  numeric,
        unit      text,
        rate      numeric,
        amount    numeric,
        PRIMARY KEY (doc_no, line_no)
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS raw.focus_invoices (
        doc_no          text NOT NULL,
        doc_date        date NOT NULL,
        order_no        text,
        customer_code   text,
        customer_name   text,
        gstin           text,
        vehicle_no      text,
        lr_no           text,
        taxable_value   numeric,
        gst_amount      numeric,
        total           numeric,
        document        jsonb NOT NULL,
        content_hash    text NOT NULL,
        first_loaded_at timestamptz NOT NULL DEFAULT now(),
        loaded_at       timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (doc_no)
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS raw.focus_invoice_lines (
        doc_no    text NOT NULL,
        line_no   integer NOT NULL,
        item_code text,
        item_name text,
        quantity  numeric,
        unit      text,
        rate      numeric,
        amount    numeric,
        PRIMARY KEY (doc_no, line_no)
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS raw.focus_qc_inspections (
        doc_no          text NOT NULL,
        doc_date        date NOT NULL,
        batch_no        text,
        product_code    text,
        product_name    text,
        order_no        text,
        result          text,
        coa_status      text,
        document        jsonb NOT NULL,
        content_hash    text NOT NULL,
        first_loaded_at timestamptz NOT NULL DEFAULT now(),
        loaded_at       timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (doc_no)
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS raw.focus_qc_results (
        doc_no       text NOT NULL,
        line_no      integer NOT NULL,
        param_name   text,
        unit         text,
        min_value    numeric,
        max_value    numeric,
        result_value numeric,
        result_text  text,
        passed       boolean,
        PRIMARY KEY (doc_no, line_no)
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS raw.focus_rejects (
        kind         text NOT NULL,
        doc_no       text NOT NULL,
        error        text NOT NULL,
        document     jsonb NOT NULL,
        rejected_at  timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (kind, doc_no)
    )
    """,
)

PRELEAD = (
    """
    CREATE TABLE IF NOT EXISTS raw.prelead_batches (
        batch               text PRIMARY KEY,
        file_name           text NOT NULL,
        file_sha256         text NOT NULL,
        file_kind           text NOT NULL,
        encoding            text,
        header_row          integer NOT NULL,
        rows                integer NOT NULL,
        valid               integer NOT NULL,
        invalid             integer NOT NULL,
        duplicates_in_batch integer NOT NULL,
        formula_neutralised integer NOT NULL,
        loaded_at           timestamptz NOT NULL DEFAULT now()
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS raw.prelead_rows (
        batch               text NOT NULL,
        row_no              integer NOT NULL,
        company_name        text,
        company_key         text,
        gstin               text,
        pan                 text,
        cin                 text,
        contact_person      text,
        email               text,
        email_normalised    text,
        phone               text,
        phone_e164          text,
        city                text,
        state               text,
        state_name          text,
        state_code          text,
        address             text,
        product_interest    text,
        source              text,
        extra               jsonb,
        is_valid            boolean NOT NULL,
        reason_codes        text[] NOT NULL,
        reasons             jsonb NOT NULL,
        duplicate_of        integer,
        duplicate_on        text[],
        formula_neutralised boolean NOT NULL,
        formula_originals   jsonb,
        PRIMARY KEY (batch, row_no)
    )
    """,
    """
    COMMENT ON TABLE raw.prelead_rows IS
        'One row per data row of a lead list, invalid rows included; row_no is the spreadsheet row.'
    """,
)

ML = (
    """
    CREATE TABLE IF NOT EXISTS ml.email_predictions (
        email_key         text PRIMARY KEY,
        model_version     text NOT NULL,
        stream            text NOT NULL,
        intent            text NOT NULL,
        confidence        double precision NOT NULL,
        stream_confidence double precision NOT NULL,
        requires_review   boolean NOT NULL,
        scored_at         timestamptz NOT NULL DEFAULT now(),
        company_key       text,
        company_name      text,
        company_evidence  text
    )
    """,
    # added after the first release of ml.email_predictions
    "ALTER TABLE ml.email_predictions ADD COLUMN IF NOT EXISTS company_key text",
    "ALTER TABLE ml.email_predictions ADD COLUMN IF NOT EXISTS company_name text",
    "ALTER TABLE ml.email_predictions ADD COLUMN IF NOT EXISTS company_evidence text",
    """
    CREATE TABLE IF NOT EXISTS ml.email_entities (
        email_key  text NOT NULL,
        position   integer NOT NULL,
        label      text NOT NULL,
        text       text NOT NULL,
        value      jsonb,
        valid      boolean,
        start_char integer,
        end_char   integer,
        linked_to  text,
        PRIMARY KEY (email_key, position)
    )
    """,
    # added after the first release of ml.email_entities
    "ALTER TABLE ml.email_entities ADD COLUMN IF NOT EXISTS linked_to text",
)


def upgrade() -> None:
    for schema in SCHEMAS:
        op.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
    for statement in (*MAIL, *CURSORS, *TALLY, *FOCUS, *PRELEAD, *ML):
        op.execute(statement)


def downgrade() -> None:
    raise NotImplementedError(
        "the baseline is not downgraded: it would drop every landed row (restore a backup)"
    )
