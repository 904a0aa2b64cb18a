-- A warehouse as the code built it before versioned migrations (commit 8d9bfe7), frozen.
--
-- Made by running that commit's table-creating functions (ingest.mail.land.ensure_tables,
-- ingest.common.cursors.ensure_table, ingest.tally.land.ensure_tables,
-- ingest.focus.land.ensure_tables, ingest.prelead.loader.ensure_tables,
-- orchestration.defs.ml.assets.PREDICTIONS_DDL, pebble.db.ensure_schemas) on an empty
-- database, inserting representative rows into every table (raw.quarantine and
-- raw.focus_rejects included), then `pg_dump --inserts --no-owner --no-privileges` with
-- psql-only lines removed. tests/platform/test_migrations.py loads it into an empty database
-- and upgrades it. Never regenerate it from newer code: it stands for warehouses in the field.
--
--
-- PostgreSQL database dump
--


-- Dumped from database version 15.20 (Debian 15.20-0+deb12u1)
-- Dumped by pg_dump version 15.20 (Debian 15.20-0+deb12u1)

SET statement_timeout = 0;
SET lock_timeout = 0;
SET idle_in_transaction_session_timeout = 0;
SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;
SELECT pg_catalog.set_config('search_path', '', false);
SET check_function_bodies = false;
SET xmloption = content;
SET client_min_messages = warning;
SET row_security = off;

--
-- Name: marts; Type: SCHEMA; Schema: -; Owner: -
--

CREATE SCHEMA marts;


--
-- Name: ml; Type: SCHEMA; Schema: -; Owner: -
--

CREATE SCHEMA ml;


--
-- Name: raw; Type: SCHEMA; Schema: -; Owner: -
--

CREATE SCHEMA raw;


--
-- Name: staging; Type: SCHEMA; Schema: -; Owner: -
--

CREATE SCHEMA staging;


SET default_tablespace = '';

SET default_table_access_method = heap;

--
-- Name: email_entities; Type: TABLE; Schema: ml; Owner: -
--

CREATE TABLE ml.email_entities (
    email_key text NOT NULL,
    "position" integer NOT NULL,
    label text NOT NULL,
    text text NOT NULL,
    value jsonb,
    valid boolean,
    start_char integer,
    end_char integer,
    linked_to text
);


--
-- Name: email_predictions; Type: TABLE; Schema: ml; Owner: -
--

CREATE TABLE ml.email_predictions (
    email_key text NOT NULL,
    model_version text NOT NULL,
    stream text NOT NULL,
    intent text NOT NULL,
    confidence double precision NOT NULL,
    stream_confidence double precision NOT NULL,
    requires_review boolean NOT NULL,
    scored_at timestamp with time zone DEFAULT now() NOT NULL,
    company_key text,
    company_name text,
    company_evidence text
);


--
-- Name: email_attachments; Type: TABLE; Schema: raw; Owner: -
--

CREATE TABLE raw.email_attachments (
    email_key text NOT NULL,
    sha256 text NOT NULL,
    filename text NOT NULL,
    content_type text NOT NULL,
    size_bytes bigint NOT NULL
);


--
-- Name: emails; Type: TABLE; Schema: raw; Owner: -
--

CREATE TABLE raw.emails (
    email_key text NOT NULL,
    message_id text,
    variant_of text,
    mailbox text,
    source_kind text NOT NULL,
    source text NOT NULL,
    subject text,
    from_addr text,
    from_name text,
    to_addrs text[] DEFAULT '{}'::text[] NOT NULL,
    cc_addrs text[] DEFAULT '{}'::text[] NOT NULL,
    delivered_to text[] DEFAULT '{}'::text[] NOT NULL,
    sent_at timestamp with time zone,
    in_reply_to text,
    "references" text[] DEFAULT '{}'::text[] NOT NULL,
    thread_key text NOT NULL,
    subject_key text NOT NULL,
    body_text text DEFAULT ''::text NOT NULL,
    has_html boolean DEFAULT false NOT NULL,
    attachment_count integer DEFAULT 0 NOT NULL,
    is_auto_reply boolean DEFAULT false NOT NULL,
    is_bulk boolean DEFAULT false NOT NULL,
    is_bounce boolean DEFAULT false NOT NULL,
    parse_defects text[] DEFAULT '{}'::text[] NOT NULL,
    size_bytes integer NOT NULL,
    load_seq bigint NOT NULL,
    loaded_at timestamp with time zone DEFAULT now() NOT NULL
);


--
-- Name: emails_load_seq_seq; Type: SEQUENCE; Schema: raw; Owner: -
--

ALTER TABLE raw.emails ALTER COLUMN load_seq ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME raw.emails_load_seq_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);


--
-- Name: focus_invoice_lines; Type: TABLE; Schema: raw; Owner: -
--

CREATE TABLE raw.focus_invoice_lines (
    doc_no text NOT NULL,
    line_no integer NOT NULL,
    item_code text,
    item_name text,
    quantity numeric,
    unit text,
    rate numeric,
    amount numeric
);


--
-- Name: focus_invoices; Type: TABLE; Schema: raw; Owner: -
--

CREATE TABLE raw.focus_invoices (
    doc_no text NOT NULL,
    doc_date date NOT NULL,
    order_no text,
    customer_code text,
    customer_name text,
    gstin text,
    vehicle_no text,
    lr_no text,
    taxable_value numeric,
    gst_amount numeric,
    total numeric,
    document jsonb NOT NULL,
    content_hash text NOT NULL,
    first_loaded_at timestamp with time zone DEFAULT now() NOT NULL,
    loaded_at timestamp with time zone DEFAULT now() NOT NULL
);


--
-- Name: focus_qc_inspections; Type: TABLE; Schema: raw; Owner: -
--

CREATE TABLE raw.focus_qc_inspections (
    doc_no text NOT NULL,
    doc_date date NOT NULL,
    batch_no text,
    product_code text,
    product_name text,
    order_no text,
    result text,
    coa_status text,
    document jsonb NOT NULL,
    content_hash text NOT NULL,
    first_loaded_at timestamp with time zone DEFAULT now() NOT NULL,
    loaded_at timestamp with time zone DEFAULT now() NOT NULL
);


--
-- Name: focus_qc_results; Type: TABLE; Schema: raw; Owner: -
--

CREATE TABLE raw.focus_qc_results (
    doc_no text NOT NULL,
    line_no integer NOT NULL,
    param_name text,
    unit text,
    min_value numeric,
    max_value numeric,
    result_value numeric,
    result_text text,
    passed boolean
);


--
-- Name: focus_rejects; Type: TABLE; Schema: raw; Owner: -
--

CREATE TABLE raw.focus_rejects (
    kind text NOT NULL,
    doc_no text NOT NULL,
    error text NOT NULL,
    document jsonb NOT NULL,
    rejected_at timestamp with time zone DEFAULT now() NOT NULL
);


--
-- Name: focus_sales_order_lines; Type: TABLE; Schema: raw; Owner: -
--

CREATE TABLE raw.focus_sales_order_lines (
    doc_no text NOT NULL,
    line_no integer NOT NULL,
    item_code text,
    item_name text,
    quantity numeric,
    unit text,
    rate numeric,
    amount numeric
);


--
-- Name: focus_sales_orders; Type: TABLE; Schema: raw; Owner: -
--

CREATE TABLE raw.focus_sales_orders (
    doc_no text NOT NULL,
    doc_date date NOT NULL,
    customer_code text,
    customer_name text,
    gstin text,
    po_ref text,
    status text,
    total numeric,
    document jsonb NOT NULL,
    content_hash text NOT NULL,
    first_loaded_at timestamp with time zone DEFAULT now() NOT NULL,
    loaded_at timestamp with time zone DEFAULT now() NOT NULL
);


--
-- Name: ingest_cursors; Type: TABLE; Schema: raw; Owner: -
--

CREATE TABLE raw.ingest_cursors (
    source text NOT NULL,
    cursor_key text NOT NULL,
    value text NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL
);


--
-- Name: mailbox_routes; Type: TABLE; Schema: raw; Owner: -
--

CREATE TABLE raw.mailbox_routes (
    mailbox text NOT NULL,
    default_stream text NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL
);


--
-- Name: prelead_batches; Type: TABLE; Schema: raw; Owner: -
--

CREATE TABLE raw.prelead_batches (
    batch text NOT NULL,
    file_name text NOT NULL,
    file_sha256 text NOT NULL,
    file_kind text NOT NULL,
    encoding text,
    header_row integer NOT NULL,
    rows integer NOT NULL,
    valid integer NOT NULL,
    invalid integer NOT NULL,
    duplicates_in_batch integer NOT NULL,
    formula_neutralised integer NOT NULL,
    loaded_at timestamp with time zone DEFAULT now() NOT NULL
);


--
-- Name: prelead_rows; Type: TABLE; Schema: raw; Owner: -
--

CREATE TABLE raw.prelead_rows (
    batch text NOT NULL,
    row_no integer NOT NULL,
    company_name text,
    company_key text,
    gstin text,
    pan text,
    cin text,
    contact_person text,
    email text,
    email_normalised text,
    phone text,
    phone_e164 text,
    city text,
    state text,
    state_name text,
    state_code text,
    address text,
    product_interest text,
    source text,
    extra jsonb,
    is_valid boolean NOT NULL,
    reason_codes text[] NOT NULL,
    reasons jsonb NOT NULL,
    duplicate_of integer,
    duplicate_on text[],
    formula_neutralised boolean NOT NULL,
    formula_originals jsonb
);


--
-- Name: TABLE prelead_rows; Type: COMMENT; Schema: raw; Owner: -
--

COMMENT ON TABLE raw.prelead_rows IS 'One row per data row of a lead list, invalid rows included; row_no is the spreadsheet row.';


--
-- Name: quarantine; Type: TABLE; Schema: raw; Owner: -
--

CREATE TABLE raw.quarantine (
    quarantine_id bigint NOT NULL,
    source_kind text NOT NULL,
    source text NOT NULL,
    reason text NOT NULL,
    sha256 text NOT NULL,
    raw bytea,
    size_bytes bigint,
    raw_in_store boolean DEFAULT false NOT NULL,
    quarantined_at timestamp with time zone DEFAULT now() NOT NULL
);


--
-- Name: quarantine_quarantine_id_seq; Type: SEQUENCE; Schema: raw; Owner: -
--

CREATE SEQUENCE raw.quarantine_quarantine_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: quarantine_quarantine_id_seq; Type: SEQUENCE OWNED BY; Schema: raw; Owner: -
--

ALTER SEQUENCE raw.quarantine_quarantine_id_seq OWNED BY raw.quarantine.quarantine_id;


--
-- Name: tally_ledgers; Type: TABLE; Schema: raw; Owner: -
--

CREATE TABLE raw.tally_ledgers (
    guid text NOT NULL,
    name text NOT NULL,
    parent text,
    gstin text,
    gstins text[] DEFAULT '{}'::text[] NOT NULL,
    pan text,
    state text,
    email text,
    mobile text,
    address text[] DEFAULT '{}'::text[] NOT NULL,
    opening_balance numeric,
    master_id bigint,
    alter_id bigint,
    row_hash text NOT NULL,
    loaded_at timestamp with time zone DEFAULT now() NOT NULL
);


--
-- Name: tally_stock_groups; Type: TABLE; Schema: raw; Owner: -
--

CREATE TABLE raw.tally_stock_groups (
    guid text NOT NULL,
    name text NOT NULL,
    parent text,
    master_id bigint,
    alter_id bigint,
    row_hash text NOT NULL,
    loaded_at timestamp with time zone DEFAULT now() NOT NULL
);


--
-- Name: tally_stock_items; Type: TABLE; Schema: raw; Owner: -
--

CREATE TABLE raw.tally_stock_items (
    guid text NOT NULL,
    snapshot_at timestamp with time zone NOT NULL,
    name text NOT NULL,
    parent text,
    unit text,
    opening_qty numeric,
    opening_value numeric,
    closing_qty numeric,
    rate numeric,
    value numeric,
    hsn text,
    gst_rate numeric,
    master_id bigint,
    alter_id bigint,
    row_hash text NOT NULL,
    loaded_at timestamp with time zone DEFAULT now() NOT NULL
);


--
-- Name: tally_voucher_lines; Type: TABLE; Schema: raw; Owner: -
--

CREATE TABLE raw.tally_voucher_lines (
    voucher_guid text NOT NULL,
    line_no integer NOT NULL,
    item text,
    qty numeric,
    unit text,
    billed_qty numeric,
    rate numeric,
    rate_unit text,
    amount numeric,
    order_no text,
    godown text
);


--
-- Name: tally_vouchers; Type: TABLE; Schema: raw; Owner: -
--

CREATE TABLE raw.tally_vouchers (
    guid text NOT NULL,
    voucher_type text,
    voucher_number text,
    voucher_date date,
    party text,
    party_gstin text,
    reference text,
    order_refs text[] DEFAULT '{}'::text[] NOT NULL,
    is_cancelled boolean DEFAULT false NOT NULL,
    is_optional boolean DEFAULT false NOT NULL,
    total numeric,
    vehicle_no text,
    lr_no text,
    ledger_entries jsonb DEFAULT '[]'::jsonb NOT NULL,
    master_id bigint,
    alter_id bigint,
    row_hash text NOT NULL,
    loaded_at timestamp with time zone DEFAULT now() NOT NULL
);


--
-- Name: quarantine quarantine_id; Type: DEFAULT; Schema: raw; Owner: -
--

ALTER TABLE ONLY raw.quarantine ALTER COLUMN quarantine_id SET DEFAULT nextval('raw.quarantine_quarantine_id_seq'::regclass);


--
-- Data for Name: email_entities; Type: TABLE DATA; Schema: ml; Owner: -
--

INSERT INTO ml.email_entities VALUES ('k-001', 0, 'PO_NO', '4500012345', '{"value": "4500012345"}', true, 3, 13, 'SO/25-26/01900');
INSERT INTO ml.email_entities VALUES ('k-001', 1, 'PRODUCT', 'Zinc Oxide', NULL, NULL, 17, 27, 'Zinc Oxide');


--
-- Data for Name: email_predictions; Type: TABLE DATA; Schema: ml; Owner: -
--

INSERT INTO ml.email_predictions VALUES ('k-001', 'm-3f2a', 'crm', 'purchase_order', 0.93, 0.97, false, '2026-11-20 04:45:00+00', 'ledger:l-1', 'Deccan Paints Ltd', 'gstin');
INSERT INTO ml.email_predictions VALUES ('k-002', 'm-3f2a', 'crm', 'other', 0.41, 0.88, true, '2026-11-20 04:45:00+00', NULL, NULL, NULL);


--
-- Data for Name: email_attachments; Type: TABLE DATA; Schema: raw; Owner: -
--

INSERT INTO raw.email_attachments VALUES ('k-001', '9f9f9f9f9f9f9f9f9f9f9f9f9f9f9f9f9f9f9f9f9f9f9f9f9f9f9f9f9f9f9f9f', 'PO-4500012345.pdf', 'application/pdf', 53211);


--
-- Data for Name: emails; Type: TABLE DATA; Schema: raw; Owner: -
--

INSERT INTO raw.emails OVERRIDING SYSTEM VALUE VALUES ('k-001', '<po-4411@deccanpaints.co.in>', NULL, 'sales', 'eml', '/drops/mail/po.eml', 'PO 4500012345 - Zinc Oxide 2 MT', 'purchase@deccanpaints.co.in', 'Ravi Kumar', '{sales@pebbledemo.in}', '{}', '{sales@pebbledemo.in}', '2026-11-20 04:45:00+00', NULL, '{}', 't-001', 'po 4500012345 - zinc oxide 2 mt', 'Please supply Zinc Oxide 2 MT at ₹1,42,000 per MT.', false, 1, false, false, false, '{}', 2048, 1, '2026-11-20 04:45:00+00');
INSERT INTO raw.emails OVERRIDING SYSTEM VALUE VALUES ('k-002', '<po-4411@deccanpaints.co.in>', 'k-001', 'sales', 'imap', 'imap:INBOX:17', 'Re: PO 4500012345', 'purchase@deccanpaints.co.in', NULL, '{sales@pebbledemo.in}', '{accounts@pebbledemo.in}', '{}', '2026-11-20 04:45:00+00', '<po-4411@deccanpaints.co.in>', '{<po-4411@deccanpaints.co.in>}', 't-001', 'po 4500012345', 'कृपया जल्दी भेजें', true, 0, false, true, false, '{MissingHeaderBodySeparatorDefect}', 912, 2, '2026-11-20 04:45:00+00');


--
-- Data for Name: focus_invoice_lines; Type: TABLE DATA; Schema: raw; Owner: -
--

INSERT INTO raw.focus_invoice_lines VALUES ('INV/25-26/0777', 1, 'ZNO-99', 'Zinc Oxide', 1000, 'KG', 100, 100000);


--
-- Data for Name: focus_invoices; Type: TABLE DATA; Schema: raw; Owner: -
--

INSERT INTO raw.focus_invoices VALUES ('INV/25-26/0777', '2025-11-05', 'SO/25-26/01900', 'C-101', 'Deccan Paints Ltd', '36AADCD7742M1Z9', 'TS09UB1234', 'LR-78', 100000, 18000, 118000, '{"DocNo": "INV/25-26/0777"}', 'ch2', '2026-11-20 04:45:00+00', '2026-11-20 04:45:00+00');


--
-- Data for Name: focus_qc_inspections; Type: TABLE DATA; Schema: raw; Owner: -
--

INSERT INTO raw.focus_qc_inspections VALUES ('QC/25-26/0311', '2025-11-03', 'B-2211', 'ZNO-99', 'Zinc Oxide', 'SO/25-26/01900', 'pass', 'issued', '{"DocNo": "QC/25-26/0311"}', 'ch3', '2026-11-20 04:45:00+00', '2026-11-20 04:45:00+00');


--
-- Data for Name: focus_qc_results; Type: TABLE DATA; Schema: raw; Owner: -
--

INSERT INTO raw.focus_qc_results VALUES ('QC/25-26/0311', 1, 'Purity', '%%', 99.5, NULL, 99.7, '99.7', true);
INSERT INTO raw.focus_qc_results VALUES ('QC/25-26/0311', 2, 'Appearance', NULL, NULL, NULL, NULL, 'white powder', true);


--
-- Data for Name: focus_rejects; Type: TABLE DATA; Schema: raw; Owner: -
--

INSERT INTO raw.focus_rejects VALUES ('sales_orders', 'SO/25-26/01901', 'missing date', '{"Date": null, "DocNo": "SO/25-26/01901", "Customer": "Śrī Chemicals"}', '2026-11-20 04:45:00+00');
INSERT INTO raw.focus_rejects VALUES ('invoices', 'INV/25-26/0778', 'total is not a number: ₹ 1,18,000', '{"DocNo": "INV/25-26/0778", "Total": "₹ 1,18,000"}', '2026-11-20 04:45:00+00');


--
-- Data for Name: focus_sales_order_lines; Type: TABLE DATA; Schema: raw; Owner: -
--

INSERT INTO raw.focus_sales_order_lines VALUES ('SO/25-26/01900', 1, 'ZNO-99', 'Zinc Oxide', 1000, 'KG', 100, 100000);


--
-- Data for Name: focus_sales_orders; Type: TABLE DATA; Schema: raw; Owner: -
--

INSERT INTO raw.focus_sales_orders VALUES ('SO/25-26/01900', '2025-11-01', 'C-101', 'Deccan Paints Ltd', '36AADCD7742M1Z9', '4500012345', 'open', 118000, '{"DocNo": "SO/25-26/01900", "Total": 118000, "Customer": "Deccan Paints Ltd"}', 'ch1', '2026-11-20 04:45:00+00', '2026-11-20 04:45:00+00');


--
-- Data for Name: ingest_cursors; Type: TABLE DATA; Schema: raw; Owner: -
--

INSERT INTO raw.ingest_cursors VALUES ('tally', 'vouchers', '1042', '2026-11-20 04:45:00+00');
INSERT INTO raw.ingest_cursors VALUES ('focus', 'sales_orders', '2026-11-19', '2026-11-20 04:45:00+00');


--
-- Data for Name: mailbox_routes; Type: TABLE DATA; Schema: raw; Owner: -
--

INSERT INTO raw.mailbox_routes VALUES ('sales', 'crm', '2026-12-02 04:48:16.339011+00');
INSERT INTO raw.mailbox_routes VALUES ('accounts', 'erp', '2026-12-02 04:48:16.339011+00');
INSERT INTO raw.mailbox_routes VALUES ('tenders', 'tender', '2026-12-02 04:48:16.339011+00');
INSERT INTO raw.mailbox_routes VALUES ('qc', 'crm', '2026-12-02 04:48:16.339011+00');
INSERT INTO raw.mailbox_routes VALUES ('exports', 'crm', '2026-12-02 04:48:16.422018+00');


--
-- Data for Name: prelead_batches; Type: TABLE DATA; Schema: raw; Owner: -
--

INSERT INTO raw.prelead_batches VALUES ('expo-2026', 'expo leads.xlsx', 'd4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4', 'xlsx', NULL, 1, 2, 1, 1, 0, 1, '2026-11-20 04:45:00+00');


--
-- Data for Name: prelead_rows; Type: TABLE DATA; Schema: raw; Owner: -
--

INSERT INTO raw.prelead_rows VALUES ('expo-2026', 2, 'Sri Balaji Polymers', 'sri balaji polymers', '27AAECS1234F1Z5', 'AAECS1234F', NULL, 'Anil', 'anil@sbp.in', 'anil@sbp.in', '98200 12345', '+919820012345', 'Pune', 'MH', 'Maharashtra', '27', 'MIDC Bhosari', 'PVC stabiliser', 'expo', '{"stall": "B-12"}', true, '{}', '[]', NULL, NULL, false, NULL);
INSERT INTO raw.prelead_rows VALUES ('expo-2026', 3, '=HYPERLINK("x")', NULL, 'BADGSTIN', NULL, NULL, NULL, 'not-an-email', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, false, '{invalid_gstin,invalid_email}', '[{"code": "invalid_gstin"}, {"code": "invalid_email"}]', NULL, NULL, true, '{"company_name": "=HYPERLINK(\"x\")"}');


--
-- Data for Name: quarantine; Type: TABLE DATA; Schema: raw; Owner: -
--

INSERT INTO raw.quarantine VALUES (1, 'eml', '/drops/mail/broken.eml', 'not an email: no headers', 'a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1', '\x00fffe806162', 6, false, '2026-11-20 04:45:00+00');
INSERT INTO raw.quarantine VALUES (2, 'mbox', '/drops/mail/big.mbox#3', 'message larger than 25 MB', 'b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2', NULL, 30000000, true, '2026-11-20 04:45:00+00');
INSERT INTO raw.quarantine VALUES (3, 'imap', 'imap:INBOX:21', 'undecodable headers', 'c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3', '\xc328000178', 5, false, '2026-11-20 04:45:00+00');


--
-- Data for Name: tally_ledgers; Type: TABLE DATA; Schema: raw; Owner: -
--

INSERT INTO raw.tally_ledgers VALUES ('l-1', 'Deccan Paints Ltd', 'Sundry Debtors', '36AADCD7742M1Z9', '{36AADCD7742M1Z9,27AADCD7742M1ZQ}', 'AADCD7742M', 'Telangana', 'purchase@deccanpaints.co.in', '+919848012345', '{"Plot 7, IDA Jeedimetla",Hyderabad}', -250000.50, 21, 33, 'h3', '2026-11-20 04:45:00+00');


--
-- Data for Name: tally_stock_groups; Type: TABLE DATA; Schema: raw; Owner: -
--

INSERT INTO raw.tally_stock_groups VALUES ('g-1', 'Inorganic Pigments', 'Primary', 1, 5, 'h1', '2026-11-20 04:45:00+00');


--
-- Data for Name: tally_stock_items; Type: TABLE DATA; Schema: raw; Owner: -
--

INSERT INTO raw.tally_stock_items VALUES ('s-1', '2026-11-18 18:30:00+00', 'Zinc Oxide', 'Inorganic Pigments', 'KG', 1000, 142000, 850.5, 142, 120771, '28170010', 18, 11, 12, 'h2', '2026-11-20 04:45:00+00');
INSERT INTO raw.tally_stock_items VALUES ('s-1', '2026-11-19 18:30:00+00', 'Zinc Oxide', 'Inorganic Pigments', 'KG', 1000, 142000, 850.5, 142, 120771, '28170010', 18, 11, 12, 'h2', '2026-11-20 04:45:00+00');


--
-- Data for Name: tally_voucher_lines; Type: TABLE DATA; Schema: raw; Owner: -
--

INSERT INTO raw.tally_voucher_lines VALUES ('v-1', 1, 'Zinc Oxide', 2000, 'KG', 2000, 120, 'KG', 240000, 'SO/25-26/0042', 'Main Location');
INSERT INTO raw.tally_voucher_lines VALUES ('v-1', 2, 'Freight', NULL, NULL, NULL, NULL, NULL, 3200, NULL, NULL);


--
-- Data for Name: tally_vouchers; Type: TABLE DATA; Schema: raw; Owner: -
--

INSERT INTO raw.tally_vouchers VALUES ('v-1', 'Sales Order', 'SO/25-26/0042', '2026-11-18', 'Deccan Paints Ltd', '36AADCD7742M1Z9', '4500012345', '{SO/25-26/0042}', false, false, 283200, 'TS09UB1234', 'LR-77', '[{"amount": -240000, "ledger": "Sales GST 18%"}]', 41, 1042, 'h4', '2026-11-20 04:45:00+00');


--
-- Name: emails_load_seq_seq; Type: SEQUENCE SET; Schema: raw; Owner: -
--

SELECT pg_catalog.setval('raw.emails_load_seq_seq', 2, true);


--
-- Name: quarantine_quarantine_id_seq; Type: SEQUENCE SET; Schema: raw; Owner: -
--

SELECT pg_catalog.setval('raw.quarantine_quarantine_id_seq', 3, true);


--
-- Name: email_entities email_entities_pkey; Type: CONSTRAINT; Schema: ml; Owner: -
--

ALTER TABLE ONLY ml.email_entities
    ADD CONSTRAINT email_entities_pkey PRIMARY KEY (email_key, "position");


--
-- Name: email_predictions email_predictions_pkey; Type: CONSTRAINT; Schema: ml; Owner: -
--

ALTER TABLE ONLY ml.email_predictions
    ADD CONSTRAINT email_predictions_pkey PRIMARY KEY (email_key);


--
-- Name: email_attachments email_attachments_pkey; Type: CONSTRAINT; Schema: raw; Owner: -
--

ALTER TABLE ONLY raw.email_attachments
    ADD CONSTRAINT email_attachments_pkey PRIMARY KEY (email_key, sha256);


--
-- Name: emails emails_pkey; Type: CONSTRAINT; Schema: raw; Owner: -
--

ALTER TABLE ONLY raw.emails
    ADD CONSTRAINT emails_pkey PRIMARY KEY (email_key);


--
-- Name: focus_invoice_lines focus_invoice_lines_pkey; Type: CONSTRAINT; Schema: raw; Owner: -
--

ALTER TABLE ONLY raw.focus_invoice_lines
    ADD CONSTRAINT focus_invoice_lines_pkey PRIMARY KEY (doc_no, line_no);


--
-- Name: focus_invoices focus_invoices_pkey; Type: CONSTRAINT; Schema: raw; Owner: -
--

ALTER TABLE ONLY raw.focus_invoices
    ADD CONSTRAINT focus_invoices_pkey PRIMARY KEY (doc_no);


--
-- Name: focus_qc_inspections focus_qc_inspections_pkey; Type: CONSTRAINT; Schema: raw; Owner: -
--

ALTER TABLE ONLY raw.focus_qc_inspections
    ADD CONSTRAINT focus_qc_inspections_pkey PRIMARY KEY (doc_no);


--
-- Name: focus_qc_results focus_qc_results_pkey; Type: CONSTRAINT; Schema: raw; Owner: -
--

ALTER TABLE ONLY raw.focus_qc_results
    ADD CONSTRAINT focus_qc_results_pkey PRIMARY KEY (doc_no, line_no);


--
-- Name: focus_rejects focus_rejects_pkey; Type: CONSTRAINT; Schema: raw; Owner: -
--

ALTER TABLE ONLY raw.focus_rejects
    ADD CONSTRAINT focus_rejects_pkey PRIMARY KEY (kind, doc_no);


--
-- Name: focus_sales_order_lines focus_sales_order_lines_pkey; Type: CONSTRAINT; Schema: raw; Owner: -
--

ALTER TABLE ONLY raw.focus_sales_order_lines
    ADD CONSTRAINT focus_sales_order_lines_pkey PRIMARY KEY (doc_no, line_no);


--
-- Name: focus_sales_orders focus_sales_orders_pkey; Type: CONSTRAINT; Schema: raw; Owner: -
--

ALTER TABLE ONLY raw.focus_sales_orders
    ADD CONSTRAINT focus_sales_orders_pkey PRIMARY KEY (doc_no);


--
-- Name: ingest_cursors ingest_cursors_pkey; Type: CONSTRAINT; Schema: raw; Owner: -
--

ALTER TABLE ONLY raw.ingest_cursors
    ADD CONSTRAINT ingest_cursors_pkey PRIMARY KEY (source, cursor_key);


--
-- Name: mailbox_routes mailbox_routes_pkey; Type: CONSTRAINT; Schema: raw; Owner: -
--

ALTER TABLE ONLY raw.mailbox_routes
    ADD CONSTRAINT mailbox_routes_pkey PRIMARY KEY (mailbox);


--
-- Name: prelead_batches prelead_batches_pkey; Type: CONSTRAINT; Schema: raw; Owner: -
--

ALTER TABLE ONLY raw.prelead_batches
    ADD CONSTRAINT prelead_batches_pkey PRIMARY KEY (batch);


--
-- Name: prelead_rows prelead_rows_pkey; Type: CONSTRAINT; Schema: raw; Owner: -
--

ALTER TABLE ONLY raw.prelead_rows
    ADD CONSTRAINT prelead_rows_pkey PRIMARY KEY (batch, row_no);


--
-- Name: quarantine quarantine_pkey; Type: CONSTRAINT; Schema: raw; Owner: -
--

ALTER TABLE ONLY raw.quarantine
    ADD CONSTRAINT quarantine_pkey PRIMARY KEY (quarantine_id);


--
-- Name: quarantine quarantine_sha256_source_key; Type: CONSTRAINT; Schema: raw; Owner: -
--

ALTER TABLE ONLY raw.quarantine
    ADD CONSTRAINT quarantine_sha256_source_key UNIQUE (sha256, source);


--
-- Name: tally_ledgers tally_ledgers_pkey; Type: CONSTRAINT; Schema: raw; Owner: -
--

ALTER TABLE ONLY raw.tally_ledgers
    ADD CONSTRAINT tally_ledgers_pkey PRIMARY KEY (guid);


--
-- Name: tally_stock_groups tally_stock_groups_pkey; Type: CONSTRAINT; Schema: raw; Owner: -
--

ALTER TABLE ONLY raw.tally_stock_groups
    ADD CONSTRAINT tally_stock_groups_pkey PRIMARY KEY (guid);


--
-- Name: tally_stock_items tally_stock_items_pkey; Type: CONSTRAINT; Schema: raw; Owner: -
--

ALTER TABLE ONLY raw.tally_stock_items
    ADD CONSTRAINT tally_stock_items_pkey PRIMARY KEY (guid, snapshot_at);


--
-- Name: tally_voucher_lines tally_voucher_lines_pkey; Type: CONSTRAINT; Schema: raw; Owner: -
--

ALTER TABLE ONLY raw.tally_voucher_lines
    ADD CONSTRAINT tally_voucher_lines_pkey PRIMARY KEY (voucher_guid, line_no);


--
-- Name: tally_vouchers tally_vouchers_pkey; Type: CONSTRAINT; Schema: raw; Owner: -
--

ALTER TABLE ONLY raw.tally_vouchers
    ADD CONSTRAINT tally_vouchers_pkey PRIMARY KEY (guid);


--
-- Name: email_attachments_sha256_idx; Type: INDEX; Schema: raw; Owner: -
--

CREATE INDEX email_attachments_sha256_idx ON raw.email_attachments USING btree (sha256);


--
-- Name: emails_loaded_at_idx; Type: INDEX; Schema: raw; Owner: -
--

CREATE INDEX emails_loaded_at_idx ON raw.emails USING btree (loaded_at);


--
-- Name: emails_message_id_idx; Type: INDEX; Schema: raw; Owner: -
--

CREATE INDEX emails_message_id_idx ON raw.emails USING btree (message_id) WHERE (message_id IS NOT NULL);


--
-- Name: emails_thread_key_idx; Type: INDEX; Schema: raw; Owner: -
--

CREATE INDEX emails_thread_key_idx ON raw.emails USING btree (thread_key);


--
-- Name: email_attachments email_attachments_email_key_fkey; Type: FK CONSTRAINT; Schema: raw; Owner: -
--

ALTER TABLE ONLY raw.email_attachments
    ADD CONSTRAINT email_attachments_email_key_fkey FOREIGN KEY (email_key) REFERENCES raw.emails(email_key) ON DELETE CASCADE;


--
-- Name: tally_voucher_lines tally_voucher_lines_voucher_guid_fkey; Type: FK CONSTRAINT; Schema: raw; Owner: -
--

ALTER TABLE ONLY raw.tally_voucher_lines
    ADD CONSTRAINT tally_voucher_lines_voucher_guid_fkey FOREIGN KEY (voucher_guid) REFERENCES raw.tally_vouchers(guid) ON DELETE CASCADE;


--
-- PostgreSQL database dump complete
--


