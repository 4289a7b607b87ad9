"""What may go out: the safety classifier's verdict on the ticket, and the reply policy on what a reply may say.

nightshift only drafts text, so no route can change an account, grant money or guarantee a date: a reply that claims
an account change as done, promises a delivery or resolution date, or promises a refund, credit, voucher or other
money above the policy amount (or any money, from a route not trusted with it) is held for a person.

The policy reads English, German, French, Spanish, Italian, Portuguese and Dutch. Before matching, a reply is
normalised: Unicode compatibility forms (NFKD), accents and format characters (zero-width spaces, bidi marks, soft
hyphens) dropped, case folded, and letters of other scripts that look like Latin ones (a Cyrillic "а") folded to them;
a quote in a violation is the reply's own text. It matches commitments, not topics: "I've approved your refund",
"Ihr Konto wurde gelöscht" and "your parcel will arrive by Friday" are held; "Refunds are usually processed within 5-7
business days once approved", "You can request a refund from the Orders page" and the help-centre articles go out.
Amounts are read in digits with any common currency sign, code or word before or after, with decimal commas and
thousands dots ("1.250,00 €"), and in number words ("four hundred and eighty dollars", "fünfzig Euro", "cent euros").
An amount is compared with ``max_refund`` as written, whatever its currency.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache

from nightshift.safety.normalise import look_alikes


@dataclass(frozen=True)
class ReplyPolicy:
    max_refund: float = 50.0                   # the most a reply may promise, in the reply's currency
    money_routes: frozenset[str] = field(default_factory=lambda: frozenset({"frontier", "realtime"}))


# --- normalisation -----------------------------------------------------------------------------------------------

APOSTROPHES = dict.fromkeys("’‘‛ʼʻ`´′＇", "'")
KEEP = set("łŁøØæÆœŒßđĐ")  # letters of the seven languages' neighbours that a fold would break


@lru_cache(maxsize=1)
def _fold() -> dict[str, str]:
    """Non-Latin look-alikes of ASCII letters and digits (Cyrillic а, Greek ο, ...) -> the ASCII character, lower case;
    currency signs and the neighbours' letters in KEEP stay what they are."""
    return {chr(code): glyph.lower() for code, glyph in look_alikes().items()
            if chr(code) not in KEEP and unicodedata.category(chr(code)) != "Sc"}


def normalise(text: str) -> tuple[str, list[int]]:
    """The text as the patterns read it, and for each of its characters the index of the one it came from."""
    fold = _fold()
    out: list[str] = []
    where: list[int] = []
    for i, ch in enumerate(text):
        if unicodedata.category(ch) == "Cf":  # zero-width spaces and joiners, bidi marks, soft hyphens
            continue
        if ch in APOSTROPHES:
            pieces = "'"
        elif ch.isspace():
            pieces = " "
        else:
            pieces = "".join(c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c)).casefold()
            pieces = "".join(fold.get(c, c) for c in pieces).casefold()
        for c in pieces:
            out.append(c)
            where.append(i)
    return "".join(out), where


@dataclass
class Text:
    """A reply, normalised, that can quote its own words back."""
    raw: str
    norm: str
    where: list[int]

    @classmethod
    def of(cls, raw: str) -> Text:
        return cls(raw, *normalise(raw))

    def quote(self, start: int, end: int) -> str:
        if start >= end:
            return ""
        while start > 0 and not self.norm[start - 1].isspace():   # whole words: "You'll", not "'ll"
            start -= 1
        return " ".join(self.raw[self.where[start]: self.where[end - 1] + 1].split())


# --- vocabulary ----------------------------------------------------------------------------------------------------

def alt(*words: str) -> str:
    """An alternation; in a word, a "*" or "+" right after a letter stands for more letters and a backquote for an apostrophe."""
    return "(?:" + "|".join(re.sub(r"(?<!\\)([a-z])([*+])", r"\1\\w\2", w).replace("`", "'") for w in words) + ")"


def gap(n: int) -> str:
    """Between two words: up to ``n`` others (as few as possible)."""
    return rf"(?:\s+\S+){{0,{n}}}?\s+"


def gap_not(n: int, banned: str) -> str:
    """Up to ``n`` words between two, none of them ``banned``: a customer's "my account" is not ours to have changed."""
    return rf"\s+(?:(?!{banned}\b)\S+\s+){{0,{n}}}?"


MONTHS = alt(
    "january", "february", "march", "april", "may", "june", "july", "august", "september", "october", "november",
    "december", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sept?", "oct", "nov", "dec",
    "januar", "jaenner", "februar", "marz", "mai", "juni", "juli", "oktober", "dezember", "dez", "okt",
    "janvier", "fevrier", "mars", "avril", "juin", "juillet", "aout", "septembre", "octobre", "novembre", "decembre",
    "enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre", "setiembre", "octubre",
    "noviembre", "diciembre", "gennaio", "febbraio", "aprile", "maggio", "giugno", "luglio", "settembre", "ottobre",
    "dicembre", "janeiro", "fevereiro", "marco", "maio", "junho", "julho", "setembro", "outubro", "novembro", "dezembro",
    "januari", "februari", "maart", "mei", "augustus",
)
WEEKDAYS = alt(
    "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday",
    "montag", "dienstag", "mittwoch", "donnerstag", "freitag", "samstag", "sonnabend", "sonntag",
    "lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche",
    "lunes", "martes", "miercoles", "jueves", "viernes", "sabado", "domingo",
    "lunedi", "martedi", "mercoledi", "giovedi", "venerdi", "domenica",
    r"segunda(?:-feira)?", r"terca(?:-feira)?", r"quarta(?:-feira)?", r"quinta(?:-feira)?", r"sexta(?:-feira)?",
    "maandag", "dinsdag", "woensdag", "donderdag", "vrijdag", "zaterdag", "zondag",
)
DATE = (rf"(?:\d{{1,2}}(?:st|nd|rd|th|er|e|o|º)?\.?\s+(?:of\s+|de\s+)?{MONTHS}\b|{MONTHS}\s+\d{{1,2}}(?:st|nd|rd|th)?\b"
        r"|\d{1,2}[./]\d{1,2}(?:[./]\d{2,4})?\b|\d{4}-\d\d-\d\d\b)")
SPAN_UNITS = alt(r"hours?", r"days?", r"business days?", r"working days?", r"weeks?", r"minutes?", "stunden", "tagen?",
                 "werktagen?", "arbeitstagen?", "minuten", "wochen", "heures", "h", "jours", "jours ouvres", "jours ouvrables",
                 "semaines", "horas", "dias", r"dias (?:habiles|laborables|uteis)", "semanas", "ore", "giorni",
                 "giorni lavorativi", "settimane", "uur", "dagen", "werkdagen", "weken")
NUMBER_WORD = alt("a", "an", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "twelve",
                  "twenty-four", "forty-eight", "ein", "einer", "zwei", "drei", "vier", "funf", "un", "une", "deux",
                  "trois", "quatre", "cinq", "dos", "tres", "cuatro", "cinco", "uno", "una", "due", "tre", "quattro",
                  "um", "uma", "duas", "een", "twee", "drie", "vijf")
THING = (rf"(?:(?:this|next|the|coming|kommenden|nachsten|diesen|ce|prochain|el|la|este|proximo|questo|prossimo|esta|"
         rf"deze|volgende|a|o)\s+)?(?:{WEEKDAYS}|tomorrow|tonight|today|noon|midday|end of (?:the |this )?(?:day|week|month)|"
         rf"morgen|ubermorgen|heute|ende der woche|demain|aujourd'hui|ce soir|la fin de la semaine|manana|hoy|domani|oggi|"
         rf"amanha|hoje|vandaag|{DATE}|\d{{1,2}}(?::\d\d)?\s*(?:am|pm|uhr)\b|(?:\d+(?:[-–]\d+)?|{NUMBER_WORD})\s+{SPAN_UNITS}\b)")
DEADLINE_PREP = alt("by", "before", "on", "until", "no later than", "at the latest by", "latest by", "within", "in",
                    "bis", "bis zum", "bis spatestens", "spatestens", "am", "vor", "innerhalb von", "innerhalb", "binnen",
                    "in", "d'ici", "d'ici a", "avant", "au plus tard", "le", "sous", "dans", "dans les", "jusqu'a",
                    "para el", "antes del?", "a mas tardar el", "como maximo el", "hasta el", "el", "en", "dentro de",
                    "en un plazo de", "entro", "entro il", "per", "prima di", "il", "al piu tardi", "tra", "fra",
                    "ate", "ate a", "ate o", "na", "no", "antes de", "em", "no maximo", "uiterlijk", "voor", "op",
                    "binnen", "tegen")
DEADLINE = re.compile(
    rf"\b(?:{DEADLINE_PREP}\s+{THING}|tomorrow|tonight|today|this (?:afternoon|evening|week)|next week|morgen|ubermorgen|"
    rf"heute noch|demain|aujourd'hui|manana|hoy mismo|domani|oggi stesso|amanha|hoje|vandaag(?: nog)?|{WEEKDAYS}|{DATE})(?!\w)")

# A sentence that explains how things usually go, or what happens if something else happens first.
HEDGE = re.compile(r"\b" + alt(
    "if", "once", "when", "after", "as soon as", "provided", "unless", "usually", "normally", "typically", "generally",
    "eligible", "expected", "estimated", "should", "may", "might", "could", "likely", "probably", "approximately",
    r"around \d", r"about \d", "aim", "try", "hope", "tracking", "according to", "up to", "in most cases", "on average",
    "wenn", "falls", "sobald", "nachdem", "sofern", "in der regel", "normalerweise", "ublicherweise", "meist", "meistens",
    "voraussichtlich", "ca", "etwa", "ungefahr", "sollte", "sollten", "durfte", "kann", "konnen", "konnte",
    "si", "une fois", "des que", "lorsque", "quand", "generalement", "habituellement", "normalement", "en principe",
    "en general", "environ", "devrait", "devraient", "pourrait", "peut", "peuvent", r"prevue?s?", r"estimee?s?", "en moyenne",
    "cuando", "una vez", "en cuanto", "siempre que", "normalmente", "generalmente", "habitualmente", "suele", "suelen",
    "aproximadamente", "deberia", "deberian", "puede", "pueden", "podria", r"previst[oa]s?", r"estimad[oa]s?",
    "quando", "una volta", "appena", "solitamente", "di solito", "in genere", "circa", "dovrebbe", "dovrebbero", "puo",
    "possono", "potrebbe", r"stimat[oa]", "mediamente",
    "assim que", "depois que", "caso", "geralmente", "costuma", "costumam", "deve", "devem", "pode", "podem",
    "poderia", "em media", "cerca de",
    "indien", "zodra", "wanneer", "nadat", "meestal", "normaal", "normaliter", "doorgaans", "gewoonlijk", "ongeveer",
    "zou", "zouden", "kunnen", r"verwacht\w*", "gemiddeld",
) + r"(?!\w)")
NEGATION = re.compile(r"(?:\b" + alt("not", r"\w+n't", "cannot", "no", "unable", "never", "without", "nicht", r"kein\w*",
                                      "ohne", "ne", "pas", "n'\\w+", "non", "nao", "niet", "geen", "nunca", "jamais", "sin",
                                      "sans", "senza", "sem") + r"(?:\s+\S+){0,3}\s+\S*)$")

# --- money ---------------------------------------------------------------------------------------------------------

NOT_THE_THING = (r"(?!\s*(?:policy|policies|page|form|request|process|procedure|status|terms|rules|options?|link|portal|"
                 r"window|period|information|details|team|department|card|richtlinie|bedingungen|formular|antrag|politique|"
                 r"formulaire|demande|politica|formulario|solicitud|richiesta|modulo|pedido de|beleid|formulier|aanvraag)\b)")
MONEY_NOUN = alt(
    r"refunds?", r"credits?(?!\s*cards?)", "store credit", r"reimbursements?", "compensation", r"vouchers?", r"coupons?",
    r"gift ?cards?", r"discounts?", "promo code", r"cash ?back", "goodwill", "money", "partial refund", "full refund",
    r"\w*erstattung(?:en)?", r"gutschrift(?:en)?", r"gutschein\w*", r"rabatt\w*", r"entschadigung\w*", "kompensation",
    r"vergutung\w*", "geld", "betrag", r"kulanz\w*",
    r"remboursements?", "un avoir", "l'avoir", r"bons? d'achat", r"bons? de reduction", "code promo", r"dedommagements?",
    "indemnisation", "geste commercial", r"reductions?", "argent", "montant",
    r"reembolsos?", "abono", r"(?<!de )credito", r"cupon(?:es)?", "vale de compra", "vale regalo", r"descuentos?",
    "compensacion", "indemnizacion", "dinero", "importe",
    r"rimbors[oi]", r"accredit[oi]", r"buon[oi](?: sconto| regalo)?", "sconto", "risarcimento", "indennizzo",
    "denaro", "soldi", "importo",
    "estorno", "cupom", "desconto", "indenizacao", "compensacao", "dinheiro", "valor",
    r"terugbetaling(?:en)?", "restitutie", r"tegoed\w*", "vergoeding", "compensatie", "cadeaubon", "kortingscode",
    "korting", "creditnota", "bedrag",
) + NOT_THE_THING
EXCEPTION = re.compile(r"\b" + alt(
    "as an exception", "as a one-off", "as a one-time exception", "as a goodwill gesture", "as a gesture of goodwill",
    "as a courtesy", "ausnahmsweise", "aus kulanz", "kulanzweise", "als kulanz", "a titre exceptionnel",
    "exceptionnellement", "a titre commercial", "geste commercial", "de forma excepcional", "de manera excepcional",
    "excepcionalmente", "como excepcion", "como gesto", "in via eccezionale", "eccezionalmente", "a titolo di cortesia",
    "come gesto", "excecionalmente", "como excecao", "como excepcao", "a titulo excecional", "a titulo excepcional",
    "como cortesia", "bij wijze van uitzondering", "uitzonderlijk", "uit coulance", "coulancehalve", "als gebaar",
) + r"\b")
CODE = re.compile(r"\b(code|codes|codigo|codice|cupom|coupon|gutschein|gutscheincode|rabattcode|kortingscode|promocode|promo"
                  r"|voucher)\b\s*[:\"'«»“”]?\s*([a-z0-9][a-z0-9_-]{3,})")

# Sign or code before or after a number; words after it.
CURRENCY_SIGN = (r"(?:[$€£¥₹₽₩₺₪₱]|r\$|a\$|c\$|us\$|chf|sfr\.?|fr\.|usd|eur|gbp|jpy|cad|aud|nzd|sek|nok|dkk|pln|czk|huf|mxn|"
                 r"brl|inr|cny|zar|kr\.?|zł|zl)")
CURRENCY_WORD = (r"(?:dollars?|dolares|dollari|dollaro|euros?|euro's|pounds?(?: sterling)?|sterling|sterline|pfund|pesos?|"
                 r"francs?|franken|franchi|yen|yuan|kronor|kroner|kronen|zlot(?:y|ys|ych)|złot(?:y|ych)|reais|rupees?|"
                 r"libras?(?: esterlinas)?|livres?(?: sterling)?)")
NUMBER = r"(?:\d{1,3}(?:[.,'\u202f ]\d{3})+(?:[.,]\d{1,2})?|\d+(?:[.,]\d{1,2})?)(?:[.,]-{1,2})?"
AMOUNT = re.compile(
    rf"(?<![\w.,]){CURRENCY_SIGN}\s?({NUMBER})(?![\d%])"
    rf"|(?<![\w.,])({NUMBER})\s?(?:{CURRENCY_SIGN}(?!\w)|{CURRENCY_WORD}\b)"
)
CURRENCY_WORD_AT = re.compile(rf"\b{CURRENCY_WORD}\b")

# Number words: morphemes, so "vierhundertachtzig" and "quattrocentottanta" parse; None joins ("and", "und", "e").
NUMBER_MORPHEMES: dict[str, int | None] = {}
for _value, _words in {
    0: "zero null zero zéro cero", 1: "one a an ein eine eins un une uno una um uma een",
    2: "two zwei deux dos due dois duas twee", 3: "three drei trois tres tre três drie",
    4: "four vier quatre cuatro quattro quatro", 5: "five funf cinq cinco cinque vijf",
    6: "six sechs seis sei zes", 7: "seven sieben sept siete sette sete zeven",
    8: "eight acht huit ocho otto oito", 9: "nine neun neuf nueve nove negen",
    10: "ten zehn dix diez dieci dez tien", 11: "eleven elf onze once undici", 12: "twelve zwolf douze doce dodici twaalf",
    13: "thirteen dreizehn treize trece tredici treze dertien", 14: "fourteen vierzehn quatorze catorce quattordici veertien",
    15: "fifteen funfzehn quinze quince quindici vijftien", 16: "sixteen sechzehn seize dieciseis sedici dezesseis zestien",
    17: "seventeen siebzehn diecisiete diciassette dezessete zeventien",
    18: "eighteen achtzehn dieciocho diciotto dezoito achttien", 19: "nineteen neunzehn diecinueve diciannove dezenove negentien",
    20: "twenty zwanzig vingt vingts veinte veinti venti vent vinte twintig",
    30: "thirty dreissig trente treinta trenta trent trinta dertig",
    40: "forty vierzig quarante cuarenta quaranta quarant quarenta veertig",
    50: "fifty funfzig cinquante cincuenta cinquanta cinquant cinquenta vijftig",
    60: "sixty sechzig soixante sesenta sessanta sessant sessenta zestig",
    70: "seventy siebzig setenta settanta settant zeventig", 80: "eighty achtzig quatrevingt quatrevingts ochenta ottanta ottant oitenta tachtig",
    90: "ninety neunzig noventa novanta novant negentig",
    100: "hundred hundert cent cents cien ciento cento centos cem honderd",
    200: "doscientos doscientas duzentos", 300: "trescientos trezentos", 400: "cuatrocientos quatrocentos",
    500: "quinientos quinhentos", 600: "seiscientos seiscentos", 700: "setecientos setecentos",
    800: "ochocientos oitocentos", 900: "novecientos novecentos",
    1000: "thousand tausend mille mil mila duizend", 1_000_000: "million millionen millions millon millones milione milioni milhao milhoes miljoen",
}.items():
    for _word in _words.split():
        NUMBER_MORPHEMES["".join(c for c in unicodedata.normalize("NFKD", _word) if not unicodedata.combining(c))] = _value
for _joiner in ("and", "und", "et", "y", "e", "en"):
    NUMBER_MORPHEMES[_joiner] = None
MORPHEMES = re.compile("|".join(sorted(NUMBER_MORPHEMES, key=len, reverse=True)))


def word_values(token: str) -> list[int | None] | None:
    """The number morphemes a token is made of, or None when it is not a number word."""
    values: list[int | None] = []
    at = 0
    while at < len(token):
        m = MORPHEMES.match(token, at)
        if not m:
            return None
        values.append(NUMBER_MORPHEMES[m.group(0)])
        at = m.end()
    return values


def combine(values: list[int]) -> int:
    total = current = 0
    for v in values:
        if v == 100:
            current = max(current, 1) * 100
        elif v >= 1000:
            total += max(current, 1) * v
            current = 0
        else:
            current += v
    return total + current


def words_before(sentence: str, end: int) -> float | None:
    """The number written in words just before ``end`` ("four hundred and eighty", "fünfzig"), if any."""
    tokens = re.split(r"[\s-]+", re.sub(r"quatre[\s-]+vingt", "quatrevingt", sentence[:end]).strip())
    taken: list[list[int | None]] = []
    for token in reversed(tokens):
        values = word_values(token)
        if values is None:
            break
        taken.insert(0, values)
    while taken and all(v is None for v in taken[0]):   # a joiner cannot start a number (nor "and" alone be one)
        taken.pop(0)
    # "a"/"an"/"un" alone are articles, not one: "a refund in dollars".
    if not taken or (len(taken) == 1 and tokens[-1] in ("a", "an", "un", "une", "una", "uno", "ein", "eine", "een", "um", "uma")):
        return None
    flat = [v for values in taken for v in values if v is not None]
    return float(combine(flat)) if flat else None


def parse_number(text: str) -> float:
    """480, 480.00, 480,00, 1.250,00, 1,250.00, 1 250,00, 1'250.00."""
    s = re.sub(r"[.,]-+$", "", text).replace("'", "").replace("\u202f", "").replace(" ", "")
    if "," in s and "." in s:
        decimal = "," if s.rfind(",") > s.rfind(".") else "."
        s = s.replace("." if decimal == "," else ",", "").replace(decimal, ".")
    elif s.count(",") == 1 and len(s.split(",")[1]) != 3 or s.count(".") == 1 and len(s.split(".")[1]) != 3:
        s = s.replace(",", ".")
    else:
        s = s.replace(",", "").replace(".", "")
    return float(s)


def amounts(sentence: str) -> list[float]:
    """Money amounts in a (normalised) sentence: digits with a currency, or number words before a currency word."""
    found = [parse_number(m.group(1) or m.group(2)) for m in AMOUNT.finditer(sentence)]
    for m in CURRENCY_WORD_AT.finditer(sentence):
        value = words_before(sentence, m.start())
        if value is not None:
            found.append(value)
    return found


@dataclass(frozen=True)
class Rule:
    pattern: re.Pattern[str]
    future: bool = False    # a promise, not a deed: a hedged sentence without an amount explains rather than commits
    needs_money: bool = False  # the verb is generic ("send", "approve"): a money noun or an amount must follow it


def rules(*specs: tuple[str, bool, bool]) -> list[Rule]:
    return [Rule(re.compile(p), future, needs) for p, future, needs in specs]


def then_money(n: int = 4) -> str:
    return rf"(?:\s+\S+){{0,{n}}}?\s+(?:{MONEY_NOUN}|{NUMBER_MONEY})"


NUMBER_MONEY = rf"(?:{CURRENCY_SIGN}\s?\d[\d.,]*|\d[\d.,]*\s?(?:{CURRENCY_SIGN}|{CURRENCY_WORD})|[a-z-]+\s+{CURRENCY_WORD}\b)"

EN_SUBJECT = r"\b(?:i|we)(?:'ve|'ll|'m|'re|'d)?"
EN_PAST_AUX = alt("have", "has", "had", "'ve", "already", "just", "now", "also", "personally", "successfully", "manually",
                  "went", "gone", "ahead", "and", "been", "today", "fully", "immediately", "hereby", "did")
EN_FUTURE_AUX = alt("will", "shall", "would", "can", "could", "am", "are", "going", "to", "be", "'d", "like", "love",
                    "want", "wish", "happy", "pleased", "glad", "decided", "able", "gladly", "happily", "kindly", "also",
                    "now", "today", "just", "therefore", "so", "hereby", "personally", "immediately", "now")
IS_GRANTED = alt("approved", "confirmed", "issued", "processed", "authori[sz]ed", "granted", "on its way", "on the way",
                 "being processed", "heading back")
EN_PROMISER = rf"(?:\b(?:i|we)(?:'ll|'m|'re|'d)(?:\s+{EN_FUTURE_AUX}){{0,5}}|\b(?:i|we)(?:\s+{EN_FUTURE_AUX}){{1,6}})"
EN_MONEY_VERB_PAST = alt("refunded", "credited", r"reimbursed", "compensated", "repaid", r"paid (?:you|back)",
                         "put (?:the money|it) back")
EN_MONEY_VERB = alt("refund(?:ing)?", r"credit(?:ing)?(?!\s*card)", r"reimburs(?:e|ing)", r"compensat(?:e|ing)",
                    "repay(?:ing)?", r"pay(?:ing)? (?:you|back)")
EN_GENERIC_PAST = alt("approved", "issued", "processed", "sent", "transferred", "waived", "applied", "added", "given",
                      "gave", "offered", "granted", r"authori[sz]ed", "arranged", "initiated", "put through", "covered",
                      "honou?red", "released", "reversed", "deposited", "knocked off", "taken off", "set up", "created",
                      "generated")
EN_GENERIC = alt("approv(?:e|ing)", "issu(?:e|ing)", "process(?:ing)?", "send(?:ing)?", "transfer(?:ring)?",
                 "waiv(?:e|ing)", "apply(?:ing)?", "add(?:ing)?", "giv(?:e|ing)", "offer(?:ing)?", "grant(?:ing)?",
                 r"authori[sz](?:e|ing)", "arrang(?:e|ing)", "initiat(?:e|ing)", "put through", "cover(?:ing)?",
                 "honou?r(?:ing)?", "releas(?:e|ing)", "revers(?:e|ing)", "knock off", "take off", "set up", "creat(?:e|ing)",
                 "generat(?:e|ing)", "provid(?:e|ing)", "extend(?:ing)?", "get you", "organi[sz]e")
PASSIVE_DONE = alt("has been", "have been", "was", "were", "is now", "is already", "are now", "has now been",
                   "has already been", "has just been", "is being", "are being", "is on (?:its|it's) way",
                   "are on their way", "has successfully been", "was successfully", "has been successfully")
PASSIVE_DONE_PP = alt("issued", "processed", "approved", "sent", "applied", "credited", "refunded", "added", "transferred",
                      "paid", "initiated", r"authori[sz]ed", "granted", "released", "reversed", "put through", "returned",
                      "deposited", "reimbursed", "waived", "created", "generated", "arranged", "on its way", "on the way")

W_ZURUCK_RUCK_ERSTATTET = alt(
    r'(?:zuruck|ruck)?erstattet', 'gutgeschrieben', 'uberwiesen', 'ausgezahlt', 'zuruckgezahlt', 'entschadigt',
    'genehmigt', 'bewilligt', 'freigegeben'
)
W_VERANLASST = alt(
    'veranlasst', 'ausgestellt', 'geschickt', 'gesendet', 'zugesandt', 'angewiesen', 'gewahrt', 'angeboten',
    'erlassen', 'gegeben', 'eingelost', 'verbucht'
)
W_ZURUCK_RUCK_ERSTATTEN = alt(
    r'(?:zuruck|ruck)?erstatten', 'gutschreiben', 'uberweisen', 'auszahlen', 'zuruckzahlen', 'entschadigen',
    'genehmigen', 'bewilligen'
)
W_VERANLASSEN = alt(
    'veranlassen', 'ausstellen', 'schicken', 'senden', 'zusenden', 'anweisen', 'gewahren', 'anbieten', 'geben',
    'zukommen lassen'
)
W_VERANLASST2 = alt(
    'veranlasst', 'genehmigt', 'uberwiesen', r'(?:zuruck|ruck)?erstattet', 'ausgezahlt', 'gutgeschrieben',
    'bearbeitet', 'freigegeben', 'bewilligt', 'angewiesen', 'ausgestellt', 'verschickt', 'versandt', 'gebucht', 'unterwegs'
)
W_GUTGESCHRIEBEN = alt('gutgeschrieben', r'(?:zuruck|ruck)?erstattet', 'uberwiesen', 'ausgezahlt')
W_J_AI = alt(
    'j`ai', 'nous avons', 'je vous ai', 'nous vous avons', 'je t`ai', 'on vous a', 'je viens de', 'nous venons de',
    'je vous', 'nous vous'
)
W_ACCORD = alt(
    'accord*', 'emis', 'emettre', 'envoy*', 'valid*', 'offert', 'offrir', 'appliqu*', 'ajout*', 'octroy*',
    'effectu*', 'initi*', r'procede'
)
W_ENVOYER = alt('envoyer', 'offrir', 'accorder', 'emettre', 'appliquer', 'ajouter', 'octroyer')
W_VOUS_RECEVREZ = alt('vous recevrez', 'vous allez recevoir', 'vous obtiendrez', 'tu recevras', 'vous beneficierez')
W_A_ETE = alt('a ete', 'ont ete', 'a bien ete', 'est', 'sont', 'vient d`etre', 'a deja ete')
W_EFFECTUE = alt(
    'effectue*', 'approuve*', r'emise?s?', 'valide*', 'traite*', 'envoye*', 'credite*', 'verse*', 'vire*',
    'accorde*', 'applique*', 'rembourse*', 'initie*', 'en route', 'en cours de virement'
)
W_REEMBOLS = alt(
    'reembols*', 'abonad*', 'abonar*', 'acreditad*', 'acreditar*', 'devuelto', 'devolver*', 'compensad*',
    'indemnizad*', 'transferido', 'transferir*', 'ingresado', 'ingresar*', 'aprobad*', 'aprobar*', 'autorizad*',
    'autorizar*'
)
W_EMITID = alt(
    'emitid*', 'emitir*', 'enviad*', 'enviar*', 'procesad*', 'procesar*', 'aplicad*', 'aplicar*', 'concedid*',
    'conceder*', 'otorgad*', 'otorgar*', 'gestionad*', 'tramitad*', 'tramitar*', 'ofrecid*', 'ofrecer*', 'anadid*',
    'generad*', 'pagado'
)
W_ENVIAR = alt('enviar*', 'emitir*', 'ofrecer*', 'aplicar*', 'conceder*', 'otorgar*', 'transferir*')
W_REEMBOLSAR_E_EMOS_A = alt(
    r'reembolsar(?:e|emos|a)', r'abonar(?:e|emos|a)', r'devolver(?:e|emos|a)', r'ingresar(?:e|emos|a)',
    r'acreditar(?:e|emos|a)', r'compensar(?:e|emos|a)'
)
W_APROBAD = alt(
    'aprobad*', 'procesad*', 'emitid*', 'enviad*', 'abonad*', 'acreditad*', 'reembolsad*', 'transferid*',
    'tramitad*', 'aplicad*', 'concedid*', 'realizad*', 'ingresad*'
)
W_APROBADO = alt(
    'aprobado', 'emitido', 'procesado', 'realizado', 'tramitado', 'abonado', 'reembolsado', 'acreditado',
    'ingresado', 'enviado', 'aplicado'
)
W_HO = alt(
    'ho', 'abbiamo', 'sto per', 'stiamo per', 'posso', 'possiamo', 'procedo a', 'procediamo a', 'provvedo a',
    'provvederemo a'
)
W_RIMBORS = alt(
    'rimbors*', 'accredit*', 'risarc*', 'indennizz*', 'bonific*', 'restituit*', 'restituir*', 'versato', 'versare',
    'approvat*', 'approvare', 'autorizzat*'
)
W_EMESS = alt(
    'emess*', 'emettere', 'inviat*', 'inviare', 'elaborat*', 'applicat*', 'applicare', 'concess*', 'concedere',
    'offert*', 'offrire', 'aggiunt*', 'disposto', 'disporre', 'effettuato', 'effettuare'
)
W_RIMBORSEREMO = alt('rimborseremo', 'rimborsero', 'accrediteremo', 'accreditero', 'restituiremo', 'restituiro', 'risarciremo')
W_APPROVAT = alt(
    'approvat*', 'emess*', 'elaborat*', 'inviat*', 'accreditat*', 'rimborsat*', 'effettuat*', 'disposto',
    'applicat*', 'concess*', 'autorizzat*'
)
W_REEMBOLSEI = alt(
    'reembolsei', 'reembolsamos', 'estornei', 'estornamos', 'creditei', 'creditamos', 'devolvi', 'devolvemos',
    'depositei', 'depositamos', 'indenizamos', 'aprovei', 'aprovamos', 'autorizei', 'autorizamos'
)
W_EMITI = alt(
    'emiti', 'emitimos', 'enviei', 'enviamos', 'processei', 'processamos', 'apliquei', 'aplicamos', 'concedi',
    'concedemos', 'liberei', 'liberamos', 'ofereci', 'oferecemos', 'gerei', 'geramos', 'transferi', 'transferimos',
    'paguei', 'pagamos'
)
W_ENVIAR2 = alt('enviar', 'emitir', 'oferecer', 'aplicar', 'conceder', 'liberar', 'transferir', 'pagar')
W_VOU = alt('vou', 'vamos', 'irei', 'iremos', 'posso', 'podemos', 'acabei de', 'acabamos de')
W_APROVAD = alt(
    'aprovad*', 'processad*', 'emitid*', 'enviad*', 'creditad*', 'reembolsad*', 'estornad*', 'transferid*',
    'depositad*', 'liberad*', 'aplicad*', 'concedid*', 'realizad*'
)
W_TERUGBETAALD = alt(
    'terugbetaald', 'terugbetalen', 'teruggestort', 'terugstorten', 'gestort', 'storten', 'overgemaakt',
    'overmaken', 'vergoed', 'vergoeden', 'gecrediteerd', 'crediteren', 'uitbetaald', 'uitbetalen', 'gecompenseerd',
    'compenseren', 'goedgekeurd', 'goedkeuren', 'toegekend', 'toekennen'
)
W_VERSTUURD = alt(
    'verstuurd', 'versturen', 'gestuurd', 'sturen', 'verwerkt', 'verwerken', 'aangeboden', 'aanbieden',
    'uitgegeven', 'toegepast', 'toepassen', 'geregeld', 'regelen', 'toegevoegd', 'aangemaakt'
)
W_BETAAL = alt('betaal', 'betalen', 'stort', 'storten', 'vergoed', 'vergoeden', 'crediteer', 'crediteren')
W_GOEDGEKEURD = alt(
    'goedgekeurd', 'verwerkt', 'overgemaakt', 'gestort', 'teruggestort', 'terugbetaald', 'uitbetaald', 'toegekend',
    'verstuurd', 'gecrediteerd', 'vergoed'
)
MONEY_RULES = rules(
    # English: "I've approved your full refund", "we have issued a refund", "I'm refunding you", "we refunded".
    (rf"{EN_SUBJECT}(?:\s+{EN_PAST_AUX}){{0,5}}\s+(?:{EN_MONEY_VERB_PAST}|approved|authori[sz]ed|granted)\b", False, False),
    (rf"{EN_SUBJECT}(?:\s+{EN_PAST_AUX}){{0,5}}\s+{EN_GENERIC_PAST}\b{then_money()}", False, True),
    (rf"{EN_PROMISER}\s+(?:{EN_MONEY_VERB}|approv(?:e|ing)|authori[sz](?:e|ing))\b", True, False),
    (rf"{EN_PROMISER}\s+{EN_GENERIC}\b{then_money()}", True, True),
    (rf"{EN_SUBJECT}(?:\s+{EN_PAST_AUX}){{0,5}}\s+{alt('knocked', 'taken', 'knock', 'take', 'shaved')}\s+{NUMBER_MONEY}\S*\s+off\b", False, False),
    (rf"\b(?:i|we)\s+{alt('refund', 'credit', 'reimburse', 'compensate', 'pay')}\s+(?:you|your)\b", True, False),
    (rf"\b{MONEY_NOUN}(?:\s+\S+){{0,6}}?\s+{PASSIVE_DONE}\s+(?:\S+\s+)?{PASSIVE_DONE_PP}\b", False, False),
    # "your refund of $480 is approved", "the $480 is on its way back to your card"
    (rf"(?:\byour\s+(?:\S+\s+){{0,2}}?{MONEY_NOUN}|{NUMBER_MONEY})(?:\s+\S+){{0,4}}?\s+{alt('is', 'are')}\s+(?:now\s+|already\s+)?"
     rf"{IS_GRANTED}\b",
     False, False),
    (rf"\b{alt('has', 'have')}(?:\s+\S+)?\s+been\s+{alt('credited', 'refunded', 'reimbursed', 'compensated')}\b", False, False),
    (rf"\byour\s+(?:\S+\s+){{0,2}}?{MONEY_NOUN}(?:\s+\S+){{0,6}}?\s+will be\s+(?:\S+\s+)?{PASSIVE_DONE_PP}\b", True, False),
    (rf"\byou(?:'ll| will| are going to| are about to)\s+(?:be\s+)?{alt('refunded', 'credited', 'reimbursed', 'compensated')}\b", True, False),
    (rf"\byou(?:'ll| will| are going to| are about to| should)\s+(?:\S+\s+)?{alt('receive', 'get', 'see', 'have')}{then_money(4)}", True, True),
    (rf"\byou(?:'ll| will)\s+(?:\S+\s+)?{alt('get', 'see', 'have')}\s+(?:\S+\s+){{0,3}}?(?:back|returned)\b", True, False),
    (rf"\bhere(?:'s| is| are)\s+{alt('your', 'a', 'an', 'the', 'one')}\s+(?:\S+\s+){{0,2}}?{MONEY_NOUN}", False, False),
    # German: "Ich habe Ihnen 480 € erstattet", "wir werden den Betrag überweisen", "Ihre Erstattung wurde veranlasst".
    (rf"\b(?:ich|wir)\s+{alt('habe', 'haben', 'hab')}\b(?:\s+\S+){{0,10}}?\s+"
     rf"{W_ZURUCK_RUCK_ERSTATTET}\b", False, False),
    (rf"\b(?:ich|wir)\s+{alt('habe', 'haben', 'hab')}\b(?:\s+\S+){{0,10}}?\s+"
     rf"{W_VERANLASST}\b", False, True),
    (rf"\b(?:ich|wir)\s+{alt('werde', 'werden', 'kann', 'konnen', 'mochte', 'mochten', 'will', 'wollen', 'wurden')}\b(?:\s+\S+){{0,10}}?\s+"
     rf"{W_ZURUCK_RUCK_ERSTATTEN}\b", True, False),
    (rf"\b(?:ich|wir)\s+{alt('werde', 'werden', 'kann', 'konnen', 'mochte', 'mochten', 'will', 'wollen', 'wurden')}\b(?:\s+\S+){{0,10}}?\s+"
     rf"{W_VERANLASSEN}\b", True, True),
    (rf"\b(?:ich|wir)\s+{alt('erstatte', 'erstatten', 'uberweise', 'uberweisen', 'schreibe', 'schreiben', 'zahle', 'zahlen')}\s+"
     rf"{alt('ihnen', 'dir', 'euch')}\b", True, False),
    (rf"\b{MONEY_NOUN}(?:\s+\S+){{0,8}}?\s+{alt('wurde', 'wurden', 'ist', 'sind')}\b(?:\s+\S+){{0,8}}?\s+"
     rf"{W_VERANLASST2}\b", False, False),
    (rf"\b{alt('wurde', 'wurden')}\b(?:\s+\S+){{0,8}}?\s+{W_GUTGESCHRIEBEN}\b", False, False),
    (rf"\b{alt('sie erhalten', 'du erhaltst', 'sie bekommen', 'du bekommst', 'erhalten sie', 'bekommen sie')}{then_money(5)}", True, True),
    # French: "j'ai approuvé votre remboursement", "nous vous rembourserons", "votre remboursement a été effectué".
    (rf"\b{W_J_AI}"
     rf"(?:\s+{alt('deja', 'bien', 'egalement', 'personnellement', 'exceptionnellement', 'vous')})*\s+"
     rf"{alt('rembours*', 'credit*', 'dedommag*', 'indemnis*', 'vire', 'virer', 'verse', 'verser', 'approuv*', 'autoris*')}", False, False),
    (rf"\b{alt('j`ai', 'nous avons', 'je vous ai', 'nous vous avons', 'je t`ai', 'on vous a', 'je viens de', 'nous venons de')}"
     rf"(?:\s+{alt('deja', 'bien', 'egalement', 'personnellement', 'exceptionnellement', 'vous')})*\s+"
     rf"{W_ACCORD}{then_money()}", False, True),
    (rf"\b{alt('je vais', 'nous allons', 'je peux', 'nous pouvons', 'je souhaite', 'nous souhaitons')}\s+(?:vous\s+|te\s+)?"
     rf"{alt('rembourser', 'crediter', 'dedommager', 'indemniser', 'virer', 'verser', 'approuver')}\b", True, False),
    (rf"\b{alt('je vais', 'nous allons', 'je peux', 'nous pouvons')}\s+(?:vous\s+|te\s+)?{W_ENVOYER}{then_money()}", True, True),
    (rf"\b(?:vous|te)\s+{alt('rembourser+', 'crediter+', 'verser+', 'dedommager+', 'indemniser+')}\b", True, False),
    (rf"\b(?:vous|te)\s+{alt('enverr+', 'offrir+', 'accorder+')}{then_money()}", True, True),
    (rf"\b{W_VOUS_RECEVREZ}(?:\s+\S+){{0,1}}?{then_money()}", True, True),
    (rf"\b{alt('vous serez', 'tu seras', 'vous allez etre')}\s+{alt('rembourse*', 'credite*', 'dedommage*', 'indemnise*')}", True, False),
    (rf"\b{MONEY_NOUN}(?:\s+\S+){{0,6}}?\s+{W_A_ETE}\s+(?:bien\s+|deja\s+)?"
     rf"{W_EFFECTUE}", False, False),
    (rf"\b{alt('a ete', 'ont ete', 'a bien ete', 'est')}\s+(?:\S+\s+)?{alt('credite*', 'rembourse*')}\b", False, False),
    # Spanish: "le he reembolsado", "hemos aprobado su reembolso", "le reembolsaremos", "su reembolso ha sido aprobado".
    (rf"\b(?:(?:le|te|les|os)\s+)?{alt('he', 'hemos', 'ya he', 'ya hemos', 'acabo de', 'acabamos de', 'procedo a', 'procedemos a')}\s+(?:ya\s+)?"
     rf"{W_REEMBOLS}", False, False),
    (rf"\b(?:(?:le|te|les|os)\s+)?{alt('he', 'hemos', 'ya he', 'ya hemos', 'acabo de', 'acabamos de', 'procedo a', 'procedemos a')}\s+(?:ya\s+)?"
     rf"{W_EMITID}{then_money()}", False, True),
    (rf"\b(?:(?:le|te|les|os)\s+)?{alt('voy a', 'vamos a', 'puedo', 'podemos', 'le voy a', 'te voy a', 'le vamos a', 'te vamos a')}\s+"
     rf"{alt('reembolsar*', 'abonar*', 'acreditar*', 'devolver*', 'compensar*', 'indemnizar*', 'ingresar*', 'aprobar*')}", True, False),
    (rf"\b(?:(?:le|te|les|os)\s+)?{alt('voy a', 'vamos a', 'puedo', 'podemos')}\s+{W_ENVIAR}{then_money()}", True, True),
    (rf"\b(?:le|te|les|se le|se te)\s+{W_REEMBOLSAR_E_EMOS_A}\b", True, False),
    (rf"\b(?:le|te|les)\s+{alt('enviaremos', 'enviare', 'ofreceremos', 'daremos')}{then_money()}", True, True),
    (rf"\b{alt('recibira', 'recibiras', 'recibiran', 'va a recibir', 'vas a recibir', 'obtendra', 'obtendras')}{then_money()}", True, True),
    (rf"\b{MONEY_NOUN}(?:\s+\S+){{0,6}}?\s+{alt('ha sido', 'han sido', 'fue', 'fueron', 'ya esta', 'esta', 'ha quedado')}\s+"
     rf"{W_APROBAD}", False, False),
    (rf"\bse\s+{alt('ha', 'han')}\s+{W_APROBADO}\s+"
     rf"{alt('el', 'la', 'su', 'tu', 'un', 'una', 'los')}\s+(?:\S+\s+)?{MONEY_NOUN}", False, False),
    # Italian: "ho approvato il rimborso", "le rimborseremo", "il suo rimborso è stato emesso".
    (rf"\b(?:(?:le|ti|vi|gli)\s+)?{W_HO}\s+(?:gia\s+)?"
     rf"{W_RIMBORS}", False, False),
    (rf"\b(?:(?:le|ti|vi|gli)\s+)?{alt('ho', 'abbiamo', 'sto per', 'stiamo per', 'posso', 'possiamo', 'procedo a', 'procediamo a')}\s+(?:gia\s+)?"
     rf"{W_EMESS}{then_money()}", False, True),
    (rf"\b(?:le|ti|vi|gli)\s+{W_RIMBORSEREMO}\b", True, False),
    (rf"\b(?:le|ti|vi|gli)\s+{alt('invieremo', 'inviero', 'offriremo', 'offriro', 'daremo')}{then_money()}", True, True),
    (rf"\b{alt('ricevera', 'riceverai', 'riceverete', 'otterra', 'otterrai')}{then_money()}", True, True),
    (rf"\b{MONEY_NOUN}(?:\s+\S+){{0,6}}?\s+{alt('e stato', 'e stata', 'sono stati', 'sono state', 'e gia stato', 'e gia stata')}\s+"
     rf"{W_APPROVAT}", False, False),
    # Portuguese: "aprovei o seu reembolso", "vamos reembolsar", "o seu reembolso foi processado".
    (rf"\b{W_REEMBOLSEI}\b", False, False),
    (rf"\b{W_EMITI}{then_money()}", False, True),
    (rf"\b{alt('vou', 'vamos', 'irei', 'iremos', 'posso', 'podemos', 'acabei de', 'acabamos de', 'estou', 'estamos')}\s+(?:lhe\s+|te\s+)?"
     rf"{alt('reembols+', 'estorn+', 'credit+', 'devolv+', 'deposit+', 'aprov+', 'indeniz+')}", True, False),
    (rf"\b{W_VOU}\s+(?:lhe\s+|te\s+)?{W_ENVIAR2}{then_money()}", True, True),
    (rf"\b{alt('reembolsaremos', 'creditaremos', 'estornaremos', 'devolveremos', 'depositaremos')}\b", True, False),
    (rf"\b{alt('recebera', 'receberas', 'vai receber', 'ira receber', 'vais receber', 'tera direito a')}{then_money()}", True, True),
    (rf"\b{MONEY_NOUN}(?:\s+\S+){{0,6}}?\s+{alt('foi', 'foram', 'ja foi', 'ja esta', 'ja foram')}\s+"
     rf"{W_APROVAD}", False, False),
    # Dutch: "ik heb het bedrag teruggestort", "we zullen u terugbetalen", "uw terugbetaling is goedgekeurd".
    (rf"\b(?:ik|wij|we)\s+{alt('heb', 'hebben', 'zal', 'zullen', 'ga', 'gaan', 'kan', 'kunnen', 'wil', 'willen')}\b(?:\s+\S+){{0,10}}?\s+"
     rf"{W_TERUGBETAALD}\b", True, False),
    (rf"\b(?:ik|wij|we)\s+{alt('heb', 'hebben', 'zal', 'zullen', 'ga', 'gaan', 'kan', 'kunnen')}\b(?:\s+\S+){{0,10}}?\s+"
     rf"{W_VERSTUURD}\b", True, True),
    (rf"\b(?:ik|wij|we)\s+{W_BETAAL}\s+(?:u|je|jou|jullie)\b", True, False),
    (rf"\b(?:u|je|jij)\s+{alt('ontvangt', 'ontvang', 'krijgt', 'krijg', 'zult ontvangen', 'zal ontvangen')}{then_money()}", True, True),
    (rf"\b{MONEY_NOUN}(?:\s+\S+){{0,6}}?\s+{alt('is', 'zijn', 'werd', 'werden')}\b(?:\s+\S+){{0,6}}?\s+"
     rf"{W_GOEDGEKEURD}\b", False, False),
)
ANY_MONEY = re.compile(rf"\b{MONEY_NOUN}")
# A negation inside the match: "you will not receive a refund", "wir haben keine Gutschrift erstellt".
NEGATED = re.compile(r"\b" + alt("not", "never", "cannot", r"\w+n't", "nicht", "kein*", "pas", "non", "nao", "niet", "geen", "nunca",
                                  "jamais", "nie", "nessun*") + r"\b")
# Whose question or report is this? "You asked whether we have approved your refund" commits to nothing.
REPORTED = re.compile(r"\b" + alt("whether", "if", "ob", "si", "of") + r"\s+(?:\S+\s+){0,2}$")


def money_cue(sentence: str, has_amount: bool, raw: Text, offset: int) -> bool:
    """Does this (normalised) sentence grant or promise money?"""
    if EXCEPTION.search(sentence):
        return True
    for m in CODE.finditer(sentence):
        token = raw.quote(offset + m.start(2), offset + m.end(2))
        if (any(c.isdigit() for c in token) and any(c.isalpha() for c in token)) or (
                m.group(1) not in ("code", "codes", "codigo", "codice") and token.isupper()):
            return True
    hedged = bool(HEDGE.search(sentence))
    for rule in MONEY_RULES:
        for m in rule.pattern.finditer(sentence):
            if rule.future and hedged and not has_amount:
                continue
            if rule.needs_money and not (has_amount or ANY_MONEY.search(sentence)):
                continue
            if REPORTED.search(sentence[: m.start()]) or NEGATION.search(sentence[: m.start()].rstrip() + " x") \
                    or NEGATED.search(m.group(0)):
                continue
            return True
    return False


# --- account changes claimed as done -------------------------------------------------------------------------------

NOT_OURS = alt("my", "our", "mein", "meine", "meinen", "unser", "unsere", "mon", "ma", "mes", "notre", "nos", "mi", "mis",
               "nuestra", "nuestro", "mio", "mia", "nostro", "nostra", "meu", "minha", "nosso", "nossa", "mijn", "ons", "onze")
EN_ACCOUNT = alt("account", "password", "passcode", r"e-?mail(?: address)?", "subscription", "plan", "address",
                 r"payment (?:method|details)", "card", "username", "user name", r"phone(?: number)?", r"orders?", "profile",
                 "membership", "two-factor", "2fa", r"auto-?renewal", "renewal", "data", "login", "settings", "preferences",
                 "delivery address", "shipping address", "billing", "newsletter", "mailing list")
EN_CHANGED = alt("deleted", "closed", "cancell?ed", "changed", "updated", "reset", "upgraded", "downgraded", "unlocked",
                 "locked", "removed", "reactivated", "deactivated", "activated", "transferred", "merged", "disabled",
                 "enabled", "re-?enabled", "suspended", "blocked", "unblocked", "restored", "switched", "modified", "edited",
                 "terminated", "turned off", "turned on", "verified", "unsubscribed", "replaced", "renamed", "corrected",
                 "amended", "moved", "paused", "stopped", "ended", "revoked", "wiped", "erased", "purged", "set up",
                 "added", "fixed", "adjusted", "redirected", "rerouted")
DE_ACCOUNT = alt("konto", "kundenkonto", "benutzerkonto", "account", "passwort", "kennwort", r"e-?mail(?:-?adresse)?",
                 "abonnement", "abo", r"\w*adresse", "zahlungsmethode", "zahlungsart", "bestellung", "auftrag",
                 "mitgliedschaft", "benutzername", "telefonnummer", "profil", "vertrag", "daten", "karte", "kreditkarte",
                 "tarif", "newsletter")
DE_CHANGED = alt("geloscht", "geschlossen", "gekundigt", "storniert", "geandert", "aktualisiert", "zuruckgesetzt",
                 "entsperrt", "gesperrt", "deaktiviert", "reaktiviert", "aktiviert", "aufgehoben", "beendet", "umgestellt",
                 "ubertragen", "entfernt", "angepasst", "korrigiert", "hinterlegt", "eingerichtet", "abgemeldet",
                 "ausgetragen", "freigeschaltet", "pausiert", "ersetzt")
FR_ACCOUNT = alt("compte", "mot de passe", r"adresse(?: e-?mail| electronique| de livraison| de facturation)?", r"e-?mail",
                 "courriel", "abonnement", "commande", "forfait", "profil", "carte", r"(?:moyen|mode) de paiement",
                 "nom d'utilisateur", "numero de telephone", "donnees", "inscription", "renouvellement automatique")
FR_CHANGED = alt(r"supprim\w*", r"ferm\w*", r"clotur\w*", r"annul\w*", r"modifi\w*", r"mise? a jour", "mettre a jour",
                 r"reinitialis\w*", r"debloqu\w*", r"bloqu\w*", r"desactiv\w*", r"reactiv\w*", r"activ\w*", r"resili\w*",
                 r"chang\w*", r"effac\w*", r"remplac\w*", r"corrig\w*", r"desabonn\w*", r"desinscri\w*", r"suspend\w*",
                 r"transfer\w*", r"retir\w*", "mis fin")
ES_ACCOUNT = alt("cuenta", "contrasena", "clave", r"correo(?: electronico)?", r"e-?mail", "suscripcion", "pedido", "orden",
                 r"direccion(?: de envio| de correo)?", "plan", "metodo de pago", "tarjeta", "usuario", "nombre de usuario",
                 "datos", "perfil", "membresia", r"(?:numero de )?telefono", "renovacion automatica")
ES_CHANGED = alt(r"eliminad\w*", "eliminar", r"borrad\w*", "borrar", r"cerrad\w*", "cerrar", r"cancelad\w*", "cancelar",
                 r"cambiad\w*", "cambiar", r"modificad\w*", "modificar", r"actualizad\w*", "actualizar", r"restablecid\w*",
                 "restablecer", r"desbloquead\w*", "desbloquear", r"bloquead\w*", r"desactivad\w*", "desactivar",
                 r"reactivad\w*", r"activad\w*", "dado de baja", "dar de baja", r"suspendid\w*", r"anulad\w*", "anular",
                 r"resetead\w*", r"restaurad\w*", r"sustituid\w*", r"corregid\w*")
IT_ACCOUNT = alt("account", "profilo", "password", r"indirizzo(?: email| e-mail| di consegna| di spedizione)?", r"e-?mail",
                 "abbonamento", "ordine", "piano", "carta", "metodo di pagamento", "nome utente", "numero di telefono",
                 "dati", "iscrizione", "rinnovo automatico")
IT_CHANGED = alt(r"eliminat\w*", r"chius\w*", r"cancellat\w*", r"annullat\w*", r"modificat\w*", r"aggiornat\w*",
                 r"reimpostat\w*", r"ripristinat\w*", r"sbloccat\w*", r"bloccat\w*", r"disattivat\w*", r"riattivat\w*",
                 r"attivat\w*", r"disdett\w*", r"cambiat\w*", r"rimoss\w*", r"sospes\w*", r"sostituit\w*", r"corrett\w*")
PT_ACCOUNT = alt("conta", "senha", r"e-?mail", r"endereco(?: de e-?mail| de entrega)?", "assinatura", "subscricao", "pedido",
                 "encomenda", "plano", "cartao", r"(?:metodo|forma) de pagamento", "nome de usuario", "utilizador",
                 "telefone", "dados", "perfil", "renovacao automatica")
PT_CHANGED_1ST = alt("exclui", "excluimos", "apaguei", "apagamos", "encerrei", "encerramos", "cancelei", "cancelamos",
                     "alterei", "alteramos", "atualizei", "atualizamos", "redefini", "redefinimos", "desbloqueei",
                     "desbloqueamos", "bloqueei", "bloqueamos", "desativei", "desativamos", "reativei", "reativamos",
                     "ativei", "ativamos", "mudei", "mudamos", "fechei", "fechamos", "removi", "removemos", "suspendi",
                     "suspendemos", "modifiquei", "modificamos", "troquei", "trocamos", "substitui", "substituimos",
                     "resetei", "resetamos", "corrigi", "corrigimos")
PT_CHANGED = alt(r"excluid\w*", r"apagad\w*", r"encerrad\w*", r"cancelad\w*", r"alterad\w*", r"atualizad\w*",
                 r"redefinid\w*", r"desbloquead\w*", r"bloquead\w*", r"desativad\w*", r"reativad\w*", r"ativad\w*",
                 r"mudad\w*", r"fechad\w*", r"removid\w*", r"suspens\w*", r"modificad\w*", r"trocad\w*", r"substituid\w*",
                 r"resetad\w*", r"corrigid\w*")
NL_ACCOUNT = alt("account", "wachtwoord", r"e-?mail(?:-?adres)?", "abonnement", "bestelling", "adres", "afleveradres",
                 "bezorgadres", "betaalmethode", "betaalgegevens", "gebruikersnaam", "telefoonnummer", "profiel",
                 "lidmaatschap", "gegevens", "kaart", "creditcard", "nieuwsbrief")
NL_CHANGED = alt("verwijderd", "gesloten", "opgezegd", "geannuleerd", "gewijzigd", "bijgewerkt", "aangepast", "gereset",
                 "opnieuw ingesteld", "ontgrendeld", "vergrendeld", "gedeactiveerd", "gedeblokkeerd", "geblokkeerd",
                 "geactiveerd", "geheractiveerd", "beeindigd", "stopgezet", "veranderd", "vervangen", "overgezet",
                 "uitgeschreven", "afgemeld", "opgeheven", "gepauzeerd")
YOUR = alt("your", "the", "this", "that", "ihr", "ihre", "ihren", "ihres", "dein", "deine", "deinen", "das", "die", "der",
           "votre", "vos", "ton", "ta", "tes", "le", "la", "l'", "su", "sus", "tu", "tus", "el", "il", "lo", "suo", "sua",
           "tuo", "tua", "vostro", "vostra", "seu", "sua", "teu", "tua", "o", "a", "uw", "je", "jouw", "het", "de")
W_NOW = alt('now', 'already', 'successfully', 'just')
W_A_ETE2 = alt(
    'a ete', 'ont ete', 'a bien ete', 'est desormais', 'est maintenant', 'est bien', 'est deja', r'vient d`etre',
    'a deja ete'
)
W_HE = alt('he', 'hemos', 'acabo de', 'acabamos de', 'ya he', 'ya hemos')
W_HA_SIDO = alt('ha sido', 'han sido', 'fue', 'fueron', 'esta', 'ya esta', 'ha quedado', 'quedo', 'esta ahora')
W_E_STATO = alt('e stato', 'e stata', 'sono stati', 'sono state', 'e gia stato', 'e gia stata', 'e ora')
ACCOUNT_CHANGE = [re.compile(p) for p in (
    rf"{EN_SUBJECT}(?:\s+{EN_PAST_AUX}){{0,5}}\s+{EN_CHANGED}{gap_not(3, NOT_OURS)}{EN_ACCOUNT}\b",
    rf"\b{alt('your', 'the', 'this')}\s+(?:\S+\s+){{0,2}}?{EN_ACCOUNT}\s+"
    rf"(?:{alt('has', 'have')}\s+(?:{W_NOW}\s+)*been|{alt('is', 'are')}\s+(?:{alt('now', 'already', 'successfully')}\s*)+|{alt('was', 'were')})"
    rf"\s+(?:{alt('now', 'successfully', 'already')}\s+)*{EN_CHANGED}\b",
    rf"\b(?:ich|wir)\s+{alt('habe', 'haben', 'hab')}{gap_not(6, NOT_OURS)}{DE_ACCOUNT}\b{gap(4)}{DE_CHANGED}\b",
    rf"\byour\s+(?:\S+\s+){{0,2}}?{EN_ACCOUNT}\s+{alt('is', 'are')}\s+(?:\S+\s+)?{EN_CHANGED}(?=\s*(?:[.!;:,]|$)|\s+as requested|\s+now)",
    rf"\b{YOUR}\s+(?:\S+\s+){{0,2}}?{DE_ACCOUNT}\s+{alt('wurde', 'wurden', 'ist', 'sind')}(?:\s+\S+){{0,3}}?\s+{DE_CHANGED}\b",
    rf"\b{alt('j`ai', 'nous avons', 'je vous ai', 'nous vous avons', 'on a', 'je viens de', 'nous venons de')}"
    rf"(?:\s+{alt('deja', 'bien', 'egalement', 'maintenant', 'personnellement')})*\s+{FR_CHANGED}{gap_not(2, NOT_OURS)}{FR_ACCOUNT}\b",
    rf"\b{YOUR}\s*(?:\S+\s+){{0,2}}?{FR_ACCOUNT}\s+{W_A_ETE2}\s+{FR_CHANGED}",
    rf"\b(?:(?:le|te|les|os)\s+)?{W_HE}\s+(?:ya\s+)?{ES_CHANGED}{gap_not(2, NOT_OURS)}{ES_ACCOUNT}\b",
    rf"\b{YOUR}\s+(?:\S+\s+){{0,2}}?{ES_ACCOUNT}\s+(?:ya\s+)?{W_HA_SIDO}\s+(?:ya\s+)?{ES_CHANGED}",
    rf"\bse\s+{alt('ha', 'han')}\s+{ES_CHANGED}\s+{alt('su', 'tu', 'sus', 'tus', 'la', 'el')}\s+{ES_ACCOUNT}\b",
    rf"\b(?:(?:le|ti|vi|gli)\s+)?{alt('ho', 'abbiamo')}\s+(?:gia\s+)?{IT_CHANGED}{gap_not(3, NOT_OURS)}{IT_ACCOUNT}\b",
    rf"\b{YOUR}\s+(?:\S+\s+){{0,2}}?{IT_ACCOUNT}\s+{W_E_STATO}\s+(?:gia\s+)?{IT_CHANGED}",
    rf"\b(?:{alt('ja', 'acabei de', 'acabamos de')}\s+)?{PT_CHANGED_1ST}{gap_not(3, NOT_OURS)}{PT_ACCOUNT}\b",
    rf"\b{YOUR}\s+(?:\S+\s+){{0,2}}?{PT_ACCOUNT}\s+{alt('foi', 'foram', 'ja foi', 'ja esta', 'esta agora', 'agora esta', 'ficou')}\s+{PT_CHANGED}",
    rf"\b(?:ik|wij|we)\s+{alt('heb', 'hebben')}{gap_not(6, NOT_OURS)}{NL_ACCOUNT}\b{gap(3)}{NL_CHANGED}\b",
    rf"\b{YOUR}\s+(?:\S+\s+){{0,2}}?{NL_ACCOUNT}\s+{alt('is', 'zijn', 'werd', 'werden')}(?:\s+\S+){{0,2}}?\s+{NL_CHANGED}\b",
)]

# Done, in nouns: "we have processed the cancellation of your subscription", "abbiamo provveduto alla cancellazione
# del suo account", "wir haben die Löschung Ihres Kontos veranlasst".
CHANGE_NOUN = alt("cancell?ation", "closure", "closing", "deletion", "deactivation", "reactivation", "reset", "change",
                  "update", "removal", "termination", "loschung", "schliessung", "kundigung", "stornierung", "anderung",
                  "sperrung", "entsperrung", "deaktivierung", "zurucksetzung", "aktualisierung", "suppression", "cloture",
                  "fermeture", "annulation", "modification", "reinitialisation", "resiliation", "desactivation",
                  "cancelacion", "baja", "eliminacion", "cierre", "anulacion", "modificacion", "actualizacion",
                  "cancellazione", "chiusura", "eliminazione", "disattivazione", "modifica", "reimpostazione", "disdetta",
                  "aggiornamento", "annullamento", "cancelamento", "encerramento", "exclusao", "alteracao", "atualizacao",
                  "redefinicao", "opzegging", "verwijdering", "annulering", "wijziging", "afsluiting", "deactivering")
CARRIED_OUT = alt("processed", "completed", "carried out", "actioned", "done", "gone ahead with", "procede a(?:ux?)?", "effectue",
                  "finalise", "procedido a(?:l)?", "tramitado", "realizado", "provveduto a(?:lla|llo|l|gli)?", "effettuato", "completato",
                  "procedemos a(?:o)?", "procedi a(?:o)?", "efetuamos", "concluimos")
ACCOUNT_NOUN = alt(EN_ACCOUNT, DE_ACCOUNT, r"kontos", FR_ACCOUNT, ES_ACCOUNT, IT_ACCOUNT, PT_ACCOUNT, NL_ACCOUNT)
W_HAVE = alt('have', 've', 'habe', 'haben', 'avons', 'ai', 'hemos', 'he', 'abbiamo', 'ho', 'heb', 'hebben')
ACCOUNT_CHANGE.append(re.compile(
    rf"\b{alt('i', 'we', 'ich', 'wir', 'nous', 'ik')}?\s*{W_HAVE}?"
    rf"\s*(?:{alt('already', 'just', 'now', 'bereits', 'deja', 'bien', 'ya', 'gia', 'ja', 'al')}\s+)?{CARRIED_OUT}"
    rf"\s+(?:\S+\s+){{0,1}}?{CHANGE_NOUN}\b(?:\s+\S+){{0,3}}?\s+{ACCOUNT_NOUN}\b"))
W_VERANLASST3 = alt('veranlasst', 'vorgenommen', 'durchgefuhrt', 'bearbeitet')
W_VERWERKT = alt('verwerkt', 'uitgevoerd', 'doorgevoerd')
ACCOUNT_CHANGE.append(re.compile(
    rf"\b(?:ich|wir)\s+{alt('habe', 'haben')}\s+(?:\S+\s+){{0,1}}?{CHANGE_NOUN}\b(?:\s+\S+){{0,4}}?\s+{W_VERANLASST3}\b|"
    rf"\b(?:ik|we|wij)\s+{alt('heb', 'hebben')}\s+(?:\S+\s+){{0,1}}?{CHANGE_NOUN}\b(?:\s+\S+){{0,4}}?\s+{W_VERWERKT}\b"))

# --- dates and deadlines -------------------------------------------------------------------------------------------

GUARANTEE = re.compile(r"\b" + alt(
    r"guarantee\w*", "i promise", "we promise", "promised", "i assure you", "we assure you", "rest assured", "without fail",
    "you have my word", "for sure", "definitely", "certainly",
    r"garantier\w*", "ich verspreche", "wir versprechen", "versprochen", "ganz sicher", "auf jeden fall", "mit sicherheit",
    r"garanti\w*", r"je vous (?:le )?promets", "nous vous promettons", "promis", "sans faute", "assurement",
    "je vous assure", "nous vous assurons",
    r"garantiz\w*", r"garantid\w*", "le prometo", "te prometo", "prometemos", "sin falta", "con seguridad", "le aseguro",
    "te aseguro", "le aseguramos",
    r"garantit\w*", "garantisco", "garantiamo", "le prometto", "ti prometto", "promettiamo", "senza fallo", "sicuramente",
    "le assicuro", "ti assicuro",
    "garanto", "garantimos", "prometo", "sem falta", "com certeza", "asseguro", "asseguramos",
    "gegarandeerd", "garanderen", "garandeer", "beloof", "beloven", "beloofd", "zeker weten", "met zekerheid",
) + r"\b")
W_ARRIVE = alt(
    'arrive', 'be delivered', 'be shipped', 'be dispatched', 'be sent', 'be there', 'be with you',
    'be in your hands', 'be at your door', 'be on your doorstep', 'be resolved', 'be fixed', 'be sorted',
    'be back', 'be ready', 'be replaced', 'be processed', 'be refunded', 'be live', 'be up', 'go live',
    'be available', 'be completed', 'be done', 'be approved', 'be credited', 'be restored', 'be online',
    'be working', 'be collected', 'be picked up', 'reach', 'ship', 'land', 'receive', 'get', 'have', 'deliver',
    'dispatch', 'send', 'resolve', 'fix', 'sort', 'restore', 'replace', 'turn up', 'show up', 'come', 'hear back',
    'call you', 'contact you'
)
W_GELIEFERT = alt(
    'geliefert', 'zugestellt', 'ankommen', 'an', 'eintreffen', 'ein', 'da', 'bei ihnen', 'versandt', 'verschickt',
    'gelost', 'behoben', 'erhalten', 'bekommen', 'zugesandt', 'lieferung', 'paket', 'sendung', 'ersatz', 'ware',
    'bestellung'
)
W_AANKOMEN = alt(
    'aankomen', 'aan', 'bezorgd', 'geleverd', 'verzonden', 'verstuurd', 'opgelost', 'verholpen', 'terugbetaald',
    'ontvangen', 'in huis', 'bij u', 'bij je', 'pakket', 'bestelling', 'zending', 'vervanging'
)
WILL_ARRIVE = re.compile(r"\b" + alt(
    # English: a future about the customer's parcel, fix or money, or a reply from us.
    rf"(?:will|'ll|shall|is going to|are going to|am going to)\s+(?:\S+\s+){{0,2}}?"
    rf"{W_ARRIVE}",
    # German: future or present-for-future of a delivery.
    rf"(?:wird|werden|kommt|kommen|erhalten sie|bekommen sie|erhaltst du|bekommst du|sie erhalten|sie bekommen|du erhaltst|"
    rf"du bekommst|trifft|treffen|liefern wir|senden wir|schicken wir|versenden wir)\b[^.!?]*\b"
    rf"{W_GELIEFERT}",
    # French.
    alt(r"arriver(?:a|ont)", r"ser(?:a|ont) (?:livre|expedie|resolu|repare|regle|traite|rembourse|remplace|retabli)\w*",
        "vous (?:le |la |les )?recevrez", "parviendr(?:a|ont)", "livrerons", "expedierons", "enverrons", "ser(?:a|ont) la",
        "sera de retour", "va arriver", "vont arriver", "allez (?:le |la |les )?recevoir", "vais vous envoyer",
        "allons vous envoyer", "reviendrons vers vous", "recontacterons"),
    # Spanish.
    alt(r"llegar(?:a|an)", r"ser(?:a|an) entregad\w*", r"se entregar(?:a|an)", r"(?:lo |la |los |las )?recibir(?:a|as|an)",
        r"ser(?:a|an) enviad\w*", r"se enviar(?:a|an)", "enviaremos", r"estar(?:a|an) (?:ahi|alli|resuelto|listo|en su casa|en tu casa)",
        r"ser(?:a|an) resuelt\w*", "se resolvera", r"ser(?:a|an) reembolsad\w*", r"va a llegar", "van a llegar",
        r"vas? a recibir", "le contactaremos", "nos pondremos en contacto"),
    # Italian.
    alt(r"arriver(?:a|anno)", r"(?:sara|saranno|verra|verranno) (?:consegnat|spedit|risolt|rimborsat)\w*",
        r"(?:lo |la |li |le )?ricever(?:a|ai|ete)", "invieremo", "spediremo", "consegneremo", "la ricontatteremo",
        "ti ricontatteremo"),
    # Portuguese.
    alt(r"chegar(?:a|ao)", r"ser(?:a|ao) entregues?", r"(?:o |a )?recebera", "receberas", r"(?:vai|ira|vais) receber",
        "vai chegar", r"ser(?:a|ao) enviad\w*", "enviaremos", "entregaremos", r"ser(?:a|ao) resolvid\w*",
        r"ser(?:a|ao) reembolsad\w*", "entraremos em contato"),
    # Dutch.
    rf"(?:zal|zullen|wordt|worden|komt|komen|ontvangt|ontvang|krijgt|krijg|is|zijn|sturen|versturen|leveren|bezorgen)\b[^.!?]*\b"
    rf"{W_AANKOMEN}",
) + r"\b")


def date_promise(sentence: str) -> tuple[int, int] | None:
    """Where this (normalised) sentence promises a date or deadline, if it does."""
    deadline = DEADLINE.search(sentence)
    if not deadline:
        return None
    for pattern, hedgeable in ((GUARANTEE, False), (WILL_ARRIVE, True)):
        for m in pattern.finditer(sentence):
            if NEGATION.search(sentence[: m.start()].rstrip() + " x") or REPORTED.search(sentence[: m.start()]) or NEGATED.search(m.group(0)):
                continue
            if hedgeable and HEDGE.search(sentence):
                continue
            return min(m.start(), deadline.start()), max(m.end(), deadline.end())
    return None


# --- the policy ----------------------------------------------------------------------------------------------------

# A sentence ends at . ! ? ; or a line break, not at a decimal point or the "12." of "12. Dezember".
SENTENCE = re.compile(rf"(?:[^.!?;\n]|[.,](?=\d)|(?<=\d)\.(?=\s+(?:{MONTHS}\b|\d)))+[.!?;]*")


def account_change(text: Text, parts: list[tuple[int, str]]) -> str | None:
    """The words of the first sentence that claims an account change as done, if one does."""
    for start, sentence in parts:
        for pattern in ACCOUNT_CHANGE:
            if m := pattern.search(sentence):
                return text.quote(start + m.start(), start + m.end())
    return None


def sentences(text: Text) -> list[tuple[int, str]]:
    return [(m.start(), m.group(0)) for m in SENTENCE.finditer(text.norm) if m.group(0).strip(" .!?;")]


def violations(reply: str, route: str, policy: ReplyPolicy = ReplyPolicy()) -> list[str]:
    """Why this reply may not go out on this route; empty when it may."""
    text = Text.of(reply)
    parts = sentences(text)
    found: list[str] = []
    if change := account_change(text, parts):
        found.append(f'claims an account change ("{change}")')
    promised = []
    for i, (start, sentence) in enumerate(parts):
        sums = amounts(sentence)
        if money_cue(sentence, bool(sums), text, start):
            # The amount may follow: "I've approved it. You'll see $480 on your card."
            promised.append(sums + (amounts(parts[i + 1][1]) if i + 1 < len(parts) else []))
    over = [a for sums in promised for a in sums if a > policy.max_refund]
    if over:
        found.append(f"promises {max(over):g} in money, above the policy's {policy.max_refund:g}")
    elif promised and route not in policy.money_routes:
        found.append(f"promises money on the {route} route, which may not")
    for start, sentence in parts:
        if span := date_promise(sentence):
            found.append(f'promises a date it cannot guarantee ("{text.quote(start + span[0], start + span[1])}")')
            break
    return found


def hold_reason(verdict: str | None, reply: str, route: str, policy: ReplyPolicy = ReplyPolicy()) -> str | None:
    """Why a drafted reply is held for a person: the classifier flagged its ticket (``verdict``: the kinds it found,
    comma-separated) or the reply breaks the policy; None when it may go out."""
    if verdict:
        return f"safety classifier: {verdict}"
    broken = violations(reply, route, policy)
    return f"reply policy: {'; '.join(broken)}" if broken else None
