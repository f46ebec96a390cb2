"""Money in a lead's text: the amounts written ('$180K', 'R$ 1,2 milhão', 'MXN 4.8M',
'CHF 230'000', '300万円', '₹12 lakh', 'Rp 500 juta'), which of them are spend rather than the
company's own figures, and their value in US dollars by icp.yaml's dated rates table (SPEC:
deal-size rules compare money in one currency).

The reading is by format, not by phrase: a currency (code, symbol or word) before or after a
number, the number's own grouping and decimal marks (1,200.50 · 1.200,50 · 1 200 · 230'000),
a multiplier word or character (k, Mio., lakh, crore, 万, 億, juta) and a range ('50-100k')
whose unit belongs to both ends."""

from __future__ import annotations

import re

from leadflow.agents.sentences import clause_of
from leadflow.config import IcpConfig
from leadflow.tools.standardize import contains_phrase

_CODES = (r"usd|eur|gbp|chf|aud|cad|inr|mxn|brl|jpy|cny|rmb|sgd|nzd|hkd|twd|zar|sek|nok|dkk|"
          r"isk|pln|czk|huf|ils|ars|clp|cop|pen|aed|sar|qar|egp|kes|ngn|idr|krw|php|myr|"
          r"thb|vnd")
# Symbols and words written before the number; letters need a word edge ("rm" not in "form").
_BEFORE = (rf"(?<![a-z])(?:us|a|au|c|ca|nz|s|hk|nt|mx|r)\$|[$€£¥₹₩₺₱฿₫]|(?<![a-z])(?:{_CODES}|"
           r"rp|rm|kr\.?|zł|sfr\.?|fr\.)(?![a-z])")
# ... and after it ('300万円', '400 000 kr', '120 dollars').
_AFTER = (rf"{_CODES}|€|\$|£|円|元|원|zł|kr|dollars?|dólares|dólar|dolares|dollari|euros?|reais|"
          r"pesos|francs|francos|rupees|rupias|yenes|yen|yuan|rupiah|ringgit|baht|kronor|kroner|"
          r"złotych|zloty|pounds|libras|soles|درهم|ريال|دينار|جنيه|रुपये|रुपए|บาท")
# A number: digits grouped by spaces or apostrophes (1 200 000, 230'000, with optional
# decimals), or digits with commas and dots in any convention.
_NUMBER = r"(?:\d{1,3}(?:[ \u00a0\u202f'’]\d{3})+(?:[.,]\d{1,2})?(?!\d)|\d[\d,.]*)"
_UNITS = (r"thousands?|tausend|millones|millón|milhões|milhão|millions?|milliarden|billions?|"
          r"lakhs?|lacs?|crores?|juta|ribu|miliar|tusen|mill\.?|mio\.?|mrd\.?|tsd\.?|mil|mm|mn|"
          r"bilhões|bilhão|bilhao|bilhoes|bi|"
          r"bn|cr|k|m|b|t|百万|万|萬|億|亿|千|천|만|억|ล้าน|แสน|หมื่น")
_UNIT = rf"(?:{_UNITS})(?![a-z\d])"
_RANGE = rf"(?:\s?(?:-|–|~|〜|to|a|bis|à|and|e|y|et|und)\s?{_NUMBER})?"
# South Africa's rand is a bare "R" before the number ("R1.2m", "R35 000 per month"): only
# with a multiplier or thousands grouped, so "R2" or "R&D" is never money.
_RAND = (r"(?<![\w$])r\s?(?:\d{1,3}(?:[ \u00a0,]\d{3})+(?:[.,]\d{1,2})?(?!\d)"
         r"|\d+(?:[.,]\d+)?\s?(?:k|m|mil|million|millions|bn|billion)(?![a-z\d]))")
MONEY = (rf"(?:(?:{_BEFORE})\s?{_NUMBER}{_RANGE}\s?(?:{_UNIT})?"
         rf"|{_NUMBER}{_RANGE}\s?(?:{_UNIT})?\s?(?:de\s)?(?:{_AFTER})(?![a-z])|{_RAND})")
MONEY_RE = re.compile(MONEY, re.IGNORECASE)

_MULTIPLIERS = {
    **dict.fromkeys(("k", "t", "tsd", "tausend", "thousand", "thousands", "mil", "tusen", "ribu",
                     "千", "천"), 1e3),
    **dict.fromkeys(("万", "萬", "만", "หมื่น"), 1e4),
    **dict.fromkeys(("lakh", "lakhs", "lac", "lacs", "แสน"), 1e5),
    **dict.fromkeys(("m", "mm", "mn", "mio", "mill", "million", "millions", "millones", "millón",
                     "milhões", "milhão", "juta", "百万", "ล้าน"), 1e6),
    **dict.fromkeys(("cr", "crore", "crores"), 1e7),
    **dict.fromkeys(("億", "亿", "억"), 1e8),
    **dict.fromkeys(("b", "bn", "billion", "billions", "mrd", "milliarden", "miliar", "bi",
                     "bilhão", "bilhões", "bilhao", "bilhoes"), 1e9),
}
_NUMBER_RE = re.compile(_NUMBER)
_UNIT_RE = re.compile(rf"\s?({_UNITS})(?![a-z\d])", re.IGNORECASE)


def not_spend_words(rules: IcpConfig) -> tuple[str, ...]:
    """Words that make an amount in their clause something other than spend: the company's
    own figures (revenue, ARR, a funding round) and what the problem costs it (write-offs,
    losses); icp.yaml `currency.company_figure_words` and `problem_cost_words`."""
    return (*(rules.currency.get("company_figure_words") or ()),
            *(rules.currency.get("problem_cost_words") or ()))


def spend_amounts(text: str, figure_words: tuple[str, ...]) -> list[re.Match[str]]:
    """The amounts of money in the text that are neither figures about the company nor what
    its problem costs: an amount in a clause naming revenue, ARR, turnover or a funding round
    ("we're at $30M ARR", "Umsatz rund 120 Mio. EUR"), or the value of a field so labelled
    ("Annual Turnover: INR 85 crore", "annualrevenue: $50M - $100M"), says how big the
    company is; "$6-7M in avoidable write-offs" says how big the pain is. Neither is what it
    will spend, so neither is a budget or a deal size (`not_spend_words`)."""
    return [match for match in MONEY_RE.finditer(text)
            if not (figure_words and (contains_phrase(clause_of(text, match), figure_words)
                                      or _labelled_by(field_label(text, match), figure_words)))]


def field_label(text: str, match: re.Match[str]) -> str:
    """The label of the form field or header line the match is the value of ("Annual
    Turnover: INR 85 crore", "年營業額: 約45億元"), or ''."""
    line = text[text.rfind("\n", 0, match.start()) + 1:match.start()]
    return line.rsplit(":", 1)[0] if ":" in line else ""


def _labelled_by(label: str, words: tuple[str, ...]) -> bool:
    """Does a field label name one of the words, as words or glued into a form tool's key
    ('annualrevenue', 'Annual_Revenue__c')? Glued, only words of six letters or more count:
    a short one ('arr') would be found inside unrelated keys ('carrier')."""
    if not label:
        return False
    if contains_phrase(label, words):
        return True
    key = re.sub(r"[^a-z]", "", label.lower())
    return any(len(word) >= 6 and word.isalpha() and word in key for word in words)


def number_value(written: str) -> float | None:
    """A written number's value, whichever convention wrote it: '1,200,000' and '1.200.000'
    and '1 200 000' and "1'200'000" are a million and a fifth; '1,2' and '1.5' are decimals;
    '40,000.00' and '40.000,00' are forty thousand. A single mark before exactly three digits
    groups thousands ('1.200' is 1200), as amounts of money are written."""
    digits = re.sub(r"[ \u00a0\u202f'’]", "", written).rstrip(".,")
    if "," in digits and "." in digits:  # the later mark is the decimal one
        decimal = "," if digits.rfind(",") > digits.rfind(".") else "."
        digits = digits.replace("." if decimal == "," else ",", "").replace(decimal, ".")
    elif digits.count(",") + digits.count(".") > 1 or re.fullmatch(r"\d{1,3}[.,]\d{3}", digits):
        digits = re.sub(r"[.,]", "", digits)
    else:
        digits = digits.replace(",", ".")
    try:
        return float(digits)
    except ValueError:
        return None


def money_amounts(text: str, rules: IcpConfig | None = None,
                  country: str | None = None) -> list[float]:
    """Amounts written in the text ('$180K' → 180000, 'R$ 1,2 milhão' → 1200000; a range
    gives both ends, its unit applying to each: 'EUR 50-100k' → 50000 and 100000). With the
    rules, each is converted to US dollars by its currency (icp.yaml `currency`; a bare '$',
    'kr' or '¥' is the lead's own country's dollar, krone or yuan): 'MXN 4.8M' is about
    $235k; and the company's own figures (revenue, ARR, funding) are left out: they are not
    deal sizes."""
    amounts = []
    figures = not_spend_words(rules) if rules else ()
    for match in spend_amounts(text, figures):
        token = match.group(0).lower()
        rate = _usd_rate(token, rules, country) if rules is not None else 1.0
        numbers = list(_NUMBER_RE.finditer(token))
        if not numbers:
            continue
        unit = _UNIT_RE.match(token[numbers[-1].end():])
        multiplier = _MULTIPLIERS.get(unit.group(1).rstrip(".").lower(), 1.0) if unit else 1.0
        values = [number_value(number.group(0)) for number in numbers]
        last = values[-1] or 0.0
        for index, value in enumerate(values):
            if value is None:
                continue
            # a range's unit belongs to an end written smaller than the last ('50-100k'),
            # not to one already written in full ('$1,500-2k a month' is 1,500 to 2,000)
            own = multiplier if index == len(values) - 1 or value < last else 1.0
            amounts.append(value * own * rate)
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
        local = (table.get("local_symbol") or {}).get(symbol or "", {})
        if own := local.get((country or "").upper()):
            code = str(own).upper()
    return rates.get(code, 1.0)
