"""The app's roles: who may do what. The one list the CLI, the warehouse's CHECK
constraint (migration 0006), the event payloads and every page's guard read.

- ``marketing`` screens prelead batches;
- ``sales`` works the crm and tender streams;
- ``ops`` works the erp stream;
- ``qc`` reads and acknowledges quality data;
- ``manager`` reads everything (every stream, every screen) and changes nothing;
- ``admin`` routes mailboxes and manages users.
"""

from __future__ import annotations

ROLES: tuple[str, ...] = ("marketing", "sales", "ops", "qc", "manager", "admin")

#: The mail streams each role works (a manager and an admin see every stream).
ROLE_STREAMS: dict[str, tuple[str, ...]] = {
    "marketing": (),
    "sales": ("crm", "tender"),
    "ops": ("erp",),
    "qc": (),
    "manager": ("crm", "erp", "tender", "other"),
    "admin": ("crm", "erp", "tender", "other"),
}

if set(ROLE_STREAMS) != set(ROLES):
    raise RuntimeError("every role needs its streams")


def check_role(role: str) -> str:
    """``role`` if it is one of :data:`ROLES`, else a ValueError naming the roles."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; expected one of {', '.join(ROLES)}")
    return role
