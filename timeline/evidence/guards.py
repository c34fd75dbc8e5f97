"""When a number is not a date: amounts, counts, units, versions, model names.

"2027 MW", "2 027 salariés", "€2,030", "page 2027", "Windows 11", "1.500 Arbeitsplätze", "2030 employees",
"entre 2000 et 2500 salariés": a phrase that begins or ends with digits is checked against the tokens
around it. Bare years get the strict checks (a capitalised name or a number just before, a range of
numbers after); every number gets the basic ones (a currency, a unit, a decimal, a glued letter).
"""

from __future__ import annotations

from timeline.evidence.periods import FIRST_YEAR, LAST_YEAR, Reader
from timeline.evidence.text import glued

CURRENCIES = frozenset("$€£¥₹₽₩#№+×")
CURRENCY_CODES = frozenset({"usd", "eur", "gbp", "chf", "jpy", "cny", "us", "cad", "aud", "sek", "rmb", "mxn"})
UNITS = frozenset(
    {
        "mw",
        "gw",
        "kw",
        "w",
        "mwh",
        "gwh",
        "twh",
        "kwh",
        "mwc",
        "mwe",
        "km",
        "m",
        "m2",
        "m3",
        "cm",
        "mm",
        "kg",
        "g",
        "t",
        "l",
        "hl",
        "v",
        "kv",
        "hz",
        "mhz",
        "ghz",
        "mbps",
        "gbps",
        "gb",
        "tb",
        "mb",
        "go",
        "mo",
        "ko",
        "kb",
        "ft",
        "mph",
        "hp",
        "ch",
        "ps",
        "x",
        "k",
        "mio",
        "mrd",
        "md",
        "mds",
        "bn",
        "mn",
        "euros",
        "euro",
        "dollars",
        "dollar",
        "usd",
        "eur",
        "km2",
        "sq",
        "tonnes",
        "tons",
        "mt",
        "gt",
        "bbl",
        "pct",
        "ppm",
        "nm",
        "qm",
        "ton",
        "million",
        "millions",
        "milliard",
        "milliards",
        "billion",
        "billions",
        "trillion",
        "trillions",
        "millionen",
        "milliarden",
        "millones",
        "millon",
        "miles",
        "mil",
        "thousand",
    }
)
PRODUCTS = frozenset(
    {
        "windows",
        "office",
        "iphone",
        "ipad",
        "galaxy",
        "pixel",
        "xbox",
        "playstation",
        "boeing",
        "airbus",
        "gpt",
        "covid",
        "sars",
        "rtx",
        "gtx",
        "ryzen",
        "xeon",
        "core",
        "snapdragon",
        "model",
        "vision",
        "agenda",
        "cop",
        "section",
        "page",
        "version",
        "release",
        "build",
        "firmware",
        "ios",
        "android",
        "macos",
        "linux",
        "kernel",
        "python",
        "java",
        "p",
        "pp",
        "s",
        "art",
        "no",
        "nr",
        "n",
        "vol",
        "ch",
    }
)
_RANGE_WORDS = frozenset({"a", "-", "to", "et", "and", "bis", "und", "y", "ou", "or", "oder", "o"})
# Words of quantity: "more than 2000", "plus de 2000", "bis zu 2030", "unas 2030" count, never date.
_QUANTIFIERS = (
    ("more", "than"),
    ("less", "than"),
    ("fewer", "than"),
    ("up", "to"),
    ("nearly",),
    ("almost",),
    ("plus", "de"),
    ("moins", "de"),
    ("pres", "de"),
    ("quelque",),
    ("quelques",),
    ("mehr", "als"),
    ("weniger", "als"),
    ("bis", "zu"),
    ("fast",),
    ("knapp",),
    ("rund",),
    ("etwa",),
    ("mas", "de"),
    ("menos", "de"),
    ("unos",),
    ("unas",),
    ("cerca", "de"),
    ("casi",),
)
_PER_CENT = {"pour": "cent", "per": "cent", "por": "ciento"}


def number_allowed(reader: Reader, first: int, end: int, strict: bool) -> bool:
    """False when the digits that begin or end tokens[first:end] are an amount, a count or a name."""
    tokens = reader.tokens
    if tokens[first].is_number and not _before_ok(reader, first, strict):
        return False
    last = end - 1
    return not (tokens[last].is_number and not _after_ok(reader, last, strict))


def _is_year(reader: Reader, i: int) -> bool:
    return reader.year(i) is not None


def _before_ok(reader: Reader, i: int, strict: bool) -> bool:
    p = i - 1
    if p < 0:
        return True
    tokens, text = reader.tokens, reader.text(p)
    if text in CURRENCIES or text in CURRENCY_CODES:
        return False
    if glued(tokens[p], tokens[i]):
        return _glued_before_ok(reader, p, text)
    if _names_it(reader, p, text):
        return False
    return not strict or _strict_before_ok(reader, i, text)


def _glued_before_ok(reader: Reader, p: int, text: str) -> bool:
    """Digits written against tokens[p]: refused after a letter, "/" or "x", or inside a number or name."""
    if text.isalpha() or text in {"/", "x"}:
        return False
    tokens = reader.tokens
    # "1,2027", "GPT-2027": the digits go on a number or a name
    joined = p > 0 and glued(tokens[p - 1], tokens[p]) and tokens[p - 1].text.isalnum()
    return not (text in {",", ".", "-"} and joined)


def _names_it(reader: Reader, p: int, text: str) -> bool:
    """True when tokens[p] makes the digits a name or a measure: a model word, a product, "°"."""
    if _named(reader, text) or text == "°":
        return True
    tokens = reader.tokens
    # "p. 2027", "art. 2027"
    return text == "." and p > 0 and glued(tokens[p - 1], tokens[p]) and _named(reader, tokens[p - 1].text)


def _strict_before_ok(reader: Reader, i: int, text: str) -> bool:
    p = i - 1
    tokens = reader.tokens
    if tokens[p].is_number or _quantified(reader, i):
        return False
    if text in _RANGE_WORDS and p > 0 and tokens[p - 1].is_number and not _is_year(reader, p - 1):
        return False
    original = reader.original[tokens[p].start : tokens[p].end]
    if original[1:] != original[1:].lower() and not original.isupper():
        return False  # iPhone, eVTOL, McLaren
    return not _proper_name(reader, p, text, original)


def _proper_name(reader: Reader, p: int, text: str, original: str) -> bool:
    """A capitalised word that is not known, not at a sentence start and not in a title (German
    capitalises every noun, so not there)."""
    return (
        reader.vocab.code != "de"
        and original[:1].isupper()
        and not original.isupper()
        and text not in reader.vocab.known
        and not reader.sentence_start(p)
        and not reader.title_case(p)
    )


def _named(reader: Reader, word: str) -> bool:
    return word in reader.vocab.words["model_words"] or word in PRODUCTS


def _quantified(reader: Reader, i: int) -> bool:
    for words in _QUANTIFIERS:
        n = len(words)
        if i >= n and tuple(reader.text(i - n + k) for k in range(n)) == words:
            return True
    return False


def _counted(reader: Reader, n: int) -> bool:
    """True when tokens[n] is a unit or a counted noun ("MW", "salariés", "pour cent")."""
    text = reader.text(n)
    if text in CURRENCIES or text in {"%", "‰"}:
        return True
    if len(text) == 1 and reader.text(n + 1) == "'":
        return False  # "en 2027 l'usine": an article, not litres
    nouns = reader.vocab.words["count_nouns"]
    if text in UNITS or text in nouns or (text.endswith("n") and text[:-1] in nouns):
        return True  # "Rechnern", "Kilometern": German datives
    return _PER_CENT.get(text) == reader.text(n + 1) != ""


def _after_ok(reader: Reader, last: int, strict: bool) -> bool:
    n = last + 1
    if n >= len(reader.tokens):
        return True
    tokens, text = reader.tokens, reader.text(n)
    if glued(tokens[last], tokens[n]):
        return _glued_after_ok(reader, n, text)
    if text in CURRENCIES or text in {"%", "‰"}:
        return False
    if not strict:
        return True
    if _counted(reader, n):
        return False
    if text in _RANGE_WORDS and n + 1 < len(tokens) and tokens[n + 1].is_number:
        return _range_to_year(reader, n + 1)
    return True


def _glued_after_ok(reader: Reader, n: int, text: str) -> bool:
    """Digits written against tokens[n]: refused before a currency, a percent, a degree or a letter,
    or when a separator goes on to a number, a counted noun or a word."""
    if text in CURRENCIES or text in {"%", "‰", "°"} or text.isalpha():
        return False
    if text in {",", ".", "-", "/"} and reader.is_glued(n + 1):
        follow = reader.tokens[n + 1]
        return not (follow.is_number or _counted(reader, n + 1) or follow.text.isalpha())
    return True


def _range_to_year(reader: Reader, k: int) -> bool:
    """In "2027 to 2030", allowed when tokens[k] is a year that no unit or count follows."""
    token = reader.tokens[k]
    value = int(token.text) if token.text.isascii() else 0
    if not FIRST_YEAR <= value <= LAST_YEAR or len(token.text) != 4:
        return False
    return not _counted(reader, k + 1)
