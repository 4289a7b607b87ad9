"""The screen every ticket passes before it is routed: what it holds for a person, and what it only notes.

Five kinds, each with a severity. Held (no model answers the ticket; a person does): an attempt to instruct the
model (injection), a threat of violence, self-harm, a legal threat. Noted only: abuse, that is swearing and insults;
an angry customer is still a customer, and their ticket is answered like any other.

Patterns read every view of the ticket (``normalise.views``: the ticket with its disguises taken off, and each
payload decoded), in English and the six other languages tickets arrive in. Injections that no phrase list can
enumerate are the classifier's (``injection_model``): ``screen_tickets`` holds a ticket it scores at or above its
hold point, and sends one between its review and hold points to the night's model classifier.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from nightshift.safety.normalise import turned, unmask, views

INJECTION, THREAT, SELF_HARM, LEGAL, ABUSE = "injection", "threat", "self_harm", "legal_threat", "abuse"
KINDS = (INJECTION, THREAT, SELF_HARM, LEGAL, ABUSE)
HELD = frozenset({INJECTION, THREAT, SELF_HARM, LEGAL})

# "instructions" and "rules" in the seven languages, for the override pattern
RULES = (r"instructions?|prompts?|rules|guidelines|polic(y|ies)|anweisungen|regeln|richtlinien|instrucciones|reglas|"
         r"consignes|r[eè]gles|istruzioni|regole|instru[cç](o|õ)es|regras|instructies|regels|richtlijnen")
PATTERNS: dict[str, tuple[re.Pattern, ...]] = {
    INJECTION: (
        # "ignore all previous instructions", "disregard your rules", "ignoriere alle vorherigen Anweisungen"
        re.compile(r"\b(ignore|disregard|forget|override|bypass|ignorier\w*|vergiss|ignora\w*|oublie\w*|olvida\w*|dimentica\w*|"
                   r"esquece\w*|negeer\w*|vergeet)\b[^.\n]{0,40}\b(" + RULES + r")\b", re.I),
        re.compile(r"\b(SYSTEM|ASSISTANT|DEVELOPER) ?(PROMPT|MESSAGE|NOTE|OVERRIDE)?:"),
        # the prompt's own delimiters, or a chat template's
        re.compile(r"</?\s*(ticket|passage|system|instructions?)\b[^>]*>|<\|(im_start|im_end|system|endoftext)\|>", re.I),
        # an answer written for the model to copy: {"draft_reply": ..., "needs_human": false}, or a chat message's role
        re.compile(r"\{\s*\\?\"(summary|draft_reply|needs_human|route|priority|sentiment|category|citations|no_article)\\?\"\s*:", re.I),
        # a forwarded thread in which "staff" already approved what the customer wants
        # (spaces, not line breaks, before the header: with \s* a run of blank lines took quadratic time)
        re.compile(r"(^|\n)[^\S\n]*(from|von|de|da|van):[^\n]*\b(support|admin|billing|manager|team)\b[\s\S]{0,600}?"
                   r"\b(approved|authori[sz]ed|escalated|override|agreed to refund)\b", re.I),
    ),
    THREAT: (
        re.compile(r"\b(i('| wi)ll|i am going to|gonna|i will)\s+(kill|hurt|find|destroy|beat|shoot|stab)\s+(you|your|them)\b"
                   r"|\b(ich (werde|bringe) (euch|dich|sie) (umbringen|um)|je vais (te|vous) (tuer|buter)|(te|os) voy a matar|"
                   r"ti (ammazzo|uccido)|vou (te|vos) matar|ik (ga|maak) (je|jullie) (dood|vermoorden|af))\b", re.I),
        # "I know where you live / where your warehouse is": a threat that names no act
        re.compile(r"\b(i know where (you|your \w+( \w+)?) (live|lives|is|are|work)|ich wei(ss|ß),? wo (du|ihr|sie|ihre? \w+) "
                   r"(wohnst|wohnt|wohnen|ist|sind|arbeitest)|je sais o[uù] (tu|vous|votre \w+|se trouve) |s[eé] d[oó]nde (vives|viven|"
                   r"vivís|est[aá]|trabajas)|so dove (abiti|vivi|sta|si trova)|sei onde (moras|vives|fica)|ik weet waar (je|jullie|uw \w+) "
                   r"(woont|woon|is|zit))", re.I),
    ),
    SELF_HARM: (
        re.compile(r"\b(kill(ing)? myself|suicid(e|al)|end(ing)? my (own )?life|self[- ]harm|want(ed)? to die|hurt(ing)? myself|"
                   r"no reason to live|selbstmord|suizid\w*|mich umbringen|mir das leben nehmen|me suicider|en finir avec (la|ma) vie|"
                   r"suicidarme|quitarme la vida|suicidio|togliermi la vita|suic[ií]dio|tirar a minha (pr[oó]pria )?vida|zelfmoord|"
                   r"mezelf van kant|een eind aan mijn leven)\b", re.I),
    ),
    LEGAL: (
        re.compile(r"\b(my |our )?(lawyer|attorney|solicitor)s?\b|\b(lawsuit|class action|small claims|legal action|legal proceedings|"
                   r"cease and desist)\b|\bsue (you|your|the)\b|\b(see|take) you (to|in) court\b|\b(mein(em)? anwalt|rechtliche schritte|"
                   r"verklagen|mon avocat|poursuites judiciaires|mi abogado|acciones legales|demandar(les|los)?|il mio avvocato|vie legali|"
                   r"o meu advogado|a[cç][aã]o judicial|mijn advocaat|juridische stappen|rechtszaak)\b", re.I),
    ),
    ABUSE: (
        re.compile(r"\b(fuck(ing|ed)?|motherfucker|bitch|cunt|asshole|bastard|scheisse|schei(ss|ß)e|arschloch|merde|connard|"
                   r"mierda|gilipollas|cabr[oó]n|cazzo|stronzo|vaffanculo|porra|caralho|kut|klootzak|godverdomme)\b", re.I),
    ),
}


# Words an injection uses and a customer may too ("system: crashed", "new instructions for my delivery", a game's
# "you are now the king", an API's "role": "system"): a hint never holds a ticket, it sends it to the night's model
# classifier, whose verdict holds the answer if it agrees.
HINTS = (
    re.compile(r"(^|\n)\W{0,4}(system|assistant|developer)\W{0,3}:", re.I),
    re.compile(r"\\?\"role\\?\"\s*:\s*\\?\"(system|assistant|developer)\b", re.I),
    re.compile(r"\b(you are now|from now on,? you|new instructions|jailbreak|(enable|enter|activate|switch to) developer mode|"
               r"prompt injection|do anything now|(system|hidden|initial) prompt)\b", re.I),
)


@dataclass(frozen=True)
class Flag:
    kind: str
    evidence: str  # the words that matched, shortened, or the classifier's score: what a reviewer reads first
    hint: bool = False  # found by a hint alone: not enough to hold without the classifier

    @property
    def held(self) -> bool:
        return self.kind in HELD


def screen(text: str, readings: list[str] | None = None) -> list[Flag]:
    """The patterns' findings: the first match of each kind over the ticket's views (``readings``, when the caller has
    them already) and those turned back, in KINDS order."""
    readings = readings or views(text)
    readings = [*readings, unmask(text), *turned(readings[0])]
    flags = []
    for kind in KINDS:
        if m := first(PATTERNS[kind], readings):
            flags.append(Flag(kind, shortened(m)))
        elif kind == INJECTION and (m := first(HINTS, readings)):
            flags.append(Flag(kind, shortened(m), hint=True))
    return flags


def first(patterns: tuple[re.Pattern, ...], readings: list[str]) -> re.Match | None:
    return next((m for pattern in patterns for view in readings if (m := pattern.search(view))), None)


def shortened(m: re.Match) -> str:
    return " ".join(m.group(0).split())[:60]


@dataclass(frozen=True)
class Screened:
    flags: list[Flag]
    injection_score: float
    review: bool  # the classifier is unsure: the night's model classifier reads it

    @property
    def held(self) -> list[Flag]:
        return [f for f in self.flags if f.held and not f.hint]

    @property
    def noted(self) -> list[Flag]:
        return [f for f in self.flags if not f.held or f.hint]


def screen_tickets(texts: list[str]) -> list[Screened]:
    """Patterns and the injection classifier over a day's tickets."""
    from nightshift.safety.injection_model import load

    model = load()
    readings = [views(text) for text in texts]
    scores = model.scores_of_views(readings)
    out = []
    for text, seen, score in zip(texts, readings, scores):
        flags = screen(text, seen)
        injection = next((f for f in flags if f.kind == INJECTION), None)
        if score >= model.hold and (injection is None or injection.hint):
            flags = [f for f in flags if f is not injection]
            flags.insert(0, Flag(INJECTION, f"classifier {score:.2f}" + (f"; {injection.evidence}" if injection else "")))
        unsure = model.review <= score < model.hold or any(f.hint for f in flags)
        out.append(Screened(flags, float(score), bool(unsure)))
    return out


def describe(flags: list[Flag]) -> str:
    """'injection ("ignore all previous instructions"); legal_threat ("lawyer")'"""
    return "; ".join(f'{f.kind} ("{f.evidence}")' for f in flags)


def in_sample(ticket_id: str, share: float) -> bool:
    """A stable sample: the same tickets are in it on every rerun of the day."""
    return int(hashlib.sha256(ticket_id.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF < share
