"""PII redaction for text that may leave the machine (embedding APIs, LLM prompts).

Support tickets are full of look-alikes (order and tracking numbers, amounts, versions, ports, commit SHAs, UUIDs), so
every detector pairs a shape with a test the shape alone cannot pass: a checksum where the identifier has one (cards:
Luhn; IBANs: mod 97 and the country's BBAN format, through schwifty; most national and tax ids: their own check digits,
from python-stdnum; Bitcoin addresses: base58check's double SHA-256 or bech32's BCH code; Ethereum addresses: EIP-55's
Keccak mixed case), a parse where it has a grammar (phone numbers: Google's libphonenumber through phonenumbers, valid
for a region; IP addresses: the standard library; UK driving licences: a birth date inside; JWTs: base64 JSON), and a
context word where it has neither (a bare run of digits is a phone number only next to "call", "phone", ...; nine bare
digits are an SSN only after "SSN" or "social security"; a password only after "password", "Passwort", "contraseña",
...). Key shapes come from Yelp's detect-secrets plugins (AWS, Stripe, GitHub, GitLab, Slack, private keys, ...), plus
a few it lacks (Google `AIza` keys, GitHub `github_pat_` tokens); a random-looking token (detect-secrets' Shannon
entropy) is a secret only when it mixes upper case, lower case and digits and is not hex, so commit SHAs, UUIDs and
hashes survive.

Names, postal addresses, dates of birth and passport numbers are not detected: they need a named-entity model, which
this module deliberately does without (see the README, "Bad input and hostile tickets").
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

import phonenumbers
from detect_secrets.plugins.aws import AWSKeyDetector
from detect_secrets.plugins.azure_storage_key import AzureStorageKeyDetector
from detect_secrets.plugins.basic_auth import BasicAuthDetector
from detect_secrets.plugins.discord import DiscordBotTokenDetector
from detect_secrets.plugins.github_token import GitHubTokenDetector
from detect_secrets.plugins.gitlab_token import GitLabTokenDetector
from detect_secrets.plugins.high_entropy_strings import Base64HighEntropyString
from detect_secrets.plugins.jwt import JwtTokenDetector
from detect_secrets.plugins.mailchimp import MailchimpDetector
from detect_secrets.plugins.openai import OpenAIDetector
from detect_secrets.plugins.pypi_token import PypiTokenDetector
from detect_secrets.plugins.sendgrid import SendGridDetector
from detect_secrets.plugins.slack import SlackDetector
from detect_secrets.plugins.square_oauth import SquareOAuthDetector
from detect_secrets.plugins.stripe import StripeDetector
from detect_secrets.plugins.telegram_token import TelegramBotTokenDetector
from detect_secrets.plugins.twilio import TwilioKeyDetector
from schwifty import IBAN
from stdnum import luhn
from stdnum.br import cpf
from stdnum.ca import sin
from stdnum.de import idnr
from stdnum.es import dni, nie
from stdnum.fr import nir
from stdnum.gb import nhs, utr
from stdnum.in_ import aadhaar
from stdnum.it import codicefiscale
from stdnum.us import itin, ssn

# Regions whose national phone formats are recognised: the EU, the UK, the US and Canada, Switzerland, Norway, Iceland
# and Liechtenstein. +country numbers are recognised from anywhere, and so are 00-prefixed ones (GB's "00"
# international prefix is shared by most of the world, so 0049-30-... is found too).
PHONE_REGIONS = ("US", "CA", "GB", "IE", "DE", "FR", "ES", "IT", "PT", "NL", "BE", "LU", "AT", "CH", "LI", "DK", "SE",
                 "NO", "FI", "IS", "PL", "CZ", "SK", "HU", "SI", "HR", "RO", "BG", "GR", "CY", "MT", "EE", "LV", "LT")
PHONE_CONTEXT = re.compile(r"\b(call|phone|tel|mobile|cell|whatsapp|sms|fax|ring|ll[aá]m\w*|chiam\w*|appel\w*|"
                           r"anruf\w*|m[oó]vil|t[eé]l[eé]fono|telefon\w*|"
                           r"portable|handy|cellulare|telemóvel|telefoon)\b", re.IGNORECASE)
# An identifier's own name shortly before a digit run: it is that identifier, not a phone number that happens to parse.
ID_CONTEXT = re.compile(r"\b(nhs|ssn|sin|itin|social|insurance|tax|utr|steuer\w*|idnr|sort ?code|account|acct|a/c|"
                        r"aadhaar|nir|s[eé]cu\w*|licen[cs]e|iban|card)\b", re.IGNORECASE)
# A number right after these is a release or a reference of ours, not a phone, unless a phone word is right before it:
# "app version 10.4.2.1187", "Kundennummer 1048 2291", "tracking number 1Z 4E7 W93 68 1204 5521".
NOT_A_PHONE = re.compile(r"\b(version|release|build|update[ds]?|tracking|order|invoice|customer (number|no)|reference|ref|sku|serial|"
                         r"kundennummer|bestellnummer|sendungsnummer|rechnung\w*|commande|pedido|ordine|bestelling|factuur)\b",
                         re.IGNORECASE)
JOINERS = set("./_-=:&#")  # between two word characters they make one token: "v1.2", "a_b", "id=7"
PHONE_MIN_DIGITS = 8  # shorter valid numbers (German 6-digit ones) are mostly version ranges: "3.3.9-3.4.1"; 7 after "call"
# libphonenumber accepts at most 4 punctuation marks between digit blocks, so no number it can accept with
# PHONE_MIN_DIGITS digits lacks this shape: text without it (most paragraphs) skips the phone pass, the slowest one.
PHONE_SHAPE = re.compile(rf"\d(?:\D{{0,6}}\d){{{PHONE_MIN_DIGITS - 2}}}")
# Candidates for the phone parser: an optional + or (, digits and the separators numbers are written with, and an
# optional extension. Each is then parsed for each region (much faster than libphonenumber's matcher per region).
PHONE_CANDIDATE = re.compile(r"(?<![\w+])(?:\+ ?|\()?\d(?:[\d]|[ .\-/\u00a0]{1,2}(?=[\d(])|\(\d{1,5}\)|\) ?(?=\d))*\d"
                             r"(?:,? ?(?:ext\.?|extension|x|#) ?\d{1,6}\b)?", re.IGNORECASE)
# Dates parse as valid numbers in several regions (2024-01-15 in Germany, 15.01.2024 in Denmark).
DATE = re.compile(r"\d{4}([-/.])\d{1,2}\1\d{1,2}|\d{1,2}([-/.])\d{1,2}\2\d{2,4}")
NANP = ("US", "CA")
# A dotted quad right after these words is a release, not a host: "bump snappy-java to 1.1.8.2".
VERSION_CONTEXT = re.compile(r"\b(version|release|upgrad\w*|bump\w*|updat\w*|build|downgrad\w*|jdk|java)\b", re.IGNORECASE)

# Card networks by prefix range (inclusive), by the number of leading digits compared: Visa, Amex, Mastercard (both
# ranges), Discover, JCB, Diners, Maestro (50, 56-69) and UnionPay (62, inside 56-69).
CARD_RANGES = ((1, 4, 4), (2, 34, 34), (2, 37, 37), (2, 51, 55), (4, 2221, 2720), (2, 50, 50), (2, 56, 69),
               (2, 35, 35), (2, 36, 36), (2, 30, 30))
# UK National Insurance prefixes that are never issued.
NINO_NEVER = ("BG", "GB", "NK", "KN", "TN", "NT", "ZZ")
SECRET_ENTROPY = 4.0  # bits per character of a token of at least SECRET_MIN_CHARS: random base64 has 4.5-5.5
SECRET_MIN_CHARS = 20


DIGIT = re.compile(r"\d")


def digits(text: str) -> str:
    return re.sub(r"\D", "", text)


def is_card(candidate: str) -> bool:
    number = digits(candidate)
    if len(set(re.sub(r"\d", "", candidate))) > 1:
        return False  # one kind of separator throughout: "4111 1111.1111-1111" is not how a card is written
    return (13 <= len(number) <= 19 and any(lo <= int(number[:n]) <= hi for n, lo, hi in CARD_RANGES)
            and luhn.is_valid(number))


def is_iban(candidate: str) -> bool:
    """Mod 97, the country's length and its BBAN format (schwifty), in any case and with spaces or dashes."""
    try:
        IBAN(re.sub(r"[ -]", "", candidate).upper())
    except ValueError:
        return False
    return True


def is_ip(candidate: str) -> bool:
    """A valid IPv4 or IPv6 address."""
    try:
        ipaddress.ip_address(candidate)
    except ValueError:
        return False
    return True


def is_nino(candidate: str) -> bool:
    return candidate[:2].upper() not in NINO_NEVER


def is_ssn(candidate: str) -> bool:
    return ssn.is_valid(digits(candidate))


def is_cisco_mac(candidate: str) -> bool:
    """0011.2233.4455 is a MAC's Cisco form; the check for a hex letter or a "MAC" word is the detector's context."""
    return candidate == candidate.lower() or candidate == candidate.upper()


B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
BECH32 = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"


def is_base58check(candidate: str) -> bool:
    """A Bitcoin P2PKH/P2SH address: 25 bytes whose last 4 are the double SHA-256 of the first 21."""
    n = 0
    for ch in candidate:
        n = n * 58 + B58.index(ch)
    raw = n.to_bytes(25, "big") if n.bit_length() <= 200 else b""
    raw = b"\0" * (len(candidate) - len(candidate.lstrip("1"))) + raw.lstrip(b"\0")
    if len(raw) != 25 or raw[0] not in (0, 5):
        return False
    return hashlib.sha256(hashlib.sha256(raw[:21]).digest()).digest()[:4] == raw[21:]


def is_bech32(candidate: str) -> bool:
    """A segwit address: bech32 (BIP 173) or bech32m (BIP 350) checksum over the human-readable part "bc"."""
    text = candidate.lower()
    if candidate not in (text, candidate.upper()):
        return False
    hrp, _, data = text.rpartition("1")
    if len(data) < 6 or any(ch not in BECH32 for ch in data):
        return False
    chk = 1
    for value in [ord(c) >> 5 for c in hrp] + [0] + [ord(c) & 31 for c in hrp] + [BECH32.index(c) for c in data]:
        top, chk = chk >> 25, (chk & 0x1FFFFFF) << 5 ^ value
        for i, g in enumerate((0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)):
            chk ^= g if (top >> i) & 1 else 0
    return chk in (1, 0x2BC830A3)


KECCAK_RC = (0x1, 0x8082, 0x800000000000808A, 0x8000000080008000, 0x808B, 0x80000001, 0x8000000080008081,
             0x8000000000008009, 0x8A, 0x88, 0x80008009, 0x8000000A, 0x8000808B, 0x800000000000008B, 0x8000000000008089,
             0x8000000000008003, 0x8000000000008002, 0x8000000000000080, 0x800A, 0x800000008000000A, 0x8000000080008081,
             0x8000000000008080, 0x80000001, 0x8000000080008008)
KECCAK_ROT = (0, 1, 62, 28, 27, 36, 44, 6, 55, 20, 3, 10, 43, 25, 39, 41, 45, 15, 21, 8, 18, 2, 61, 56, 14)
M64 = (1 << 64) - 1


def keccak256(data: bytes) -> bytes:
    """Keccak-256 as Ethereum uses it (the original padding, not SHA3-256's; hashlib has only the latter)."""
    rol = lambda v, n: ((v << n) | (v >> (64 - n))) & M64 if n else v  # noqa: E731
    msg = bytearray(data) + b"\x01" + bytes(-(len(data) + 1) % 136)
    msg[-1] |= 0x80
    a = [0] * 25
    for off in range(0, len(msg), 136):
        for i in range(17):
            a[i] ^= int.from_bytes(msg[off + 8 * i:off + 8 * i + 8], "little")
        for rc in KECCAK_RC:
            c = [a[x] ^ a[x + 5] ^ a[x + 10] ^ a[x + 15] ^ a[x + 20] for x in range(5)]
            a = [a[i] ^ c[(i - 1) % 5] ^ rol(c[(i + 1) % 5], 1) for i in range(25)]
            b = [0] * 25
            for x in range(5):
                for y in range(5):
                    b[y + 5 * ((2 * x + 3 * y) % 5)] = rol(a[x + 5 * y], KECCAK_ROT[x + 5 * y])
            a = [b[i] ^ (~b[(i + 1) % 5 + i // 5 * 5] & M64 & b[(i + 2) % 5 + i // 5 * 5]) for i in range(25)]
            a[0] ^= rc
    return b"".join(v.to_bytes(8, "little") for v in a[:4])


def is_eip55(candidate: str) -> bool:
    """An Ethereum address in EIP-55 mixed case: each letter upper case exactly where its Keccak nibble is >= 8."""
    body = candidate[2:]
    if body in (body.lower(), body.upper()):
        return False  # no checksum in one case: only a context word makes it an address
    hashed = keccak256(body.lower().encode()).hex()
    return all(ch.isdigit() or ch.isupper() == (int(h, 16) >= 8) for ch, h in zip(body, hashed[:40], strict=True))


def is_uk_licence(candidate: str) -> bool:
    """A UK driving licence number: surname letters padded with 9s, a birth date (month + 50 for women), initials
    padded with 9."""
    number = candidate.replace(" ", "").upper()
    surname, month, day, initials = number[:5], int(number[6:8]), int(number[8:10]), number[11:13]
    return (re.fullmatch(r"[A-Z]+9*", surname) is not None and (1 <= month <= 12 or 51 <= month <= 62)
            and 1 <= day <= 31 and re.fullmatch(r"[A-Z][A-Z9]", initials) is not None)


def is_high_entropy(candidate: str) -> bool:
    """A random-looking token: upper, lower case and digits, not hex, no words, and detect-secrets' Shannon entropy over
    base64 above SECRET_ENTROPY. Class names, paths and file names hold words; SHAs and UUIDs are hex."""
    if re.fullmatch(r"[0-9a-fA-F-]+", candidate) or not (re.search(r"[a-z]", candidate) and re.search(r"[A-Z]", candidate)
                                                          and re.search(r"\d", candidate)):
        return False
    if "//" in candidate or re.search(r"[a-z]{5}|[A-Z]{6}|\d{6}", candidate):
        return False  # a URL, a word or a number inside: an identifier or a file name, not random bytes
    if len(re.findall(r"[A-Z][a-z]{3,}|(?<![A-Za-z])[a-z]{3,}(?![A-Za-z])", candidate)) >= 2:
        return False  # words: "CMakeFiles/cmTC_2b9ff", "ITestS3AHugeFilesSSECDiskBlock"
    return ENTROPY.calculate_shannon_entropy(candidate) > SECRET_ENTROPY


ENTROPY = Base64HighEntropyString()


@dataclass(frozen=True)
class Detector:
    kind: str                                   # the placeholder: [KIND]
    pattern: re.Pattern
    accept: Callable[[str], bool] | None = None  # the test the shape alone cannot pass
    group: int = 0                              # the part of the match that is replaced (a secret's value, not its label)
    context: re.Pattern | None = None           # words that, shortly before, make the shape something else
    needs: re.Pattern | None = None             # words that must come shortly before: the shape alone is ambiguous
    min_digits: int = 0                         # gates, for speed: the text has at least this many digits,
    words: tuple[str, ...] = ()                 # and one of these (lower case) somewhere


def d(kind: str, pattern: str, accept: Callable[[str], bool] | None = None, flags: int = 0, group: int = 0,
      context: re.Pattern | None = None, needs: str | None = None, min_digits: int = 0,
      words: tuple[str, ...] = ()) -> Detector:
    return Detector(kind, re.compile(pattern, flags), accept, group, context,
                    re.compile(needs, re.IGNORECASE) if needs else None, min_digits, words)


# detect-secrets' key shapes (the maintained list). A shape that is a fixed-length prefix runs on to the end of its
# token; a pattern with a group (an AWS secret after its label, a URL's password) replaces just the group.
SECRET_PLUGINS = (AWSKeyDetector, AzureStorageKeyDetector, BasicAuthDetector, DiscordBotTokenDetector,
                  GitHubTokenDetector, GitLabTokenDetector, MailchimpDetector, OpenAIDetector, PypiTokenDetector,
                  SendGridDetector, SlackDetector, SquareOAuthDetector, StripeDetector, TelegramBotTokenDetector,
                  TwilioKeyDetector)


def _plugin_detectors() -> tuple[Detector, ...]:
    """detect-secrets' patterns: those without a group as one alternation (one pass over the text), the others as they
    are, gated on a word they need."""
    shapes, labelled = [], []
    for plugin in SECRET_PLUGINS:
        for pattern in plugin.denylist:
            if pattern.groups:
                labelled.append(Detector("SECRET", pattern, group=1, words=("aws", "://", "_authtoken")))
            else:
                shapes.append(f"(?i:{pattern.pattern})" if pattern.flags & re.IGNORECASE else f"(?:{pattern.pattern})")
    return (Detector("SECRET", re.compile(rf"(?<![\w-])(?:{'|'.join(shapes)})[\w-]*")), *labelled)


PASSWORD_WORDS = (r"passwor[dt]|passwd|pwd|passcode|pass ?phrase|pin(?: code)?|api[ _-]?key|secret|token|kennwort|"
                  r"mot de passe|mdp|contrase[nñ]a|clave|senha|wachtwoord|parola d'ordine|has[lł]o|l[oö]senord|salasana")
PASSWORD_GATE = ("pass", "pwd", "pin", "key", "secret", "token", "kennwort", "mdp", "contrase", "clave", "senha",
                 "wachtwoord", "parola", "hasło", "haslo", "senord", "salasana")
MONTHS = r"0[1-9]|1[0-2]|5[1-9]|6[0-2]"
CONTEXT_SSN = r"\b(ssn|social security(?: number| no\.?| #)?)\W{0,3}(is\W{1,3})?$"

# Order matters: a longer identifier is replaced before a shorter one could take part of it, and where two checksums
# can pass on the same digits the one whose label is more likely right goes first.
DETECTORS = (
    # A private key block, from its header (detect-secrets' PrivateKeyDetector) to its footer or the end of the text.
    d("SECRET", r"-----BEGIN[A-Z ]{0,30} PRIVATE KEY(?: BLOCK)?-----(?:.*?-----END[A-Z ]{0,30} PRIVATE KEY(?: BLOCK)?-----"
                r"|.*)", flags=re.DOTALL, words=("private key",)),
    *_plugin_detectors(),
    d("SECRET", r"(?<![\w-])(?:sk-[A-Za-z0-9_-]{20,}|AKIA[0-9A-Z]{16}|gh[pousr]_[A-Za-z0-9]{30,}|github_pat_\w{22,}"
                r"|AIza[0-9A-Za-z_-]{35}|[rs]k_(?:live|test)_[0-9A-Za-z]{16,}|xox[abeoprs]-[A-Za-z0-9-]{10,})"),
    d("SECRET", r"eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}", JwtTokenDetector.is_formally_valid),
    # An AWS secret access key after its label, quoted or not (detect-secrets wants quotes).
    d("SECRET", r"aws[\w ]{0,25}?(?:secret|key)[\w ]{0,20}?[\"']?\s*(?:[:=]|=>|\s)\s*[\"']?([A-Za-z0-9/+]{40})(?![A-Za-z0-9/+=])",
      flags=re.IGNORECASE, group=1, words=("aws",)),
    # A password in a sentence: after "password:" / "pwd=" anything up to the next space; after "password is" only
    # something that is not a plain word ("my password is not working" keeps its words).
    d("SECRET", rf"\b(?:{PASSWORD_WORDS})\s*(?:[:=]|=>)\s*[\"']?([^\s\"']+)", flags=re.IGNORECASE, group=1, words=PASSWORD_GATE),
    d("SECRET", rf"\b(?:{PASSWORD_WORDS})\s+(?:is|was|ist|est|es|é|era|is now|is still)\s+[\"']?((?=\S*[\d\W_A-Z])[^\s\"',]{{4,}})",
      flags=re.IGNORECASE, group=1, accept=lambda s: not re.fullmatch(r"[A-Z]?[a-z]+[.!?]?|\W+", s), words=PASSWORD_GATE),
    d("EMAIL", r"(?<![\w.%+-])[\w.%+-]+@[\w-]+(?:\.[\w-]+)*\.[^\W\d_]{2,}\b", words=("@",)),
    # "john at example dot com", "john [at] example [dot] com", "(at)", "{at}"
    d("EMAIL", r"(?<![\w.%+-])[\w.%+-]+\s*[\[({<]\s*at\s*[\])}>]\s*[\w-]+(?:\s*(?:[\[({<]\s*dot\s*[\])}>]|\.)\s*[\w-]+)*"
               r"\s*(?:[\[({<]\s*dot\s*[\])}>]|\.)\s*[^\W\d_]{2,}\b", flags=re.IGNORECASE, words=("at",)),
    d("EMAIL", r"(?<![\w.%+-])[\w.%+-]+ at [\w-]+(?: dot [\w-]+)* dot [^\W\d_]{2,}\b", flags=re.IGNORECASE, words=(" dot ",)),
    d("WALLET", r"\b[13][1-9A-HJ-NP-Za-km-z]{25,34}\b", is_base58check, min_digits=1),
    d("WALLET", r"\b(?:bc1|BC1)[02-9ac-hj-np-zAC-HJ-NP-Z]{11,71}\b", is_bech32, words=("bc1",)),
    d("WALLET", r"\b0x[0-9a-fA-F]{40}\b", is_eip55, words=("0x",)),
    d("WALLET", r"\b0x[0-9a-fA-F]{40}\b", needs=r"\b(eth\w*|wallet|metamask|erc-?20|usdt|usdc|crypto\w*|send|sent|"
                                                r"address|withdraw\w*|deposit\w*)\b", words=("0x",)),
    d("IBAN", r"\b[A-Za-z]{2}\d{2}(?:[ -]?[A-Za-z0-9]{4}){2,7}(?:[ -]?[A-Za-z0-9]{1,3})?\b", is_iban, min_digits=4),
    # UK bank details: a sort code and an account number next to their names (they have no checksum anyone publishes).
    d("BANK_ACCOUNT", r"\b(?:account|acc|acct|a/c)(?: number| no\.?| #)?\W{0,3}(?:is\s+)?(\d{8})\b(?=\W{0,3}(?:and\s+)?"
                      r"sort ?code)", flags=re.IGNORECASE, group=1, min_digits=8),
    d("BANK_ACCOUNT", r"\bsort ?code\W{0,3}(?:is\s+)?(\d{2}[- ]?\d{2}[- ]?\d{2})\b", flags=re.IGNORECASE, group=1,
      min_digits=6),
    d("BANK_ACCOUNT", r"\b(?:account|acc|acct|a/c)(?: number| no\.?| #)?\W{0,3}(?:is\s+)?(\d{8})\b", group=1,
      flags=re.IGNORECASE, needs=r"sort ?code|\bbank\b|\bBACS\b|\bfaster payments?\b|\bbarclays|\bhsbc|\blloyds|\bnatwest|"
                                r"\bsantander|\bmonzo|\bnationwide|\bhalifax", min_digits=8),
    d("DRIVING_LICENCE", rf"\b[A-Za-z9]{{5}} ?\d(?:{MONTHS})(?:0[1-9]|[12]\d|3[01])\d ?[A-Za-z][A-Za-z9]\d ?[A-Za-z]{{2}}\b",
      is_uk_licence, min_digits=6),
    d("CARD", r"(?<![\w.-])(?:\d[ .-]?){12,18}\d(?![\d-]|\.\d)", is_card, min_digits=13),
    d("NIR", r"(?<!\d)(?<!\d )[12] ?\d{2} ?\d{2} ?(?:\d{2}|2[AB]) ?\d{3} ?\d{3} ?\d{2}(?! ?\d)", nir.is_valid,
      context=PHONE_CONTEXT, min_digits=13),
    d("AADHAAR", r"(?<!\d)(?<!\d )[2-9]\d{3} \d{4} \d{4}(?! ?\d)", aadhaar.is_valid, context=PHONE_CONTEXT, min_digits=12),
    d("CPF", r"(?<![\d.])\d{3}\.\d{3}\.\d{3}-\d{2}(?!\d)", cpf.is_valid, min_digits=11),
    d("ITIN", r"(?<![\d.-])9\d{2}([- .])\d{2}\1\d{4}(?![\d-]|\.\d)", lambda s: itin.is_valid(digits(s)), min_digits=9),
    d("ITIN", r"(?<![\d.-])9\d{8}(?![\d-]|\.\d)", itin.is_valid, needs=r"\b(itin|taxpayer)\b", min_digits=9),
    d("SSN", r"(?<![\d.-])\d{3}([- .])\d{2}\1\d{4}(?![\d-]|\.\d)", is_ssn, context=PHONE_CONTEXT, min_digits=9),
    d("SSN", r"(?<![\d.-])\d{9}(?![\d-]|\.\d)", is_ssn, needs=r"\b(ssn|social security)\b", min_digits=9),
    # German tax id: 11 digits, written 12 345 678 901; unseparated only after its name.
    d("TAX_ID", r"(?<![\d.-])\d{2} \d{3} \d{3} \d{3}(?![\d-]|\.\d)", lambda s: idnr.is_valid(digits(s)),
      context=PHONE_CONTEXT, min_digits=11),
    d("TAX_ID", r"(?<![\d.-])\d{11}(?![\d-]|\.\d)", idnr.is_valid,
      needs=r"steuer|\bidnr\b|identifikationsnummer|\btax\b|\btin\b", min_digits=11),
    # UK Unique Taxpayer Reference: 10 digits (12345 67890), only after its name.
    d("TAX_ID", r"(?<![\d.-])\d{5} ?\d{5}(?![\d-]|\.\d)", lambda s: utr.is_valid(digits(s)),
      needs=r"\b(utr|unique tax ?payer|self[ -]assessment|tax reference)\b", min_digits=10),
    d("SIN", r"(?<![\d-])\d{3}([- ])\d{3}\1\d{3}(?![\d-])", sin.is_valid, context=PHONE_CONTEXT, min_digits=9),
    d("DNI", r"\b(?:\d{8}-?[A-Z]|[XYZ]-?\d{7}-?[A-Z])\b", lambda s: dni.is_valid(s) or nie.is_valid(s), min_digits=7),
    d("CODICE_FISCALE", r"\b[A-Z]{6}\d{2}[A-Z]\d{2}[A-Z]\d{3}[A-Z]\b", codicefiscale.is_valid, min_digits=7),
    d("NINO", r"\b[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z] ?\d{2} ?\d{2} ?\d{2} ?[A-D]\b", is_nino, min_digits=6),
    d("MAC", r"(?<![\w:-])(?:[0-9A-Fa-f]{2}([:-]))(?:[0-9A-Fa-f]{2}\1){4}[0-9A-Fa-f]{2}(?![\w:-])", min_digits=1),
    # Cisco's 0011.2233.4455: with a hex letter, or after "MAC"; twelve bare hex digits only after "MAC".
    d("MAC", r"(?<![\w.:-])(?=[0-9.]*[A-Fa-f])[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}(?![\w:-]|\.\w)", is_cisco_mac, words=(".",)),
    d("MAC", r"(?<![\w.:-])[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}(?![\w:-]|\.\w)", is_cisco_mac, needs=r"\bmac\b", words=(".",)),
    d("MAC", r"(?<![\w.:-])[0-9A-Fa-f]{12}(?![\w:-]|\.\w)", is_cisco_mac, needs=r"\bmac\b", words=("mac",)),
    # Not after a letter or a dot: "v1.2.3.4" and "3.4.0.1.2" are versions.
    d("IP", r"(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?![\w]|\.\d)", is_ip, context=VERSION_CONTEXT, min_digits=4),
    d("IP", r"(?<![\w:])(?:[0-9A-Fa-f]{1,4}:){1,7}(?::|(?::[0-9A-Fa-f]{1,4}){1,7}|[0-9A-Fa-f]{1,4})(?![\w:])", is_ip, words=(":",)),
    # Last of the secrets: a random-looking token that no shape above claimed.
    d("SECRET", rf"(?<![\w/+=.%-])(?=[A-Za-z0-9+/_.-]{{{SECRET_MIN_CHARS}}})[A-Za-z0-9+/_-](?:[A-Za-z0-9+/_.-]*[A-Za-z0-9+/_-])?"
                r"={0,2}(?![\w/+=-])", is_high_entropy, min_digits=1),
)
# After the phone pass: an NHS number has the shape of a US phone number, and a valid phone is a phone.
AFTER_PHONES = (d("NHS", r"(?<![\d-])\d{3}([- ])\d{3}\1\d{4}(?![\d-])", nhs.is_valid),)


@dataclass
class Redacted:
    text: str
    counts: Counter = field(default_factory=Counter)

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def redact(text: str, phone_regions: Iterable[str] = PHONE_REGIONS) -> Redacted:
    """Replace each detected identifier with a ``[KIND]`` placeholder, and count them by kind."""
    counts: Counter = Counter()
    n_digits, lower = len(DIGIT.findall(text)), text.lower()
    for detector in DETECTORS:
        if n_digits >= detector.min_digits and (not detector.words or any(w in lower for w in detector.words)):
            text = _apply(detector, text, counts)
    text = _redact_phones(text, tuple(phone_regions), counts)
    for detector in AFTER_PHONES:
        text = _apply(detector, text, counts)
    return Redacted(text, counts)


def scan(texts: Mapping[str, str], phone_regions: Iterable[str] = PHONE_REGIONS) -> dict[str, Counter]:
    """Per key, what ``redact`` would find in its text, each distinct paragraph scanned once.

    A day's requests repeat the same instructions and help-centre passages thousands of times; only the ticket in each
    is new. No identifier spans a blank line, so counting paragraph by paragraph finds what scanning whole texts finds.
    """
    regions = tuple(phone_regions)
    seen: dict[str, Counter] = {}
    found = {}
    for key, text in texts.items():
        total: Counter = Counter()
        for paragraph in text.split("\n\n"):
            if paragraph not in seen:
                seen[paragraph] = redact(paragraph, regions).counts
            total += seen[paragraph]
        found[key] = total
    return found


def _apply(detector: Detector, text: str, counts: Counter) -> str:
    def replace(m: re.Match) -> str:
        found = m.group(detector.group)
        if detector.accept is not None and not detector.accept(found):
            return m.group(0)
        before = m.string[max(0, m.start() - 60):m.start()]
        if detector.context is not None and detector.context.search(before):
            return m.group(0)
        if detector.needs is not None and not detector.needs.search(before):
            return m.group(0)
        counts[detector.kind] += 1
        start, end = m.start(detector.group) - m.start(), m.end(detector.group) - m.start()
        return f"{m.group(0)[:start]}[{detector.kind}]{m.group(0)[end:]}"

    return detector.pattern.sub(replace, text)


def _redact_phones(text: str, regions: tuple[str, ...], counts: Counter) -> str:
    if not PHONE_SHAPE.search(text):
        return text
    spans = []
    for m in PHONE_CANDIDATE.finditer(text):
        span = _phone_within(text, m.start(), m.end(), regions)
        if span is not None:
            spans.append(span)
    for start, end in reversed(spans):
        text = f"{text[:start]}[PHONE]{text[end:]}"
    if spans:
        counts["PHONE"] += len(spans)
    return text


def _phone_within(text: str, start: int, end: int, regions: tuple[str, ...]) -> tuple[int, int] | None:
    """The candidate, if it is a valid number written like a phone number. Right after a phone word ("call me on") a
    number may be shorter (Iceland's and Estonia's have 7 digits) and written in any blocks."""
    called = bool(PHONE_CONTEXT.search(text[max(0, start - 25):start]))
    if _looks_like_phone(text, start, end, called) and _is_valid_phone(text[start:end], regions, called):
        return start, end
    return None


def _is_valid_phone(candidate: str, regions: tuple[str, ...], called: bool = False) -> bool:
    if DATE.fullmatch(candidate.strip("()")):
        return False
    international = candidate.startswith("+") or candidate.startswith("00")
    trunk = candidate.lstrip("(").startswith("0") or re.match(r"\(\d+\)", candidate)
    if not international and not trunk:
        # Without a trunk 0 or an area code in brackets, a number is written in short blocks ("612 345 678"), and
        # dash-joined digits are SKUs, invoice numbers and ranges, except in North America: countries whose numbers
        # have no trunk 0 (Spain, Denmark, Poland, ...) write them with spaces.
        blocks = re.findall(r"\d+", re.sub(r"[^\d]*(?:ext|x|#)\D*\d+$", "", candidate, flags=re.IGNORECASE))
        if len(blocks) > 1 and max(map(len, blocks)) > 4 and not called:
            return False
        if re.search(r"\d[-/]\d", candidate):
            regions = tuple(r for r in regions if r in NANP)
    for region in ("GB",) if international else regions:  # GB reads a 00 prefix as international, like most
        try:
            number = phonenumbers.parse(candidate, region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(number):
            return True
    return False


def _joined(text: str, i: int, away: int) -> bool:
    """Whether the character at ``i``, beside a number, makes it part of a longer token; a full stop or colon that ends
    a sentence or clause ("call +1 415 555 2671.") does not."""
    if not 0 <= i < len(text):
        return False
    beyond = text[i + away] if 0 <= i + away < len(text) else ""
    return text[i].isalnum() or text[i] == "_" or (text[i] in JOINERS and (beyond.isalnum() or beyond == "_"))


def _looks_like_phone(text: str, start: int, end: int, called: bool = False) -> bool:
    """Written like a phone number (a +, separators), standing alone, or a bare digit run right after a phone word; not
    right after the name of another identifier ("NHS number 123 456 7881")."""
    raw = text[start:end]
    if len(digits(raw)) < PHONE_MIN_DIGITS - called or _joined(text, start - 1, -1) or _joined(text, end, 1):
        return False  # part of a longer token: a URL, a file name, a timestamp
    if not called and (ID_CONTEXT.search(text[max(0, start - 25):start]) or NOT_A_PHONE.search(text[max(0, start - 30):start])):
        return False
    if not raw.strip("()").isdigit():
        return True
    return called
