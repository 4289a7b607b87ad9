"""A help centre on disk, read as articles: Markdown, HTML and plain-text files, and CSV files of canned replies.

An article's id is its path inside the folder (a macro's: the CSV's path and the row's id or number), and its
version is a hash of what it says, so an edit is a new version and a rename is a new article. A Markdown article may
open with a front-matter block (``---`` lines around ``key: value`` lines); ``title`` and ``label`` are read from
it, the label being the ticket intent the article answers (what `nightshift eval retrieval` scores against).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

from nightshift.ingest.files import csv_records
from nightshift.ingest.mapping import resolve
from nightshift.ingest.rules import clean

ARTICLE_SUFFIXES = (".md", ".markdown", ".html", ".htm", ".txt")
FRONT_MATTER = re.compile(r"\A---\n(.*?)\n---\n", re.S)
HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$", re.M)


@dataclass(frozen=True)
class Article:
    article_id: str
    title: str
    source: str          # the file it came from, relative to the folder
    text: str            # Markdown-ish plain text: headings as "# ", paragraphs separated by blank lines
    label: str | None = None

    @property
    def version(self) -> str:
        return hashlib.sha256(f"{self.title}\n{self.text}".encode()).hexdigest()[:16]


class TextOfHtml(HTMLParser):
    """Headings, paragraphs and list items of an HTML page as Markdown-ish text; scripts and styles left out."""

    BLOCKS = {"p", "div", "li", "br", "tr", "section", "article", "ul", "ol", "table"}
    SKIP = {"script", "style", "head"}

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self.title: str | None = None
        self._skip = 0
        self._in_title = False

    def handle_starttag(self, tag: str, attrs) -> None:
        if tag in self.SKIP:
            self._skip += 1
        if tag == "title":
            self._in_title = True
        if tag in self.BLOCKS:
            self.parts.append("\n\n")
        if re.fullmatch(r"h[1-6]", tag):
            self.parts.append("\n\n" + "#" * int(tag[1]) + " ")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SKIP:
            self._skip = max(0, self._skip - 1)
        if tag == "title":
            self._in_title = False
        if tag in self.BLOCKS or re.fullmatch(r"h[1-6]", tag):
            self.parts.append("\n\n")

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title = (self.title or "") + data.strip()
        elif not self._skip:
            self.parts.append(" ".join(data.split()) if data.strip() else " ")

    def text(self) -> str:
        joined = "".join(self.parts)
        return "\n\n".join(" ".join(p.split()) for p in re.split(r"\n\s*\n", joined) if p.strip())


def front_matter(text: str) -> tuple[dict[str, str], str]:
    match = FRONT_MATTER.match(text)
    if not match:
        return {}, text
    fields = dict(line.split(":", 1) for line in match.group(1).splitlines() if ":" in line)
    return {k.strip().lower(): v.strip() for k, v in fields.items()}, text[match.end():]


def read_article(path: Path, relative: str) -> Article | None:
    """One article file, or None when it holds no text."""
    raw = path.read_text(encoding="utf-8", errors="replace").replace("\r\n", "\n").removeprefix("\ufeff")
    meta, body = front_matter(raw)
    if path.suffix.lower() in (".html", ".htm"):
        parser = TextOfHtml()
        parser.feed(body)
        body, meta = parser.text(), {"title": parser.title or "", **{k: v for k, v in meta.items() if v}}
    body = body.strip()
    if not body:
        return None
    heading = HEADING.search(body)
    title = meta.get("title") or (heading.group(1) if heading else path.stem.replace("_", " ").replace("-", " "))
    return Article(relative, title, relative, body, meta.get("label") or None)


def read_macros(path: Path, relative: str, mapping: dict[str, str]) -> list[Article]:
    """Each row of a CSV of canned replies is an article: text from ``text``, title from ``subject``, id from ``id``."""
    columns, records = csv_records(path.read_bytes())
    fields = resolve(mapping, columns)
    articles = []
    for number, record in enumerate(records, start=1):
        if record.fields is None:
            continue
        values = {name: clean(record.fields.get(column)) for name, column in fields.items()}
        text = values.get("text")
        if not text:
            continue
        key = values.get("id") or str(number)
        label = values.get("label")
        title = values.get("subject") or (label.replace("_", " ") if label else f"{path.stem} {key}")
        articles.append(Article(f"{relative}#{key}", title, relative, text, label))
    return articles


def read_folder(folder: Path, mapping: dict[str, str] | None = None) -> list[Article]:
    """Every article under ``folder`` (sorted by id); a missing folder is an empty help centre."""
    if not folder.is_dir():
        return []
    articles: list[Article] = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and not p.name.startswith(".")):
        relative = path.relative_to(folder).as_posix()
        suffix = path.suffix.lower()
        if suffix == ".csv":
            articles += read_macros(path, relative, mapping or {})
        elif suffix in ARTICLE_SUFFIXES:
            article = read_article(path, relative)
            if article:
                articles.append(article)
    seen: dict[str, Article] = {}
    for article in articles:
        if article.article_id in seen:
            raise ValueError(f"two articles with the id {article.article_id!r} in {folder}: give macros distinct ids")
        seen[article.article_id] = article
    return sorted(articles, key=lambda a: a.article_id)
