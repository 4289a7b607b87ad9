"""The help centre nightshift answers from: where its articles are, how they are cut and searched, what must cite it."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
from pydantic import Field

from nightshift.ingest.mapping import parse_map
from nightshift.knowledge.articles import Article, read_folder
from nightshift.knowledge.chunking import MAX_CHARS
from nightshift.knowledge.index import KnowledgeIndex
from nightshift.resources.vector_store import LanceDBStore


class KnowledgeBase(dg.ConfigurableResource):
    """Articles in a folder, their passages in LanceDB `kb_chunks`; an empty folder turns grounding off."""

    vectors: LanceDBStore
    folder: str = Field(description="Markdown, HTML and text articles, and CSV files of canned replies.")
    macro_map: str = Field(default="", description="Column mapping for the CSV macros, as for tickets: text=COL,subject=COL,label=COL,id=COL.")
    max_chars: int = Field(default=MAX_CHARS, description="Largest passage, in characters; articles are cut on headings, then paragraphs.")
    top_k: int = Field(default=3, description="Passages retrieved per ticket.")
    # On the sample help centre, real tickets' best passage sits at a median similarity of 0.6; off-topic text at 0.1-0.25.
    floor: float = Field(default=0.3, description="Cosine similarity a passage must reach to count as evidence for a ticket.")
    grounded_target: float = Field(default=0.9, description="Share of each route's answers that must cite a passage.")

    def articles(self) -> list[Article]:
        return read_folder(Path(self.folder).expanduser(), parse_map(self.macro_map))

    def index(self) -> KnowledgeIndex:
        return KnowledgeIndex(self.vectors.db())

    def enabled(self) -> bool:
        """Grounding is on once the knowledge base holds a passage."""
        table = self.index().table()
        return table is not None and table.count_rows() > 0
