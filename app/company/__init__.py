"""Company 360: one CRM company with everything the warehouse knows of it, cut to what the
user's role may see.

- :mod:`app.company.access`: the role policy (which sections, which mail streams);
- :mod:`app.company.search`: finding a company by name (fuzzy, without pg_trgm), GSTIN,
  PAN, CIN, e-mail domain or key;
- :mod:`app.company.queries`: the sections, each checking the role itself (no Streamlit);
- :mod:`app.company.timeline`: the activity timeline section;
- :mod:`app.company.links`: the link to the page (``company?key=<company_key>``) that the
  card, prelead and other pages draw.
"""

from __future__ import annotations

from app.company.access import (
    PAGE_ROLES,
    SECTION_TITLES,
    SECTIONS,
    Access,
    access_for,
    require_section,
)
from app.company.links import company_url, order_url

__all__ = [
    "PAGE_ROLES",
    "SECTIONS",
    "SECTION_TITLES",
    "Access",
    "access_for",
    "company_url",
    "order_url",
    "require_section",
]
