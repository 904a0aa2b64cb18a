"""Products come from the stock master in the warehouse (`marts.stock_levels`, which dbt
builds from Tally's landed stock items), not from any built-in list."""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime
from pathlib import Path

from ml.extract import get_extractor
from ml.extract.linking import load_products
from tests.ml.marts import build_marts

ROOT = Path(__file__).resolve().parents[2]


def test_products_are_the_latest_snapshot_of_each_stock_item(warehouse, pebble_env) -> None:
    conn = warehouse
    old, new = datetime(2025, 11, 1, tzinfo=UTC), datetime(2025, 11, 14, tzinfo=UTC)
    rows = [
        # the later snapshot of the resin adds an alias and the drum it ships in
        ("g-resin", old, "Pebblite K-40 Resin", [], "kg", None, None, 2),
        ("g-resin", new, "Pebblite K-40 Resin", ["PBK 40"], "kg", "Drum", 200, 2),
        ("g-lime", old, "Hydrated Lime", ["chuna"], "kg", "Bag", 40, 1),
        ("g-acid", new, "Nitric Acid 60%", [], "MT", "Carboy", 0.035, 3),
    ]
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO raw.tally_stock_items (guid, snapshot_at, name, aliases, unit, pack,"
            " pack_size, master_id, row_hash) VALUES (%s,%s,%s,%s,%s,%s,%s,%s, 'h')",
            rows,
        )
    assert load_products(conn) == ()  # landed, not modelled yet: raw.* is never read
    build_marts(pebble_env, "+stock_levels")
    products = load_products(conn)
    assert [p.name for p in products] == [
        "Hydrated Lime",
        "Pebblite K-40 Resin",
        "Nitric Acid 60%",
    ]  # Tally's creation order
    lime, resin, acid = products
    assert resin.aliases == ("PBK 40",) and resin.pack == "drum" and resin.pack_size_kg == 200
    assert lime.pack_size_kg == 40 and acid.pack_size_kg == 35.0  # MT base unit: 0.035 MT

    found = get_extractor(products).extract("Pls quote PBK 40, 10 drums, and chuna 20 bags")
    assert [(e.label, e.value) for e in found] == [
        ("PRODUCT", "Pebblite K-40 Resin"),
        ("QUANTITY", 2000.0),
        ("PRODUCT", "Hydrated Lime"),
        ("QUANTITY", 800.0),
    ]


def test_a_stock_master_without_aliases_or_packs_still_matches_names(bare_warehouse) -> None:
    conn = bare_warehouse  # the mart's rows written directly: this is about reading them
    conn.execute(
        "CREATE TABLE marts.stock_levels (product_name text, product_aliases text[], pack text,"
        " pack_size_kg numeric, master_id bigint)"
    )
    conn.execute("INSERT INTO marts.stock_levels VALUES ('Hydrated Lime', NULL, NULL, NULL, NULL)")
    products = load_products(conn)
    assert [(p.name, p.aliases, p.pack_size_kg) for p in products] == [("Hydrated Lime", (), None)]


def test_no_stock_master_means_no_products(bare_warehouse) -> None:
    assert load_products(bare_warehouse) == ()


def test_ml_reads_master_data_only_from_the_marts() -> None:
    # the landed mail it scores is the one raw table ml reads; Tally, Focus RT and lead
    # lists come to it through dbt's marts
    found = subprocess.run(
        ["grep", "-rnE", r"raw\.(tally|focus|prelead)_", "ml"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert found.returncode == 1, found.stdout  # grep: 1 = no line matched


def test_ml_never_imports_the_demo() -> None:
    found = subprocess.run(
        ["grep", "-rnE", r"^\s*(from|import) demo\b", "ml", "orchestration"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert found.returncode == 1, found.stdout  # grep: 1 = no line matched
