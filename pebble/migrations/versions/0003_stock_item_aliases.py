"""Stock items keep Tally's aliases and standard pack, so mail is matched against the
trader's own names for a product ("Caustic Flakes", "NaOH 99%") and quantities given in
packs ("40 bags") convert to kg.

Existing snapshots get an empty alias list; the next Tally sync adds a snapshot with the
aliases of every item (its row hash changes), as for any other change of master data.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        "ALTER TABLE raw.tally_stock_items"
        " ADD COLUMN aliases text[] NOT NULL DEFAULT '{}',"
        " ADD COLUMN pack text,"
        " ADD COLUMN pack_size numeric"
    )
    op.execute(
        "COMMENT ON COLUMN raw.tally_stock_items.aliases IS"
        " 'Tally aliases of the item (NAME.LIST after the first name), in Tally''s order'"
    )
    op.execute(
        "COMMENT ON COLUMN raw.tally_stock_items.pack IS"
        " 'standard pack as Tally states it (e.g. ''50 kg bag''), from the alternate unit'"
    )
    op.execute(
        "COMMENT ON COLUMN raw.tally_stock_items.pack_size IS"
        " 'base units in one standard pack (kg per bag, drum, carboy)'"
    )


def downgrade() -> None:
    raise NotImplementedError("Pebble's migrations are forward-only")
