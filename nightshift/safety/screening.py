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

from nightshift.safety.normalise import views

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
        # a role block: "SYSTEM: ...", "[assistant]:", "### developer:"
        re.compile(r"(^|\n)\W{0,4}(system|assistant|developer)\W{0,3}:", re.I),
        re.compile(r"\b(SYSTEM|ASSISTANT|DEVELOPER) ?(PROMPT|MESSAGE|NOTE|OVERRIDE)?:"),
        # the prompt's own delimiters, or a chat template's
        re.compile(r"</?\s*(ticket|passage|system|instructions?)\b[^>]*>|<\|(im_start|im_end|system|endoftext)\|>", re.I),
        # an answer written for the model to copy: {"draft_reply": ..., "needs_human": false}
        re.compile(r"\{\s*\\?\"(summary|draft_reply|needs_human|route|priority|sentiment|category|citations|no_article)\\?\"\s*:", re.I),
        # "act as a ..." and "pretend to be ..." are left to the classifier: bug reports and customers say them harmlessly
        re.compile(r"\b(you are now|from now on,? you|new instructions|jailbreak|(enable|enter|activate|switch to) developer mode|"
                   r"prompt injection|do anything now|"
                   r"(system|hidden|initial) prompt)\b", re.I),
        # a forwarded thread in which "staff" already approved what the customer wants
        # (spaces, not line breaks, before the header: with \s* a run of blank lines took quadratic time)
        re.compile(r"(^|\n)[^\S\n]*(from|von|de|da|van):[^\n]*\b(support|admin|billing|manager|team)\b[\s\S]{0,600}?"
                   r"\b(approved|authori[sz]ed|escalated|override|agreed to refund)\b", re.I),
    ),
    THREAT: (
        re.compile(r"\b(i('| wi)ll|i am going to|gonna|i will)\s+(kill|hurt|find|destroy|beat|shoot|stab)\s+(you|your|them)\b"
                   r"|\b(ich (werde|bringe) (euch|dich|sie) (umbringen|um)|je vais (te|vous) (tuer|buter)|(te|os) voy a matar|"
                   r"ti (ammazzo|uccido)|vou (te|vos) matar|ik (ga|maak) (je|jullie) (dood|vermoorden|af))\b", re.I),
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


@dataclass(frozen=True)
class Flag:
    kind: str
    evidence: str  # the words that matched, shortened, or the classifier's score: what a reviewer reads first

    @property
    def held(self) -> bool:
        return self.kind in HELD


def screen(text: str) -> list[Flag]:
    """The patterns' findings: the first match of each kind over the ticket's views, in KINDS order."""
    readings = views(text)
    flags = []
    for kind in KINDS:
        if m := next((m for pattern in PATTERNS[kind] for view in readings if (m := pattern.search(view))), None):
            flags.append(Flag(kind, " ".join(m.group(0).split())[:60]))
    return flags


@dataclass(frozen=True)
class Screened:
    flags: list[Flag]
    injection_score: float
    review: bool  # the classifier is unsure: the night's model classifier reads it

    @property
    def held(self) -> list[Flag]:
        return [f for f in self.flags if f.held]

    @property
    def noted(self) -> list[Flag]:
        return [f for f in self.flags if not f.held]


def screen_tickets(texts: list[str]) -> list[Screened]:
    """Patterns and the injection classifier over a day's tickets."""
    from nightshift.safety.injection_model import load

    model = load()
    scores = model.scores(texts)
    out = []
    for text, score in zip(texts, scores):
        flags = screen(text)
        if score >= model.hold and not any(f.kind == INJECTION for f in flags):
            flags.insert(0, Flag(INJECTION, f"classifier {score:.2f}"))
        out.append(Screened(flags, float(score), bool(model.review <= score < model.hold)))
    return out


def describe(flags: list[Flag]) -> str:
    """'injection ("ignore all previous instructions"); legal_threat ("lawyer")'"""
    return "; ".join(f'{f.kind} ("{f.evidence}")' for f in flags)


def in_sample(ticket_id: str, share: float) -> bool:
    """A stable sample: the same tickets are in it on every rerun of the day."""
    return int(hashlib.sha256(ticket_id.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF < share
