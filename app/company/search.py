"""Finding a CRM company by name, GSTIN, PAN, CIN, e-mail domain (or address) or key.

Identifiers match exactly (case-insensitive) in ``marts.crm_companies``; a domain through
the company's contacts (``marts.crm_contacts``), its mail senders
(``marts.crm_company_sources``) and its inferred group (``group:<domain>``).

Names match fuzzily without pg_trgm (the embedded PostgreSQL has none): PostgreSQL picks a
bounded candidate set, the names that contain the most of the query's distinctive
trigrams (plain ``ILIKE``), and Python ranks those by similarity (:mod:`difflib` over the
names reduced as ``dbt/macros/trigram.sql`` reduces them: legal forms, "M/s." and
punctuation dropped). So "Venkateswra Tyres" finds "Sri Venkateswara Tyres Pvt Ltd".

Every role may search: a hit says only a company's name, key and the identifier matched.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

import psycopg
from psycopg import sql

#: Hits returned.
LIMIT = 20
#: Name candidates PostgreSQL hands to the ranking.
CANDIDATES = 300
#: Trigrams of the query tried as ILIKE patterns.
MAX_TRIGRAMS = 40
#: Similarity (0-1) below which a name is not a hit.
MIN_NAME_SCORE = 0.5

_LEGAL = re.compile(
    r"\b(private|pvt|limited|ltd|llp|llc|inc|incorporated|co|company|corporation|corp|and|p)\b"
)
_GSTIN = re.compile(r"[0-9]{2}[A-Z0-9]{10}[0-9A-Z]Z[0-9A-Z]")
_PAN = re.compile(r"[A-Z]{5}[0-9]{4}[A-Z]")
_CIN = re.compile(r"[LU][0-9]{5}[A-Z]{2}[0-9]{4}[A-Z]{3}[0-9]{6}")
_DOMAIN = re.compile(r"(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}")


@dataclass(frozen=True)
class Hit:
    company_key: str
    name: str
    #: What matched: key, gstin, pan, cin, domain, email or name.
    matched: str
    matched_value: str
    score: float


def name_core(name: str | None) -> str:
    """A name without what does not tell firms apart (as the dbt macro prelead_name_core)."""
    text = (name or "").lower()
    text = re.sub(r"\s*\([^)]*\)\s*$", "", text)
    text = re.sub(r"^\s*m\s*/\s*s\.?\s+", "", text)
    text = text.replace("&", " ")
    text = re.sub(r"[^a-z0-9 ]", " ", text)
    text = _LEGAL.sub(" ", text)
    return " ".join(text.split())


def _trigrams(core: str) -> list[str]:
    """The query's in-word 3-grams, rarest-looking (latest in the word) last; deduplicated."""
    grams: list[str] = []
    for word in core.split():
        for i in range(max(len(word) - 2, 0)):
            gram = word[i : i + 3]
            if gram not in grams:
                grams.append(gram)
        if len(word) < 3 and word and word not in grams:
            grams.append(word)
    return grams[:MAX_TRIGRAMS]


def similarity(query: str, name: str) -> float:
    """0-1: how alike two names are after :func:`name_core` (spaces ignored, so glued and
    split spellings agree); a name containing the whole query scores at least 0.9."""
    a, b = name_core(query).replace(" ", ""), name_core(name).replace(" ", "")
    if not a or not b:
        return 0.0
    ratio = difflib.SequenceMatcher(None, a, b).ratio()
    if a in b:
        ratio = max(ratio, 0.9)
    # a query that is one word of a long name: compare it with the name's words too
    words = name_core(name).split()
    best_word = max((difflib.SequenceMatcher(None, a, w).ratio() for w in words), default=0.0)
    return max(ratio, 0.85 * best_word)


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _identifier_hits(conn: psycopg.Connection, text: str) -> list[Hit]:
    upper = re.sub(r"[\s.\-/]", "", text).upper()
    lower = text.strip().lower()
    hits: list[Hit] = []

    def add(rows: list[tuple], matched: str, value: str) -> None:
        for key, name in rows:
            hits.append(Hit(str(key), str(name or key), matched, value, 1.0))

    add(
        conn.execute(
            "SELECT company_key, name FROM marts.crm_companies WHERE company_key = %s",
            (text.strip(),),
        ).fetchall(),
        "key",
        text.strip(),
    )
    if _GSTIN.fullmatch(upper):
        add(
            conn.execute(
                "SELECT company_key, name FROM marts.crm_companies"
                " WHERE %(g)s = ANY(gstins) OR %(g)s = ANY(issue_gstins) ORDER BY name LIMIT %(n)s",
                {"g": upper, "n": LIMIT},
            ).fetchall(),
            "gstin",
            upper,
        )
    if _PAN.fullmatch(upper):
        add(
            conn.execute(
                "SELECT company_key, name FROM marts.crm_companies"
                " WHERE pan = %(p)s OR EXISTS (SELECT 1 FROM unnest(gstins) AS g"
                " WHERE substr(g, 3, 10) = %(p)s) ORDER BY name LIMIT %(n)s",
                {"p": upper, "n": LIMIT},
            ).fetchall(),
            "pan",
            upper,
        )
    if _CIN.fullmatch(upper):
        add(
            conn.execute(
                "SELECT company_key, name FROM marts.crm_companies WHERE upper(cin) = %s",
                (upper,),
            ).fetchall(),
            "cin",
            upper,
        )
    email = lower if "@" in lower else None
    domain = lower.rsplit("@", 1)[-1].removeprefix("www.")
    if email or _DOMAIN.fullmatch(domain):
        add(_domain_rows(conn, domain, email), "email" if email else "domain", email or domain)
    return hits


def _domain_rows(conn: psycopg.Connection, domain: str, email: str | None) -> list[tuple]:
    """Companies of an e-mail domain (or of one address): those with a contact or mail
    sender on it first, then those of the domain's inferred group."""
    parts = [
        sql.SQL(
            "SELECT company_key, 1 AS rank FROM marts.crm_companies WHERE group_key = %(group)s"
            " AND %(email)s::text IS NULL"
        )
    ]
    for table, column, extra in (
        ("crm_contacts", "email", ""),
        ("crm_company_sources", "source_id", " AND source_system = 'mail'"),
    ):
        if _exists(conn, f"marts.{table}"):
            parts.append(
                sql.SQL(
                    "SELECT company_key, 0 AS rank FROM marts.{t} WHERE (lower({c}) = %(email)s"
                    " OR (%(email)s::text IS NULL AND lower({c}) LIKE %(like)s)){extra}"
                ).format(t=sql.Identifier(table), c=sql.Identifier(column), extra=sql.SQL(extra))
            )
    query = sql.SQL(
        "SELECT c.company_key, c.name FROM marts.crm_companies AS c"
        " JOIN (SELECT company_key, min(rank) AS rank FROM ({}) AS u GROUP BY company_key) AS f"
        " USING (company_key) ORDER BY f.rank, c.name, c.company_key LIMIT %(n)s"
    ).format(sql.SQL(" UNION ALL ").join(parts))
    params = {
        "group": f"group:{domain}",
        "email": email,
        "like": "%@" + _like_escape(domain),
        "n": LIMIT,
    }
    return conn.execute(query, params).fetchall()


def _name_hits(conn: psycopg.Connection, text: str) -> list[Hit]:
    core = name_core(text)
    grams = _trigrams(core)
    if not grams:
        return []
    patterns = ["%" + _like_escape(g) + "%" for g in grams]
    whole = "%" + _like_escape(text.strip()) + "%"
    # how many of the query's trigrams a name holds: the blocking score (no pg_trgm)
    shared = sql.SQL(" + ").join(
        sql.SQL("(name ILIKE {})::int").format(sql.Placeholder(f"p{n}"))
        for n in range(len(patterns))
    )
    query = sql.SQL(
        "SELECT company_key, name FROM ("
        " SELECT company_key, name, {shared} AS shared, name ILIKE %(whole)s AS whole"
        " FROM marts.crm_companies WHERE name IS NOT NULL) AS c"
        " WHERE whole OR shared >= %(least)s"
        " ORDER BY whole DESC, shared DESC, name LIMIT %(n)s"
    ).format(shared=shared)
    least = max(1, len(grams) // 3)
    params = {"whole": whole, "least": least, "n": CANDIDATES}
    params |= {f"p{n}": p for n, p in enumerate(patterns)}
    rows = conn.execute(query, params).fetchall()
    hits = [
        Hit(str(key), str(name), "name", str(name), round(similarity(text, str(name)), 3))
        for key, name in rows
    ]
    return sorted((h for h in hits if h.score >= MIN_NAME_SCORE), key=lambda h: (-h.score, h.name))


def _exists(conn: psycopg.Connection, relation: str) -> bool:
    return conn.execute("SELECT to_regclass(%s) IS NOT NULL", (relation,)).fetchone()[0]


def search_companies(conn: psycopg.Connection, text: str, *, limit: int = LIMIT) -> list[Hit]:
    """Companies for a search box: identifier matches first, then names by similarity;
    each company once. [] before the CRM master is built."""
    text = (text or "").strip()[:200]
    if not text or not _exists(conn, "marts.crm_companies"):
        return []
    seen: set[str] = set()
    out: list[Hit] = []
    for hit in [*_identifier_hits(conn, text), *_name_hits(conn, text)]:
        if hit.company_key not in seen:
            seen.add(hit.company_key)
            out.append(hit)
    return out[:limit]
