"""Who may use which assistant tool (:data:`TOOL_ROLES`), checked here, in the tool layer
(the page and the CLI only show what the tools allow), following the Company 360 policy
(:mod:`app.company.access`) and :mod:`pebble.roles`:

=================  =========  =====  ===  ==  =======  =====
tool               marketing  sales  ops  qc  manager  admin
=================  =========  =====  ===  ==  =======  =====
find_company       yes        yes    yes  yes yes      yes
open_orders        yes        yes    yes  yes yes      yes
receivables        -          yes    yes  -   yes      yes
last_prices        -          yes    yes  -   yes      yes
stock              -          yes    yes  yes yes      yes
waiting_cards      -          yes    yes  -   yes      yes
qc_batch           -          yes    yes  yes yes      yes
create_task        yes        yes    yes  yes -        -
move_deal          -          yes    yes  -   -        -
=================  =========  =====  ===  ==  =======  =====

Stock rates and values are prices: only roles that see prices get them. Cards come only from
the user's streams (:data:`pebble.roles.ROLE_STREAMS`). A manager reads everything and
changes nothing; an admin manages users and routes, not tasks or deals.
"""

from __future__ import annotations

from ml.assistant.results import ToolError
from pebble.auth import NotAllowed, User

PRICE_ROLES: tuple[str, ...] = ("sales", "ops", "manager", "admin")
TOOL_ROLES: dict[str, tuple[str, ...]] = {
    "find_company": ("marketing", "sales", "ops", "qc", "manager", "admin"),
    "open_orders": ("marketing", "sales", "ops", "qc", "manager", "admin"),
    "receivables": PRICE_ROLES,
    "last_prices": PRICE_ROLES,
    "stock": ("sales", "ops", "qc", "manager", "admin"),
    "waiting_cards": ("sales", "ops", "manager", "admin"),
    "qc_batch": ("sales", "ops", "qc", "manager", "admin"),
    "create_task": ("marketing", "sales", "ops", "qc"),
    "move_deal": ("sales", "ops"),
}
WRITE_TOOLS: tuple[str, ...] = ("create_task", "move_deal")
#: What each tool is about, in words (refusals name it).
TOOL_TITLES: dict[str, str] = {
    "find_company": "finding a company",
    "open_orders": "open sales orders",
    "receivables": "receivables (invoices outstanding)",
    "last_prices": "customers' last prices",
    "stock": "stock on hand",
    "waiting_cards": "cards waiting on a customer",
    "qc_batch": "QC results of a batch",
    "create_task": "creating a task",
    "move_deal": "moving a deal",
}


def allowed(user: User, tool: str) -> bool:
    return user.role in TOOL_ROLES.get(tool, ())


def refusal(user: User, tool: str) -> str:
    roles = ", ".join(TOOL_ROLES.get(tool, ())) or "nobody"
    return (
        f"{user.name} signs in as {user.role}, which may not ask about "
        f"{TOOL_TITLES.get(tool, tool)} (roles that may: {roles})."
    )


def check(user: User, tool: str) -> None:
    """NotAllowed unless the user's role may use ``tool``."""
    if tool not in TOOL_ROLES:
        raise ToolError(f"unknown tool {tool!r}")
    if not allowed(user, tool):
        raise NotAllowed(refusal(user, tool))
