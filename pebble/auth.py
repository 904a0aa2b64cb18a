"""Who is signed in: the user of a session, and the role checks every page and action makes.

No Streamlit here: the app's guards (``app/auth.py``) and the CLI both use it.
"""

from __future__ import annotations

from dataclasses import dataclass

from pebble.roles import ROLE_STREAMS, check_role


class NotAllowed(PermissionError):
    """The signed-in user's role may not do this."""


@dataclass(frozen=True)
class User:
    """A signed-in person: the account name (the ``actor`` of their events) and role."""

    name: str
    role: str
    display_name: str | None = None

    def __post_init__(self) -> None:
        check_role(self.role)

    @property
    def streams(self) -> tuple[str, ...]:
        """The mail streams this user's cards come from."""
        return ROLE_STREAMS[self.role]

    def label(self) -> str:
        return f"{self.display_name or self.name} ({self.role})"


def require(user: User | None, *roles: str, action: str = "do this") -> User:
    """``user`` if signed in with one of ``roles``, else :class:`NotAllowed` saying why.

    Every write checks this on the server side, whatever the page showed."""
    for role in roles:
        check_role(role)
    if user is None:
        raise NotAllowed(f"sign in to {action}")
    if user.role not in roles:
        raise NotAllowed(
            f"{user.name} signs in as {user.role}, and only {', '.join(roles)} may {action}"
        )
    return user
