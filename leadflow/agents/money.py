"""Money in a lead's text: the amounts written ('$180K', 'R$ 1,2 milhão', 'MXN 4.8M'), which
of them are spend rather than the company's own figures, and their value in US dollars by
icp.yaml's dated rates table (SPEC: deal-size rules compare money in one currency)."""

from __future__ import annotations

import re

from leadflow.agents.sentences import clause_of
from leadflow.config import IcpConfig
from leadflow.tools.standardize import contains_phrase

# Longest units first: "R$ 200 mil" is 200 thousand, not 200 m(illion).
_CODES = (r"usd|eur|gbp|chf|aud|cad|inr|mxn|brl|jpy|cny|sgd|nzd|hkd|zar|sek|nok|dkk|pln|ars|"
          r"clp|cop|aed")
MONEY = (rf"(?:(?:[$€£¥₹]|r\$|{_CODES})\s?\d[\d,.]*\s?"
         r"(?:thousand|millones|milhões|milhão|million|mil|mio\.?|mm|mn|k|m)?(?![a-z])"
         r"|\d[\d,.]*\s?(?:thousand|millones|milhões|milhão|million|mil|tsd\.?|mio\.?|mm|k|m|t)?"
         rf"\s?(?:{_CODES}|€|\$|£|dollars|euros|reais|pesos|francs)(?!\w))")
MONEY_RE = re.compile(MONEY, re.IGNORECASE)


def spend_amounts(text: str, figure_words: tuple[str, ...]) -> list[re.Match[str]]:
    """The amounts of money in the text that are not figures about the company: an amount
    in a clause naming revenue, ARR, turnover or a funding round ("we're at $30M ARR",
    "Umsatz rund 120 Mio. EUR"; icp.yaml `currency.company_figure_words`) says how big the
    company is, not what it will spend, so it is neither a budget nor a deal size."""
    return [match for match in MONEY_RE.finditer(text)
            if not (figure_words and contains_phrase(clause_of(text, match), figure_words))]


_MULTIPLIERS = {"k": 1e3, "t": 1e3, "tsd": 1e3, "thousand": 1e3, "mil": 1e3, "m": 1e6,
                "mm": 1e6, "mn": 1e6, "mio": 1e6, "million": 1e6, "millones": 1e6,
                "milhões": 1e6, "milhão": 1e6}


_UNIT = re.compile(r"\s?(thousand|millones|milhões|milhão|million|tsd|mio|mm|mn|mil|k|m|t)"
                   r"(?![a-z])")


def money_amounts(text: str, rules: IcpConfig | None = None,
                  country: str | None = None) -> list[float]:
    """Amounts written in the text ('$180K' → 180000, 'R$ 1,2 milhão' → 1200000). With the
    rules, each is converted to US dollars by its currency (icp.yaml `currency`; a bare '$' or
    'pesos' is the lead's own country's dollar or peso): 'MXN 4.8M' is about $235k; and the
    company's own figures (revenue, ARR, funding) are left out: they are not deal sizes."""
    amounts = []
    figures = tuple(rules.currency.get("company_figure_words") or ()) if rules else ()
    for match in spend_amounts(text, figures):
        token = match.group(0).lower()
        rate = _usd_rate(token, rules, country) if rules is not None else 1.0
        number = re.search(r"\d[\d,.]*", token)
        if not number:
            continue
        digits = number.group(0)
        if re.fullmatch(r"\d{1,3}([.,]\d{3})+", digits):
            value = float(re.sub(r"[.,]", "", digits))  # 1,200,000 / 1.200.000
        else:
            value = float(digits.replace(",", ".").rstrip("."))  # 1,2 / 1.5
        unit = _UNIT.match(token[number.end():])
        if unit and unit.group(1) in _MULTIPLIERS:
            value *= _MULTIPLIERS[unit.group(1)]
        amounts.append(value * rate)
    return amounts


def _usd_rate(token: str, rules: IcpConfig, country: str | None) -> float:
    """US dollars per unit of the currency a money token is written in (1.0 if unknown)."""
    table = rules.currency
    rates = {k.upper(): float(v) for k, v in (table.get("usd_per") or {}).items()}
    if not rates:
        return 1.0
    code = next((c.upper() for c in re.findall(r"[a-z]{3}", token) if c.upper() in rates), None)
    if code is None:
        symbols = {str(k).lower(): str(v).upper() for k, v in (table.get("symbols") or {}).items()}
        symbol = next((s for s in sorted(symbols, key=len, reverse=True) if s in token), None)
        code = symbols.get(symbol or "", "USD")
        local = (table.get("local_dollar") or {}).get((country or "").upper())
        if symbol in ("$", "dollars", "pesos") and local:
            code = str(local).upper()
    return rates.get(code, 1.0)
