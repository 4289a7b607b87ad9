"""Articles cut into passages a prompt can quote: on headings first, then on paragraphs, each under a size bound.

A passage keeps its article's title and section heading, because a paragraph alone ("It takes 5 to 10 days.")
means nothing to a search or to a model. Its id is a hash of the article id, title, heading and text, so an unchanged passage
keeps its id (and its vector) when the article around it is edited.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from nightshift.knowledge.articles import HEADING, Article

MAX_CHARS = 800
SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
PLACEHOLDER = re.compile(r"\{\{[^{}]*\}\}")


@dataclass(frozen=True)
class Chunk:
    chunk_id: str
    article_id: str
    article_version: str
    title: str
    source: str
    position: int
    heading: str | None
    text: str
    label: str | None

    @property
    def search_text(self) -> str:
        """What is embedded and indexed for full-text search: title, heading and passage, less template placeholders
        (a macro's {{Order Number}} is filled per customer and says nothing about what the passage is about)."""
        return PLACEHOLDER.sub(" ", "\n".join(part for part in (self.title, self.heading, self.text) if part))


def sections(text: str) -> list[tuple[str | None, str]]:
    """(heading, body) in order; text before the first heading has none."""
    found: list[tuple[str | None, str]] = []
    last, heading = 0, None
    for match in HEADING.finditer(text):
        found.append((heading, text[last:match.start()]))
        heading, last = match.group(1), match.end()
    found.append((heading, text[last:]))
    return [(h, body.strip()) for h, body in found if body.strip()]


def pieces(paragraph: str, limit: int) -> list[str]:
    """A paragraph longer than the bound, cut between sentences (between words when a sentence is too long)."""
    if len(paragraph) <= limit:
        return [paragraph]
    out, current = [], ""
    for sentence in SENTENCE_END.split(paragraph):
        words = [sentence] if len(sentence) <= limit else sentence.split()
        for word in words:
            if current and len(current) + 1 + len(word) > limit:
                out.append(current)
                current = ""
            current = f"{current} {word}".strip()[: limit]
    return [*out, current] if current else out


def pack(body: str, limit: int) -> list[str]:
    """Whole paragraphs together up to the bound."""
    out, current = [], ""
    for paragraph in (" ".join(p.split()) for p in re.split(r"\n\s*\n", body) if p.strip()):
        for piece in pieces(paragraph, limit):
            if current and len(current) + 2 + len(piece) > limit:
                out.append(current)
                current = ""
            current = f"{current}\n\n{piece}" if current else piece
    return [*out, current] if current else out


def chunk_article(article: Article, max_chars: int = MAX_CHARS) -> list[Chunk]:
    chunks: list[Chunk] = []
    for heading, body in sections(article.text):
        for text in pack(body, max_chars):
            chunk_id = hashlib.sha256(f"{article.article_id}\n{article.title}\n{heading}\n{text}".encode()).hexdigest()[:16]
            chunks.append(Chunk(chunk_id, article.article_id, article.version, article.title, article.source, len(chunks),
                                None if heading == article.title else heading, text, article.label))
    # The same paragraph twice in one article is one passage.
    return list({c.chunk_id: c for c in chunks}.values())
