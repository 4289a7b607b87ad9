"""An independent second look for identifiers in text that should already be redacted.

``nightshift.ingest.redaction`` replaces identifiers with ``[KIND]`` placeholders through one
pattern per kind; the privacy checks used to run the same patterns on what was sent, so they
could not see what redaction cannot see. This detector is built the other way round, from
checksums and third-party scanners rather than from shapes:

- every run of digits (separators: space . - / and parentheses) is tried as a card (Luhn and an
  issuer prefix, 13-19 digits), a US SSN (3-2-4 groups with one separator, or nine digits after
  "SSN"/"social security"; the SSA's never-issued areas excluded) and a phone number
  (``phonenumbers``: any ``+``/``00`` run, or a separated national run of 10-11 digits);
- any country-prefixed alphanumeric run, in either case and with or without spaces, as an IBAN
  (``schwifty``: the country's length, BBAN format and mod 97);
- any token with ``@`` and a dotted domain, or written ``name at domain dot com``, as an email;
- global IPv4 and IPv6 addresses (``ipaddress``) and MAC addresses;
- secrets: Yelp ``detect-secrets``' whole default plugin set (its vendor-key regexes, the keyword
  detector in its config-file mode, and its Base64 entropy measure on long unquoted tokens), plus
  "password is X" in prose and known token prefixes it lacks (``github_pat_``, ``glpat-``, ...).

Deliberately not findings (they identify objects, not people, and fill bug reports): hex runs
(commit hashes, checksums), UUIDs, private, loopback and documentation-range IP addresses, dates
and times, versions, order numbers and amounts. Placeholders such as ``[EMAIL]`` are blanked out
before scanning, so they never count.

A finding never carries its raw value: ``value_masked`` keeps the first two and last two characters.
Pure logic, no Dagster.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache, lru_cache

import phonenumbers
from detect_secrets.core.plugins.util import get_mapping_from_secret_type_to_class
from detect_secrets.filters.heuristic import (
    is_indirect_reference,
    is_likely_id_string,
    is_not_alphanumeric_string,
    is_potential_uuid,
    is_sequential_string,
    is_templated_secret,
)
from detect_secrets.plugins.base import BasePlugin
from detect_secrets.plugins.high_entropy_strings import Base64HighEntropyString
from detect_secrets.plugins.keyword import (
    CONFIG_DENYLIST_REGEX_TO_GROUP,
    QUOTES_REQUIRED_DENYLIST_REGEX_TO_GROUP,
    KeywordDetector,
)
from schwifty import IBAN
from schwifty.exceptions import SchwiftyException
from schwifty.registry import get_iban_spec


@dataclass(frozen=True)
class Finding:
    """One identifier found: its kind, a masked copy of it, and where it is in the text scanned."""

    kind: str
    value_masked: str
    start: int
    end: int
    rule: str = ""

    def shifted(self, by: int) -> Finding:
        return Finding(self.kind, self.value_masked, self.start + by, self.end + by, self.rule)


def mask(value: str) -> str:
    """First two and last two characters (at most 12 stars between); nothing of a value of six characters or fewer."""
    value = value.strip()
    if len(value) <= 6:
        return "*" * len(value)
    return f"{value[:2]}{'*' * min(len(value) - 4, 12)}{value[-2:]}"


# Redaction's placeholders ([EMAIL], [CARD], [CODICE_FISCALE], ...) are blanked with a character that
# joins nothing, so neither they nor what surrounds them can form a finding.
PLACEHOLDER = re.compile(r"\[[A-Z][A-Z_]*\]")
PARAGRAPH = re.compile(r"\n[ \t]*\n")

# --- numbers ---------------------------------------------------------------------------------------
RUN = re.compile(r"(?<![\w@#$€£¥.,/\-])\+?(?:\(\d{1,5}\)\s?)?\d(?:\d|\)\s?(?=\d)|[ .\-/](?=\(?\d)|\((?=\d+\)))*")
DATE = re.compile(r"(?<!\d)(?:\d{4}([-/.])(?:0?[1-9]|1[0-2])\1(?:0?[1-9]|[12]\d|3[01])"
                  r"|(?:0?[1-9]|[12]\d|3[01])([-/.])(?:0?[1-9]|[12]\d|3[01])\2(?:\d{4}|\d{2}))(?!\d)")
SSN_CONTEXT = re.compile(r"\b(ssn|social security|soc\.? sec)\b[^\n]{0,20}$", re.I)
PHONE_CONTEXT = re.compile(r"\b(call|phone|tel|telephone|mobile|cell|whatsapp|sms|text me|reach me|contact me|ring|fax)\b[^\n]{0,25}$", re.I)
PHONE_REGIONS = ("US", "GB", "DE", "FR", "ES", "IT", "NL", "IE", "AU", "IN", "BR", "CA")


def _luhn(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        n = int(ch)
        if i % 2:
            n = n * 2 - 9 if n > 4 else n * 2
        total += n
    return total % 10 == 0


def _card_issuer(digits: str) -> bool:
    """A prefix and length some card network issues (Visa, Mastercard, Amex, Discover, JCB, Diners, UnionPay, Maestro)."""
    n, two, four = len(digits), int(digits[:2]), int(digits[:4])
    if digits[0] == "4":
        return n in (13, 16, 19)
    if 51 <= two <= 55 or 2221 <= four <= 2720:
        return n == 16
    if two in (34, 37):
        return n == 15
    if two in (30, 36, 38, 39):
        return 14 <= n <= 19
    if two == 35 or digits[0] == "6":
        return 16 <= n <= 19
    if two in (50, 56, 57, 58):
        return 13 <= n <= 19
    return False


def _is_card(digits: str) -> bool:
    return 13 <= len(digits) <= 19 and len(set(digits)) > 1 and _card_issuer(digits) and _luhn(digits)


def _ssn_parts_ok(area: str, group: str, serial: str) -> bool:
    a = int(area)
    return a not in (0, 666) and a < 900 and group != "00" and serial != "0000"


def _phone(raw: str, international: bool) -> bool:
    try:
        if international:
            text = "+" + re.sub(r"\D", "", raw)[2:] if raw.lstrip("(").startswith("00") else raw
            return phonenumbers.is_valid_number(phonenumbers.parse(text, None))
        return any(phonenumbers.is_valid_number(phonenumbers.parse(raw, region)) for region in PHONE_REGIONS)
    except phonenumbers.NumberParseException:
        return False


def _number_findings(text: str) -> Iterator[Finding]:
    for m in RUN.finditer(text):
        raw = m.group().rstrip(" .-/(")
        start, end = m.start(), m.start() + len(raw)
        if end < len(text) and (text[end].isalnum() or text[end] == "_"):
            continue  # part of a word or a code: 12345abc
        digits = re.sub(r"\D", "", raw)
        if len(digits) < 9 or DATE.search(raw) or re.fullmatch(r"\d{1,3}(?:\.\d{1,3}){3}", raw):
            continue
        groups = [(g.start(), g.end()) for g in re.finditer(r"\d+", raw)]
        seps = {raw[a:b] for (_, a), (b, _) in zip(groups, groups[1:])}
        found = _card_in(raw, digits, groups, seps, start) or _ssn_in(text, raw, digits, groups, seps, start)
        if found:
            yield found
            continue
        international = raw.startswith("+") or (raw.startswith("00") and digits[2] != "0")
        shaped = len(seps - {""}) > 0 or "(" in raw
        context = PHONE_CONTEXT.search(text[max(0, start - 40):start])
        if (8 <= len(digits) <= 15 and international or 10 <= len(digits) <= 12 and (shaped or context)
                and len(groups) <= 5 and all(b - a >= 2 for a, b in groups[1:])) and _phone(raw, international):
            yield Finding("PHONE", mask(raw), start, end, "phonenumbers")


def _card_in(raw: str, digits: str, groups: list[tuple[int, int]], seps: set[str], start: int) -> Finding | None:
    if len(seps) <= 1 and _is_card(digits):
        return Finding("CARD", mask(raw), start, start + len(raw), "luhn")
    # A card followed or preceded by other numbers in the same run ("4111 1111 1111 1111 12 25"): 4-digit groups.
    for i in range(len(groups)):
        for j in range(i + 2, min(len(groups), i + 6) + 1):
            part = raw[groups[i][0]:groups[j - 1][1]]
            sizes = [b - a for a, b in groups[i:j]]
            if (all(s == 4 for s in sizes[:-1]) and 1 <= sizes[-1] <= 4 and len(set(re.findall(r"\D+", part))) == 1
                    and _is_card(re.sub(r"\D", "", part)) and part != raw):
                return Finding("CARD", mask(part), start + groups[i][0], start + groups[j - 1][1], "luhn")
    return None


def _ssn_in(text: str, raw: str, digits: str, groups: list[tuple[int, int]], seps: set[str], start: int) -> Finding | None:
    sizes = [b - a for a, b in groups]
    if sizes == [3, 2, 4] and len(seps) == 1 and seps <= {"-", " ", ".", "/"}:
        parts = [raw[a:b] for a, b in groups]
    elif sizes == [9] and SSN_CONTEXT.search(text[max(0, start - 30):start]):
        parts = [digits[:3], digits[3:5], digits[5:]]
    else:
        return None
    return Finding("SSN", mask(raw), start, start + len(raw), "ssn-rules") if _ssn_parts_ok(*parts) else None


# --- IBAN ----------------------------------------------------------------------------------------------
IBAN_START = re.compile(r"(?<![A-Za-z0-9])([A-Za-z]{2})(\d{2})(?=[ \-]?[A-Za-z0-9])")


@cache
def _iban_length(country: str) -> int:
    try:
        return get_iban_spec(country.upper()).iban_length
    except (SchwiftyException, KeyError, ValueError):
        return 0


def _iban_findings(text: str) -> Iterator[Finding]:
    for m in IBAN_START.finditer(text):
        length = _iban_length(m.group(1))
        if not length:
            continue
        compact, i = m.group(1) + m.group(2), m.end()
        while len(compact) < length and i < len(text):
            ch = text[i]
            if ch.isascii() and ch.isalnum():
                compact += ch
            elif not (ch in " -" and i + 1 < len(text) and text[i + 1].isascii() and text[i + 1].isalnum() and text[i - 1] not in " -"):
                break
            i += 1
        if len(compact) != length or (i < len(text) and text[i].isascii() and text[i].isalnum()):
            continue
        try:
            IBAN(compact.upper())
        except (SchwiftyException, ValueError):
            continue
        yield Finding("IBAN", mask(text[m.start():i]), m.start(), i, "mod97")


# --- email ---------------------------------------------------------------------------------------------
EMAIL = re.compile(r"(?<![\w.%+\-/])(?:(?<=mailto:)|(?<!:))[A-Za-z0-9][A-Za-z0-9._%+\-']*@"
                   r"(?:[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?\.)+[A-Za-z]{2,24}(?![\w\-])")
SPELLED = re.compile(
    r"(?<![\w.])([A-Za-z0-9][A-Za-z0-9._%+\-]*)\s*(?:\(at\)|\[at\]|\{at\}|\bat\b|<at>)\s*"
    r"([A-Za-z0-9\-]+(?:\s*(?:\(dot\)|\[dot\]|\{dot\}|\bdot\b|<dot>|\.)\s*[A-Za-z0-9\-]+)+)", re.I)
DOT = re.compile(r"\s*(?:\(dot\)|\[dot\]|\{dot\}|\bdot\b|<dot>|\.)\s*", re.I)
TLDS = frozenset({
    "com", "org", "net", "edu", "gov", "io", "co", "uk", "de", "fr", "es", "it", "nl", "be", "ch", "at", "se", "no", "dk", "fi",
    "ie", "pl", "pt", "br", "in", "au", "ca", "us", "info", "biz", "me", "ai", "app", "dev", "eu", "jp", "cn", "ru",
})
NOT_A_HOST = frozenset({
    "the", "a", "an", "my", "your", "our", "their", "this", "that", "his", "her", "its", "home", "work", "school", "least",
    "last", "all", "any", "some",
})


def _email_findings(text: str) -> Iterator[Finding]:
    for m in EMAIL.finditer(text):
        if re.search(r"://[^\s/@]*$", text[max(0, m.start() - 200):m.start()]):
            continue  # the password and host of scheme://user:password@host, a secret (below), not an address
        yield Finding("EMAIL", mask(m.group()), m.start(), m.end(), "address")
    for m in SPELLED.finditer(text):
        whole = m.group()
        labels = DOT.split(m.group(2))
        if not re.search(r"(\(|\[|\{|<|\b)(at|dot)(\)|\]|\}|>|\b)", whole[len(m.group(1)):], re.I) or "@" in whole:
            continue
        spelled_out = bool(re.search(r"\bdot\b|[(\[{<](at|dot)[)\]}>]", whole, re.I))
        if spelled_out and labels[-1].lower() in TLDS and labels[0].lower() not in NOT_A_HOST and all(labels):
            yield Finding("EMAIL", mask(whole), m.start(), m.end(), "spelled-address")


# --- network -------------------------------------------------------------------------------------------
IPV4 = re.compile(r"(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?![\w]|\.\d)")
IPV6 = re.compile(r"(?<![\w:])(?=[0-9A-Fa-f:]*:[0-9A-Fa-f:]*:)[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}(?![\w:])")
MAC = re.compile(r"(?<![\w:\-])[0-9A-Fa-f]{2}([:\-])(?:[0-9A-Fa-f]{2}\1){4}[0-9A-Fa-f]{2}(?![\w:\-])")
VERSIONISH = re.compile(r"\b(v|ver|version|versions|release|releases|upgrad\w*|updat\w*|bump\w*|patched|through|since|jdk|jre|java|"
                        r"build|sdk|databind|snappy|lib)\b[^\n]{0,20}$|[\w\-]:$|-->?\s*$", re.I)
IP_CONTEXT = re.compile(r"\b(ip|ips|ipv4|address|addr|host|hostname|server|from|connect(ed|ing)?|ping|dns|client|remote|src|dst|peer|"
                        r"login|logged|sign(ed)? in|in a)\b[^\n]{0,25}$|[/@]$", re.I)


def _network_findings(text: str) -> Iterator[Finding]:
    for m in IPV4.finditer(text):
        try:
            address = ipaddress.IPv4Address(m.group())
        except ValueError:
            continue
        before = text[max(0, m.start() - 40):m.start()]
        addressed = (any(int(o) >= 100 for o in m.group().split(".")) or IP_CONTEXT.search(before)
                     or re.match(r":\d{1,5}\b", text[m.end():m.end() + 6]))
        if address.is_global and addressed and not VERSIONISH.search(before) and not re.match(r"[\-+]\w", text[m.end():m.end() + 2]):
            yield Finding("IP", mask(m.group()), m.start(), m.end(), "ipv4")
    for m in IPV6.finditer(text):
        try:
            v6 = ipaddress.IPv6Address(m.group())
        except ValueError:
            continue
        if v6.is_global and m.group().count(":") >= 3:
            yield Finding("IP", mask(m.group()), m.start(), m.end(), "ipv6")
    for m in MAC.finditer(text):
        if m.group().lower().replace(m.group(1), "") not in ("000000000000", "ffffffffffff"):
            yield Finding("MAC", mask(m.group()), m.start(), m.end(), "mac")


# --- secrets -------------------------------------------------------------------------------------------
TOKEN = re.compile(r"[A-Za-z0-9+/_\-]{20,}={0,2}")
KNOWN_PREFIX = re.compile(r"(?:github_pat_|gh[pousr]_|glpat-|xox[abposr]-|sk_live_|rk_live_|sk-(?:proj-|ant-)?|AKIA|ASIA|AIza|SG\.|npm_|pypi-)"
                          r"[A-Za-z0-9_\-]{16,}")
SAID_SECRET = re.compile(r"\b(?:password|passcode|passwd|pwd|pin|secret|api[ _-]?key|token|access[ _-]?key)\s*(?:is|was|=|:|->)\s*"
                         r"['\"]?([^\s'\",;]{6,})", re.I)
URL_CREDENTIALS = re.compile(r"://[^\s:/@]+:([^\s/@]+)@[\w\-]")
KEYWORD_GATE = re.compile(r"key|pass|pwd|secret|contrase|token|pin", re.I)
HEX_OR_UUID = re.compile(r"[0-9a-fA-F\-]+")


@lru_cache(maxsize=1)
def _plugins() -> tuple[BasePlugin, ...]:
    """detect-secrets' default plugins, each with its default settings; entropy, keyword and public IP done apart."""
    apart = ("Base64HighEntropyString", "HexHighEntropyString", "KeywordDetector", "IPPublicDetector")
    classes: list[type[BasePlugin]] = list(get_mapping_from_secret_type_to_class().values())
    return tuple(plugin() for plugin in classes if plugin.__name__ not in apart)


ENTROPY = Base64HighEntropyString()
KEYWORD = KeywordDetector()


def _credential(value: str) -> str | None:
    """The credential in what a keyword rule caught ("password: hunter2 please" → "hunter2"), or None where it is a word or code."""
    value = value.strip().strip("'\"`")
    value = value.split()[0].rstrip(".,;:!?)]}'\"`") if value.split() else ""
    if (len(value) < 6 or is_templated_secret(value) or is_not_alphanumeric_string(value) or is_sequential_string(value)
            or PLACEHOLDER.search(value) or value.lower().startswith(("xxx", "***", "<", "{", "$", "%"))
            or re.search(r"[(\[]|=.", value) or CODE_REFERENCE.fullmatch(value)):
        return None
    letters, digits_, symbols = (bool(re.search(p, value)) for p in (r"[A-Za-z]", r"\d", r"[^A-Za-z0-9]"))
    mixed = bool(re.search(r"[a-z]", value) and re.search(r"[A-Z]", value[1:]))
    return value if letters and (digits_ or symbols and len(value) >= 8 or mixed) else None


# this.password, conf.getPassword, CREDENTIAL_PASSWORD_ENV_VAR: code that names a secret, not the secret.
CODE_REFERENCE = re.compile(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+|[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+")
URL = re.compile(r"\b[a-z][a-z0-9+.\-]*://[^\s<>\"'\]|)]+", re.I)
SECRET_PARAM = re.compile(r"(?:token|key|secret|sig|signature|password|passwd|pwd|auth|credential|code)[\w\-]*=$", re.I)
ID_CONTEXT = re.compile(r"(?:\b(?:id|ID|Id)|[a-z](?:Id|ID)|[_\-](?:id|ID))s?['\"]?\s*[:=]\s*['\"]?[^\s'\"]{0,80}$")
PATH_PART = re.compile(r"[a-z][a-z0-9]{2,}(?:[\-_.][a-z0-9]+)*")


def _high_entropy(token: str, line: str, start: int, urls: list[tuple[int, int]]) -> bool:
    if HEX_OR_UUID.fullmatch(token) or is_potential_uuid(token) or is_sequential_string(token):
        return False  # commit hashes, checksums, UUIDs: objects, not credentials
    if not (re.search(r"\d", token) and re.search(r"[a-z]", token) and re.search(r"[A-Z]", token)):
        return False
    if "/" in token and any(PATH_PART.fullmatch(part) for part in token.split("/")):
        return False  # a path: hadoop-3.2.4/share/hadoop/lib, advisories/GHSA-2qp4-g3q3-f92w
    words = re.findall(r"[A-Z]?[a-z]{3,}", token)
    if sum(map(len, words)) > 0.6 * len(token):
        return False  # CamelCase names: TestDFSStripedOutputStreamWithFailure050
    if any(a <= start < b for a, b in urls) and not SECRET_PARAM.search(line[max(0, start - 30):start]):
        return False  # a link's path or an ordinary query value; ?token=... and ?sig=... still count
    if ID_CONTEXT.search(line[max(0, start - 100):start]) or is_likely_id_string(token, line):
        return False  # "Request ID: JImf...", uploadId='...', "VersionId": "...": random, but identifiers of objects
    return ENTROPY.calculate_shannon_entropy(token) > ENTROPY.entropy_limit


def _secret_findings(text: str) -> Iterator[Finding]:
    offset = 0
    for line in text.split("\n"):
        spans: list[tuple[int, int, str]] = []
        keyworded = KEYWORD_GATE.search(line) is not None and not is_indirect_reference(line)

        for plugin in _plugins():
            for value in plugin.analyze_string(line):
                if value and not is_templated_secret(value) and not is_not_alphanumeric_string(value):
                    spans += _located(line, value, f"detect-secrets:{plugin.secret_type}")
        if keyworded:  # detect-secrets' keyword regexes are slow; most lines name no secret at all
            for table in (CONFIG_DENYLIST_REGEX_TO_GROUP, QUOTES_REQUIRED_DENYLIST_REGEX_TO_GROUP):
                for value in KEYWORD.analyze_string(line, denylist_regex_to_group=table):
                    spans += _located(line, _credential(value or ""), "detect-secrets:Secret Keyword")
            for m in SAID_SECRET.finditer(line):
                said = _credential(m.group(1))
                if said:
                    spans.append((m.start(1), m.start(1) + len(said), "keyword-prose"))
        for m in URL_CREDENTIALS.finditer(line):  # detect-secrets' Basic Auth rule refuses passwords with ! $ & ...
            if not is_not_alphanumeric_string(m.group(1)):
                spans.append((m.start(1), m.end(1), "url-credentials"))
        for m in KNOWN_PREFIX.finditer(line):
            spans.append((m.start(), m.end(), "token-prefix"))
        urls = [(u.start(), u.end()) for u in URL.finditer(line)] if "://" in line else []
        for m in TOKEN.finditer(line):
            if _high_entropy(m.group(), line, m.start(), urls):
                spans.append((m.start(), m.end(), "detect-secrets:entropy"))
        for start, end, rule in _merge(spans):
            yield Finding("SECRET", mask(line[start:end]), offset + start, offset + end, rule)
        offset += len(line) + 1


def _located(line: str, value: str | None, rule: str) -> list[tuple[int, int, str]]:
    i = line.find(value) if value else -1
    return [(i, i + len(value), rule)] if value and i >= 0 else []


def _merge(spans: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    """Overlapping spans of one line as one finding (the widest), so a key found by three rules counts once."""
    out: list[tuple[int, int, str]] = []
    for start, end, rule in sorted(spans, key=lambda s: (s[0], -s[1])):
        if out and start < out[-1][1]:
            if end > out[-1][1]:
                out[-1] = (out[-1][0], end, out[-1][2])
            continue
        out.append((start, end, rule))
    return out


# --- the scan ------------------------------------------------------------------------------------------
def _blank_placeholders(text: str) -> str:
    return PLACEHOLDER.sub(lambda m: "\x00" * len(m.group()), text) if "[" in text else text


def findings(text: str) -> list[Finding]:
    """Every identifier in ``text``, at most one finding per span (a card is not also a phone), in order."""
    clean = _blank_placeholders(text)
    found: list[Finding] = []
    if any(c.isdigit() for c in clean):
        found += _number_findings(clean)
        found += _iban_findings(clean)
        found += _network_findings(clean)
    if "@" in clean or re.search(r"\bat\b|\(at\)|\[at\]", clean, re.I):
        found += _email_findings(clean)
    found += _secret_findings(clean)
    kept: list[Finding] = []
    priority = {"CARD": 0, "IBAN": 1, "SSN": 2, "EMAIL": 3, "PHONE": 4, "IP": 5, "MAC": 6, "SECRET": 7}
    for f in sorted(found, key=lambda f: (priority[f.kind], f.start)):
        if not any(f.start < k.end and k.start < f.end for k in kept):
            kept.append(f)
    return sorted(kept, key=lambda f: f.start)


def paragraphs(text: str) -> Iterator[tuple[int, str]]:
    """(offset, paragraph) for each blank-line separated part of ``text``."""
    at = 0
    for m in PARAGRAPH.finditer(text):
        yield at, text[at:m.start()]
        at = m.end()
    yield at, text[at:]


class Scanner:
    """``findings`` per text, each distinct paragraph scanned once (a day's requests repeat their instructions and passages)."""

    def __init__(self) -> None:
        self.cache: dict[str, tuple[Finding, ...]] = {}

    def findings(self, text: str) -> list[Finding]:
        out: list[Finding] = []
        for at, paragraph in paragraphs(text):
            cached = self.cache.get(paragraph)
            if cached is None:
                cached = self.cache[paragraph] = tuple(findings(paragraph))
            out += (f.shifted(at) for f in cached)
        return out


def scan_all(texts: Mapping[str, str], scanner: Scanner | None = None) -> dict[str, list[Finding]]:
    """key → findings of that text (an empty list where none), scanning each distinct paragraph once."""
    scanner = scanner or Scanner()
    return {key: scanner.findings(text) for key, text in texts.items()}
