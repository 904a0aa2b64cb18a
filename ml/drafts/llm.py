"""The optional LLM writer, and the check that keeps it from inventing numbers.

Any OpenAI-compatible chat completions server works (OpenAI, a local Ollama at
`http://127.0.0.1:11434/v1`, vLLM, ...): set `PEBBLE_LLM_BASE_URL` and `PEBBLE_LLM_MODEL`
(and `PEBBLE_LLM_API_KEY` when the server wants one). Unset, replies come from the template.

`verify_numbers(text, grounding)` lists every quantity, price, date, document number and
other figure in a draft that the grounding does not contain; the reply composer rejects an
LLM draft with any such number and falls back to the template.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache
from typing import Any, Protocol

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from ml.drafts.formatting import IST, as_local_date, format_date, format_fact
from ml.drafts.grounding import Fact, Grounding
from ml.extract.measures import MASS_UNITS, MULTIPLIERS

log = logging.getLogger(__name__)


class LLMSettings(BaseSettings):
    """Where the reply-writing model is served. Unconfigured (no base URL or model): no LLM."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    base_url: str | None = Field(default=None, validation_alias="PEBBLE_LLM_BASE_URL")
    model: str | None = Field(default=None, validation_alias="PEBBLE_LLM_MODEL")
    #: Never logged; local servers (Ollama) accept any value, so it may stay unset.
    api_key: SecretStr | None = Field(default=None, validation_alias="PEBBLE_LLM_API_KEY")
    timeout_s: float = Field(default=30.0, gt=0, validation_alias="PEBBLE_LLM_TIMEOUT_S")
    max_retries: int = Field(default=1, ge=0, validation_alias="PEBBLE_LLM_MAX_RETRIES")
    temperature: float = Field(default=0.2, ge=0, le=2, validation_alias="PEBBLE_LLM_TEMPERATURE")
    max_tokens: int = Field(default=600, gt=0, validation_alias="PEBBLE_LLM_MAX_TOKENS")

    @property
    def configured(self) -> bool:
        return bool(self.base_url and self.model)


@lru_cache(maxsize=1)
def get_llm_settings() -> LLMSettings:
    """Process-wide LLM settings (call ``get_llm_settings.cache_clear()`` after changing env)."""
    return LLMSettings()


def safe_url(url: str | None) -> str:
    """The URL without any user:password part (for messages and logs)."""
    return re.sub(r"//[^/@\s]*@", "//***@", url or "")


class LLMError(RuntimeError):
    """The LLM could not produce a draft (connection, timeout, HTTP error, empty answer)."""


class ReplyWriter(Protocol):
    """Anything that turns chat messages into reply text."""

    def write(self, messages: list[dict[str, str]]) -> str: ...


class OpenAIWriter:
    """Chat completions through the `openai` client against any compatible server."""

    def __init__(self, settings: LLMSettings) -> None:
        if not settings.configured:
            raise ValueError("PEBBLE_LLM_BASE_URL and PEBBLE_LLM_MODEL must both be set")
        import openai

        self.settings = settings
        key = settings.api_key.get_secret_value() if settings.api_key else "unused"
        self.client = openai.OpenAI(
            base_url=settings.base_url,
            api_key=key,
            timeout=settings.timeout_s,
            max_retries=settings.max_retries,
        )

    def __repr__(self) -> str:
        url = safe_url(self.settings.base_url)
        return f"OpenAIWriter(base_url={url!r}, model={self.settings.model!r})"

    def write(self, messages: list[dict[str, str]]) -> str:
        import openai

        try:
            response = self.client.chat.completions.create(
                model=str(self.settings.model),
                messages=messages,  # type: ignore[arg-type]
                temperature=self.settings.temperature,
                max_tokens=self.settings.max_tokens,
            )
        except openai.APITimeoutError as exc:
            raise LLMError(f"LLM timed out after {self.settings.timeout_s:g} s") from exc
        except openai.APIStatusError as exc:
            raise LLMError(f"LLM answered HTTP {exc.status_code}") from exc
        except openai.APIConnectionError as exc:
            raise LLMError(f"LLM not reachable at {safe_url(self.settings.base_url)}") from exc
        except openai.OpenAIError as exc:
            raise LLMError(f"LLM call failed: {type(exc).__name__}") from exc
        choices = getattr(response, "choices", None) or []
        content = choices[0].message.content if choices else None
        if not content or not content.strip():
            raise LLMError("LLM returned an empty draft")
        return content.strip()


def default_writer() -> OpenAIWriter | None:
    """The configured LLM writer, or None when no LLM is configured."""
    settings = get_llm_settings()
    return OpenAIWriter(settings) if settings.configured else None


# -- the prompt ---------------------------------------------------------------------------

SYSTEM_PROMPT = """\
You draft email replies for the sales desk of an Indian specialty-chemicals trading company.
Write polite, concise Indian business English (a greeting, two to six short sentences, \
"Warm regards," and "Sales Team").

Use ONLY the facts listed below. Every number you write - quantity, rate, amount, date, \
order, invoice or PO number, vehicle or LR number - must be copied from these facts. \
Do not write any other number: no GST or tax percentages, discounts, delivery dates, \
transit days, payment terms, phone numbers or totals you calculated yourself.
Where something is listed under "Not available", say that we will confirm it shortly; \
never guess it. Do not write placeholders in square brackets.
Return only the body of the email.

Facts:
{facts}

Not available:
{missing}
"""


def fact_lines(facts: Sequence[Fact]) -> str:
    lines = []
    for fact in facts:
        line = f"- {fact.label}: {format_fact(fact)}"
        if fact.ref and fact.ref != fact.value and fact.ref not in line:
            line += f" (document {fact.ref})"
        if fact.as_of is not None:
            line += f", as on {format_date(fact.as_of)}"
        lines.append(line)
    return "\n".join(lines) or "- (none)"


def build_messages(
    email: Mapping[str, Any],
    facts: Sequence[Fact],
    missing: Sequence[str],
    template_text: str,
) -> list[dict[str, str]]:
    """System prompt with the facts, and the customer's mail plus the template as a guide."""
    from ml.text import classification_text

    system = SYSTEM_PROMPT.format(
        facts=fact_lines(facts), missing="\n".join(f"- {m}" for m in missing) or "- (nothing)"
    )
    mail = classification_text(
        str(email.get("subject") or ""), str(email.get("body_text") or email.get("body") or "")
    )[:4000]
    user = (
        f"Customer's email:\n---\n{mail}\n---\n\n"
        f"A correct but plain draft of the reply (rewrite it naturally, same facts only):\n"
        f"---\n{template_text}\n---"
    )
    return [{"role": "system", "content": system}, {"role": "user", "content": user}]


# -- number verification ------------------------------------------------------------------

_MONTHS = {
    m: i + 1
    for i, names in enumerate(
        [
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ]
    )  # fmt: skip
    for m in names
}
_MONTH = "|".join(sorted(_MONTHS, key=len, reverse=True))
_ORD = r"(?:st|nd|rd|th)?"
_DATE_PATTERNS = (
    re.compile(r"(?<![\w/.\-])(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})(?![\w/\-])"),
    re.compile(
        r"(?<![\w/.\-])(?P<d>\d{1,2})[./\-](?P<m>\d{1,2})[./\-](?P<y>\d{4}|\d{2})(?![\w/\-]|\.\d)"
    ),
    re.compile(
        rf"(?<![\w/.\-])(?P<d>\d{{1,2}}){_ORD}[\s\-]+(?:of\s+)?(?P<mon>{_MONTH})\b\.?"
        rf"(?:,?[\s\-]+(?P<y>\d{{4}}|'?\d{{2}})(?![\w/\-]))?",
        re.IGNORECASE,
    ),
    re.compile(
        rf"\b(?P<mon>{_MONTH})\b\.?\s+(?P<d>\d{{1,2}}){_ORD}(?:,?\s+(?P<y>\d{{4}}))?(?![\w/\-])",
        re.IGNORECASE,
    ),
)
_TIME = re.compile(r"(?<![\w.:])(?P<h>\d{1,2})[:.](?P<mi>\d{2})\s*(?P<ap>am|pm|hrs)?\b", re.I)
# A run of letters, digits and / - joined, holding at least one digit and one letter:
# vehicle and LR numbers, document numbers the extractor does not know ("MH04AB1234").
_CODE = re.compile(
    r"(?<![\w/\-])(?=[\w/\-]*\d)(?=[\w/\-]*[A-Za-z])[A-Za-z0-9]+(?:[/\-][A-Za-z0-9]+)*(?![\w])"
)
_NUMBER = re.compile(
    r"(?<![\w.])(?P<n>\d{1,3}(?:,\d{2})*,\d{3}|\d{1,3}(?:,\d{3})+|\d+)(?P<frac>\.\d+)?"
    r"(?:\s*(?P<mult>lakhs?|lacs?|crores?|cr)\b)?"
)
_LIST_MARKER = re.compile(r"^[ \t]*(\d{1,2})[.)][ \t]", re.MULTILINE)
_DIGITS = re.compile(r"\d+")
_CODE_LIKE = re.compile(r"\S*[/\-]\S*|\S*[A-Za-z]\d\S*|\S*\d[A-Za-z]\S*")
_MASS_UNITS = {u.lower(): f for u, f in MASS_UNITS.items()}


def _norm(token: str) -> str:
    return re.sub(r"[^A-Z0-9]", "", token.upper())


@dataclass
class _Allowed:
    quantities: list[float] = field(default_factory=list)
    prices: list[float] = field(default_factory=list)
    numbers: list[float] = field(default_factory=list)
    digit_runs: set[str] = field(default_factory=set)
    codes: set[str] = field(default_factory=set)
    dates: set[date] = field(default_factory=set)
    times: set[tuple[int, int]] = field(default_factory=set)

    def add_code(self, text: str | None) -> None:
        """A document number, vehicle or LR number: its tokens and longer digit runs."""
        if not text:
            return
        self.codes.add(_norm(text))
        for m in _CODE.finditer(text):
            self.codes.add(_norm(m.group(0)))
        for m in _DIGITS.finditer(text):
            if len(m.group(0)) >= 3:
                self.digit_runs.add(m.group(0))
                self.digit_runs.add(m.group(0).lstrip("0") or "0")

    def add_label(self, text: str | None) -> None:
        """A label or product name: its codes, and plain numbers outside codes ("99.5%")."""
        if not text:
            return
        self.add_code(text)
        for m in _NUMBER.finditer(_CODE_LIKE.sub(" ", text)):
            self.numbers.append(_value(m))

    def add_when(self, value: date | datetime) -> None:
        self.dates.add(as_local_date(value))
        if isinstance(value, datetime):
            self.dates.add(value.date())
            local = value.astimezone(IST) if value.tzinfo else value
            self.times.add((local.hour, local.minute))
            self.times.add((value.hour, value.minute))


def _value(m: re.Match[str]) -> float:
    value = float(m.group("n").replace(",", "") + (m.group("frac") or ""))
    mult = m.group("mult")
    if mult:
        value *= MULTIPLIERS[mult.lower().rstrip(".")]
    return value


def _date(m: re.Match[str]) -> date | None:
    try:
        day = int(m.group("d"))
        month = int(m.group("m")) if "m" in m.groupdict() and m.group("m") else None
        if month is None:
            month = _MONTHS[m.group("mon").lower().rstrip(".")]
        year_text = (m.group("y") or "").lstrip("'")
        year = int(year_text) if year_text else 1900  # 1900: "no year written"
        if year < 100:
            year += 2000
        return date(year, month, day)
    except (ValueError, KeyError, IndexError):
        return None


def allowed_values(grounding: Grounding | Iterable[Fact]) -> _Allowed:
    """Every number a draft may contain, from the facts (values, documents, dates)."""
    facts = grounding.facts if isinstance(grounding, Grounding) else list(grounding)
    allowed = _Allowed()
    for fact in facts:
        value, unit = fact.value, (fact.unit or "").strip()
        if isinstance(value, int | float) and not isinstance(value, bool):
            number = float(value)
            allowed.numbers.append(number)
            if unit.startswith("Rs"):
                allowed.prices.append(number)
                per = unit.removeprefix("Rs").lstrip("/").strip().lower()
                if per in _MASS_UNITS and _MASS_UNITS[per] != 1.0:
                    allowed.prices.append(number / _MASS_UNITS[per])
            else:
                allowed.quantities.append(number)
                factor = _MASS_UNITS.get(unit.lower())
                if factor:
                    allowed.quantities.append(number * factor)
        elif isinstance(value, datetime | date):
            allowed.add_when(value)
        elif value is not None:
            allowed.add_code(str(value))
        allowed.add_label(fact.label)
        allowed.add_label(fact.subject)
        allowed.add_code(fact.ref)
        if fact.as_of is not None:
            allowed.add_when(fact.as_of)
    return allowed


def _close(value: float, candidates: Iterable[float]) -> bool:
    return any(abs(value - c) <= max(0.005, abs(c) * 1e-6) for c in candidates)


def _first_number(text: str) -> float | None:
    m = _NUMBER.search(text)
    return _value(m) if m else None


def verify_numbers(
    text: str, grounding: Grounding | Iterable[Fact], extractor: Any | None = None
) -> list[str]:
    """Each figure in `text` that the facts do not back, as a short description (empty: ok).

    Quantities and prices are read with the entity extractor (so `5 MT` equals `5,000 kg`,
    `Rs. 248/-` equals `248.00`, `400 bags` is 10,000 kg of a 25 kg-bag product), document
    numbers and other codes must match a fact's exactly (ignoring punctuation), dates must be
    a fact's date, and any other number must equal a number in the facts.
    """
    if extractor is None:
        from ml.extract import get_extractor

        extractor = get_extractor()
    allowed = allowed_values(grounding)
    covered: list[tuple[int, int]] = []
    problems: list[str] = []

    def free(start: int, end: int) -> bool:
        return not any(s < end and start < e for s, e in covered)

    for e in extractor.extract(text, include_quoted=True):
        if not free(e.start, e.end):
            continue
        covered.append((e.start, e.end))
        raw = _first_number(e.text)
        if e.label == "PRODUCT":
            continue
        if e.label == "QUANTITY":
            ok = isinstance(e.value, int | float) and _close(float(e.value), allowed.quantities)
            ok = ok or (raw is not None and _close(raw, allowed.quantities))
            if not ok:
                problems.append(f"quantity {e.text!r}")
        elif e.label == "PRICE":
            ok = isinstance(e.value, int | float) and _close(float(e.value), allowed.prices)
            ok = ok or (raw is not None and _close(raw, allowed.prices))
            if not ok:
                problems.append(f"price {e.text!r}")
        elif _norm(str(e.value or e.text)) not in allowed.codes and _norm(e.text) not in (
            allowed.codes
        ):
            problems.append(f"{e.label.lower().replace('_', ' ')} {e.text!r}")

    allowed_day_month = {(d.day, d.month) for d in allowed.dates}
    for pattern in _DATE_PATTERNS:
        for m in pattern.finditer(text):
            if not free(*m.span()):
                continue
            day = _date(m)
            if day is None:
                continue
            covered.append(m.span())
            if day.year == 1900:
                ok = (day.day, day.month) in allowed_day_month
            else:
                ok = day in allowed.dates
            if not ok:
                problems.append(f"date {m.group(0).strip()!r}")
    for m in _TIME.finditer(text):
        if not free(*m.span()):
            continue
        hour, minute = int(m.group("h")), int(m.group("mi"))
        if hour > 23 or minute > 59:
            continue
        covered.append(m.span())
        if (m.group("ap") or "").lower() == "pm" and hour < 12:
            hour += 12
        if (hour, minute) not in allowed.times:
            problems.append(f"time {m.group(0).strip()!r}")
    for m in _CODE.finditer(text):
        if not free(*m.span()):
            continue
        covered.append(m.span())
        if _norm(m.group(0)) not in allowed.codes:
            problems.append(f"reference {m.group(0)!r}")
    markers = {m.start(1) for m in _LIST_MARKER.finditer(text)}
    for m in _NUMBER.finditer(text):
        if not free(*m.span()):
            continue
        if m.start() in markers and not m.group("frac"):
            continue  # "1. " numbering a list
        digits = m.group("n")
        if not m.group("frac") and not m.group("mult") and "," not in digits:
            if digits in allowed.digit_runs:
                continue
        if _close(_value(m), allowed.numbers):
            continue
        problems.append(f"number {m.group(0).strip()!r}")
    return problems


_PLACEHOLDER = re.compile(r"\[[^\]\n]{1,60}\]|\{[^}\n]{1,60}\}|<[A-Z][^>\n]{1,40}>")


def check_draft(text: str, grounding: Grounding | Iterable[Fact]) -> str | None:
    """Why an LLM draft cannot be used (numbers not in the facts, placeholders), or None."""
    problems = verify_numbers(text, grounding)
    if problems:
        shown = ", ".join(problems[:6]) + (" ..." if len(problems) > 6 else "")
        return f"draft has numbers not in the grounding: {shown}"
    placeholder = _PLACEHOLDER.search(text)
    if placeholder:
        return f"draft has a placeholder {placeholder.group(0)!r}"
    return None
