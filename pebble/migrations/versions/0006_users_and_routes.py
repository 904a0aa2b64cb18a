"""Local accounts (``auth.users``), the event types of signing in and of routing rules,
and the current sender rules (``ops.route_rules``).

- ``auth.users`` holds one row per local account: its role and its argon2 password hash.
  It is a schema of its own so that nothing else the app reads sits beside the hashes; the
  app's role may read it (to check a password) and write nothing there: accounts are
  created and reset by ``pebble user``, which runs as the warehouse owner.
- The known event types grow by the user events (added, role changed, password reset,
  signed in, signed out, sign-in refused) and ``RouteRuleChanged`` (a sender rule set or
  removed: entity type ``route``, id ``<kind>:<pattern>``).
- ``ops.route_rules`` folds the rule events: the rules in force, newest change first.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: Event type -> entity type at this revision, frozen here (pebble/events.py holds the same).
EVENT_ENTITIES = (
    ("CardMoved", "card"),
    ("CardAssigned", "card"),
    ("CardReclassified", "card"),
    ("ReplyDrafted", "card"),
    ("ReplySent", "card"),
    ("PreleadApproved", "prelead"),
    ("PreleadRejected", "prelead"),
    ("PreleadMerged", "prelead"),
    ("CompanyMerged", "company"),
    ("CompanySplit", "company"),
    ("RouteChanged", "mailbox"),
    ("RouteRuleChanged", "route"),
    ("UserAdded", "user"),
    ("UserRoleChanged", "user"),
    ("UserPasswordReset", "user"),
    ("SignedIn", "user"),
    ("SignedOut", "user"),
    ("SignInFailed", "user"),
)
_PAIRS = ", ".join(f"('{event}', '{entity}')" for event, entity in EVENT_ENTITIES)
#: The roles at this revision (pebble/roles.py holds the same list).
ROLES = ("marketing", "sales", "ops", "qc", "manager", "admin")
_ROLES = ", ".join(f"'{role}'" for role in ROLES)

STATEMENTS = (
    "ALTER TABLE ops.events DROP CONSTRAINT events_known_type",
    f"ALTER TABLE ops.events ADD CONSTRAINT events_known_type "
    f"CHECK ((event_type, entity_type) IN ({_PAIRS}))",
    "CREATE SCHEMA IF NOT EXISTS auth",
    f"""
    CREATE TABLE auth.users (
        username            text PRIMARY KEY
                            CHECK (username ~ '^[a-z0-9][a-z0-9._@-]{{0,63}}$'),
        display_name        text CHECK (length(display_name) <= 200),
        role                text NOT NULL CHECK (role IN ({_ROLES})),
        password_hash       text NOT NULL CHECK (left(password_hash, 7) = '$argon2'),
        disabled            boolean NOT NULL DEFAULT false,
        created_at          timestamptz NOT NULL DEFAULT now(),
        password_changed_at timestamptz NOT NULL DEFAULT now()
    )
    """,
    # failed sign-ins per name, newest first, for the rate limit
    "CREATE INDEX events_sign_in_failed_idx ON ops.events (entity_id, occurred_at DESC) "
    "WHERE event_type = 'SignInFailed'",
    """
    CREATE VIEW ops.route_rules AS
    SELECT kind, pattern, stream, reason, version, updated_at, updated_by
    FROM (
        SELECT DISTINCT ON (entity_id)
            payload ->> 'kind'      AS kind,
            payload ->> 'pattern'   AS pattern,
            payload ->> 'stream'    AS stream,
            payload ->> 'reason'    AS reason,
            entity_version          AS version,
            occurred_at             AS updated_at,
            actor                   AS updated_by
        FROM ops.events
        WHERE entity_type = 'route'
        ORDER BY entity_id, entity_version DESC
    ) AS latest
    WHERE stream IS NOT NULL
    """,
    "COMMENT ON TABLE auth.users IS 'Local accounts: role and argon2 password hash; "
    "written by pebble user (add, reset), read by the app to sign in'",
    "COMMENT ON VIEW ops.route_rules IS 'Sender rules in force (domain, address or subject "
    "pattern -> stream), folded from RouteRuleChanged events; applied before the model'",
)


def upgrade() -> None:
    for statement in STATEMENTS:
        op.execute(statement)


def downgrade() -> None:
    raise NotImplementedError("Pebble's migrations are forward-only")
