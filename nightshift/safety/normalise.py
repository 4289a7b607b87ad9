"""What a ticket says once the disguises are taken off: the texts the screen reads instead of the raw ticket.

An attacker who knows the screen looks for words writes them so a reader still sees them and a pattern does not:
compatibility forms (full-width letters, ligatures), letters from other scripts that look Latin, invisible
characters inside words, letters spaced out, digits for letters, or the whole instruction encoded. ``views`` undoes
each of these and returns every reading worth screening: the folded text, and each payload decoded from it.
"""

from __future__ import annotations

import base64
import binascii
import html
import json
import re
import unicodedata
from functools import cache
from importlib import resources
from urllib.parse import unquote

# Format characters (zero-width spaces and joiners, bidi controls, the soft hyphen, the BOM): invisible, and inside a
# word they break every pattern that spells it.
INVISIBLE = re.compile(r"[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180e\u200b-\u200f\u202a-\u202e\u2060-\u206f\ufe00-\ufe0f\ufeff]")
# "i g n o r e", "i.g.n.o.r.e", "i-g-n-o-r-e": four or more single letters, one separator between each.
SPACED = re.compile(r"(?<!\w)(?:\w[ .\-_*|/]){3,}\w(?!\w)")
# A token that mixes letters with the digits and signs leetspeak puts in their place: "1gn0r3", "pr0mpt", "$y$tem".
LEET_TOKEN = re.compile(r"(?=\S*[A-Za-z])(?=\S*[0-9@$|!])[A-Za-z0-9@$|!]{3,}")
LEET = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "8": "b", "@": "a", "$": "s", "|": "l",
                      "!": "i"})
BASE64 = re.compile(r"(?<![A-Za-z0-9+/=_-])[A-Za-z0-9+/_-]{16,}={0,2}(?![A-Za-z0-9+/=_-])")
PERCENT = re.compile(r"%[0-9A-Fa-f]{2}")
ENTITY = re.compile(r"&(#\d{2,7}|#x[0-9A-Fa-f]{2,6}|[A-Za-z]{2,8});")
HEX_RUN = re.compile(r"(?<![0-9A-Fa-f])(?:[0-9A-Fa-f]{2}[ ]?){12,}(?![0-9A-Fa-f])")
BINARY_RUN = re.compile(r"(?<![01])(?:[01]{8}[ ]?){6,}(?![01])")
ESCAPES = re.compile(r"(?:\\u[0-9A-Fa-f]{4}|\\x[0-9A-Fa-f]{2}){6,}")
BASE32 = re.compile(r"(?<![A-Z2-7=])[A-Z2-7]{24,}={0,6}(?![A-Z2-7=])")
ASCII85 = re.compile(r"<~[!-u\s]{10,}~>")
BASE85 = re.compile(r"(?<!\S)[0-9A-Za-z!#$%&()*+\-;<=>?@^_`{|}~]{30,}(?!\S)")
MORSE_RUN = re.compile(r"(?:[.-]{1,6}[ ]+(?:/[ ]+)?){8,}[.-]{1,6}")
MORSE = dict(zip([".-", "-...", "-.-.", "-..", ".", "..-.", "--.", "....", "..", ".---", "-.-", ".-..", "--", "-.", "---", ".--.",
                  "--.-", ".-.", "...", "-", "..-", "...-", ".--", "-..-", "-.--", "--..", "-----", ".----", "..---", "...--",
                  "....-", ".....", "-....", "--...", "---..", "----."], "abcdefghijklmnopqrstuvwxyz0123456789"))
# Unicode's tag characters (U+E0020-E007E) are invisible copies of ASCII: a message no one sees but a model reads.
TAGS = re.compile("[\U000E0020-\U000E007E]{4,}")
ROT13 = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz", "NOPQRSTUVWXYZABCDEFGHIJKLMnopqrstuvwxyzabcdefghijklm")
MAX_DECODED = 6  # payloads decoded per ticket: enough for any honest ticket, and a bound for a hostile one


@cache
def look_alikes() -> dict[int, str]:
    """Unicode's confusables table (through confusable-homoglyphs), as a str.translate map: each character that can
    pass for an ASCII letter or digit, to that letter or digit."""
    table = json.loads(resources.files("confusable_homoglyphs").joinpath("confusables.json").read_text(encoding="utf-8"))
    fold = {}
    for char, entries in table.items():
        if len(char) != 1 or char.isascii():
            continue
        glyphs = [e["c"] for e in entries if len(e["c"]) == 1 and e["c"].isascii() and e["c"].isalnum()]
        # Cyrillic "І" looks like "l" and "1" as well as "I": a letter of the same case is the likeliest intent.
        glyphs.sort(key=lambda g: (not g.isalpha(), g.isupper() != char.isupper()))
        if glyphs:
            fold[ord(char)] = glyphs[0]
    # Unicode's skeletons fold "I" and Cyrillic "І" to "l"; the lower-case form says which letter is meant.
    for code in list(fold):
        upper = chr(code)
        if upper.isupper() and (lower := fold.get(ord(upper.lower()), "")).isalpha():
            fold[code] = lower.upper()
    return fold


def unmask(text: str) -> str:
    """NFKC, invisible characters removed, accents dropped, look-alike letters folded to ASCII."""
    text = INVISIBLE.sub("", unicodedata.normalize("NFKC", text))
    # Accents first, so "é" stays "e" rather than a look-alike's guess; Latin text keeps its letters.
    text = "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))
    return text.translate(look_alikes())


def fold(text: str) -> str:
    """``unmask``, then spaced letters joined and leetspeak read: "<|im_start|>" becomes "<lim_start|>" on the way,
    so patterns read the unmasked text as well."""
    text = SPACED.sub(lambda m: re.sub(r"[ .\-_*|/]", "", m.group(0)), unmask(text))
    return LEET_TOKEN.sub(lambda m: m.group(0).translate(LEET) if _leet(m) else m.group(0), text)


def decoded(text: str) -> list[str]:
    """Payloads hidden in the ticket, decoded: base64 (and its URL-safe form), base32, ASCII85 and base85, hex, binary,
    Morse, escape sequences, Unicode tag characters, percent-encoding, HTML entities."""
    found: list[str] = []
    for m in TAGS.finditer(text):
        found.append("".join(chr(ord(c) - 0xE0000) for c in m.group(0)))
    for m in ESCAPES.finditer(text):
        found.append(m.group(0).encode().decode("unicode_escape", errors="replace"))
    for m in BINARY_RUN.finditer(text):
        if (plain := _readable(bytes(int(b, 2) for b in m.group(0).split()))) is not None:
            found.append(plain)
    for m in MORSE_RUN.finditer(text):
        found.append(" ".join("".join(MORSE.get(c, "") for c in word.split()) for word in m.group(0).split("/")))
    for pattern, decode in ((BASE32, _base32), (ASCII85, _ascii85), (BASE85, base64.b85decode)):
        for m in pattern.finditer(text):
            try:
                raw = decode(m.group(0))
            except (binascii.Error, ValueError):
                continue
            if (plain := _readable(raw)) is not None:
                found.append(plain)
    if ENTITY.search(text):
        found.append(html.unescape(text))
    if PERCENT.search(text):
        found.append(unquote(text))
    for m in BASE64.finditer(text):
        if (plain := _base64(m.group(0))) is not None:
            found.append(plain)
    for m in HEX_RUN.finditer(text):
        if (plain := _readable(_hex(m.group(0)))) is not None:
            found.append(plain)
    return [t for t in dict.fromkeys(found) if t != text][:MAX_DECODED]


def views(text: str) -> list[str]:
    """The readings worth classifying: the folded ticket first, then each decoded payload, folded too."""
    folded = fold(text)
    return list(dict.fromkeys([folded, *(fold(t) for t in decoded(text))]))


def turned(view: str) -> list[str]:
    """A view in ROT13 and reversed: two disguises with no alphabet of their own to find them by. Patterns read them
    (a plainly written payload, once turned back, matches); the classifier does not, for its cost on every ticket."""
    return [view.translate(ROT13), view[::-1]]


def _leet(m: re.Match) -> bool:
    """'1gn0r3' is leetspeak; 'v2' and '3rd' are not worth rereading, and 'billing@shop.example' is an address."""
    token = m.group(0)
    if "@" in token and m.string[m.end():m.end() + 1] == ".":
        return False
    letters = sum(c.isalpha() for c in token)
    return letters >= 2 and letters >= len(token) / 3


def _base64(token: str) -> str | None:
    padded = token + "=" * (-len(token) % 4)
    for decode in (base64.b64decode, base64.urlsafe_b64decode):
        try:
            raw = decode(padded)
        except (binascii.Error, ValueError):
            continue
        if (plain := _readable(raw)) is not None:
            return plain
    return None


def _base32(token: str) -> bytes:
    return base64.b32decode(token + "=" * (-len(token) % 8))


def _ascii85(token: str) -> bytes:
    return base64.a85decode(token, adobe=True)


def _hex(token: str) -> bytes:
    return bytes.fromhex(token.replace(" ", ""))


def _readable(raw: bytes) -> str | None:
    """Text a person wrote, not bytes: valid UTF-8, mostly letters and spaces, more than one word."""
    try:
        plain = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if not plain or " " not in plain.strip():
        return None
    printable = sum(c.isalpha() or c.isspace() or c in ".,:;!?'\"-()" for c in plain)
    return plain if printable / len(plain) > 0.85 else None
