"""Store documents (Markdown, HTML, PDF, plain text, Word) -> chunks by section, each with its source and heading.

Partitioning is `unstructured`'s: its partitioners for md/html/txt/docx; for PDF, pdfminer's text per page, then
unstructured's text partitioner on each page (unstructured's own `partition_pdf` imports its layout-model stack,
OpenCV and ONNX, even for the `fast` strategy that never runs a model). Chunking is `chunk_by_title`: a chunk
never spans two sections, and a long section is cut at element boundaries near `max_chars`.

Each chunk keeps the file, the page (PDF) and its heading path ("Returns > Refunds"); the text that search sees
starts with the document's title and that path, so a section such as "Warranty" of one product's manual can be
told from the same section of another's.

A chunk whose search text is longer than the embedder reads (MiniLM: 256 tokens; the rest would be cut
silently and its end never found) is split into parts that each fit, at a paragraph, sentence or word
boundary; every part keeps the chunk's heading and index, numbered by `part` (`split_to_fit`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from llmft.errors import StoreError
from llmft.store.offline_nlp import prepare_unstructured

logger = logging.getLogger(__name__)

DOCUMENT_SUFFIXES = {".md": "markdown", ".markdown": "markdown", ".html": "html", ".htm": "html",
                     ".txt": "text", ".text": "text", ".pdf": "pdf", ".docx": "docx"}
_SUBTITLE_MAX_CHARS = 100  # a short line right under the title ("TrailMaster X4 Tent, price $250") names the doc


@dataclass
class Chunk:
    """One section (or part of one) of a document."""

    text: str
    source: str  # the file's path, as resolved at ingestion
    heading: str  # "Returns > Refunds"; "A | B" for small sections merged into one chunk; else the file name
    page: int | None
    index: int  # position in the document, from 0
    context: str = ""  # the document's title (and subtitle), shared by all its chunks
    part: int = 0  # 1, 2, ... for the parts of a chunk split to fit the embedder; 0 when whole

    @property
    def file(self) -> str:
        return Path(self.source).name

    @property
    def section(self) -> str:
        return " | ".join(path.rsplit(" > ", 1)[-1] for path in self.heading.split(" | "))

    def search_text(self) -> str:
        parts = [h for h in self.heading.split(" | ") if h != self.file and not self.context.startswith(h)]
        header = " > ".join(part for part in (self.context, " | ".join(parts)) if part)
        return f"{header}\n\n{self.text}" if header and not self.text.startswith(header) else self.text

    def metadata(self) -> dict[str, str | int]:
        meta: dict[str, str | int] = {"file": self.file, "section": self.section, "heading": self.heading,
                                      "chunk": self.index}
        if self.page is not None:
            meta["page"] = self.page
        if self.part:
            meta["part"] = self.part
        return meta


def _token_count(tokenizer: Any, text: str) -> int:
    return len(tokenizer(text, add_special_tokens=True, truncation=False)["input_ids"])


def _cut(text: str, spans: list[tuple[int, int]], first: int, last: int) -> int:
    """The token index in (first, last] to cut before: the latest that starts a paragraph, else a sentence,
    else a word, in the second half of the window; `last` when none does."""
    floor = first + max(1, (last - first) // 2)

    def gap(index: int) -> str:  # the text between token index - 1 and token index (whitespace, or nothing)
        return text[spans[index - 1][1]:spans[index][0]]

    for boundary in (lambda i: "\n" in gap(i),
                     lambda i: bool(gap(i)) and text[spans[i - 1][1] - 1] in ".!?",
                     lambda i: bool(gap(i))):
        for index in range(min(last, len(spans) - 1), floor - 1, -1):
            if boundary(index):
                return index
    return last


def split_to_fit(chunk: Chunk, tokenizer: Any, max_tokens: int) -> list[Chunk]:
    """`chunk` as parts whose `search_text()` (header included, special tokens counted) fits `max_tokens`."""
    if _token_count(tokenizer, chunk.search_text()) <= max_tokens:
        return [chunk]
    encoded = tokenizer(chunk.text, add_special_tokens=False, return_offsets_mapping=True, truncation=False)
    spans = [tuple(span) for span in encoded["offset_mapping"]]
    starts = [start for start, _ in spans]
    overhead = _token_count(tokenizer, chunk.search_text()) - len(starts)  # header, separators, special tokens
    budget = max_tokens - overhead
    while budget > 8:
        texts, first = [], 0
        while first < len(starts):
            last = len(starts) if len(starts) - first <= budget else _cut(chunk.text, spans, first, first + budget)
            end = starts[last] if last < len(starts) else len(chunk.text)
            texts.append(chunk.text[starts[first]:end].strip())
            first = last
        parts = [Chunk(text=t, source=chunk.source, heading=chunk.heading, page=chunk.page, index=chunk.index,
                       context=chunk.context, part=n) for n, t in enumerate(texts, start=1) if t]
        if all(_token_count(tokenizer, p.search_text()) <= max_tokens for p in parts):
            return parts
        budget -= 8  # a join tokenized differently than its halves: retry with a smaller window
    raise StoreError(f"{chunk.source}: the heading of section {chunk.heading!r} alone is longer than "
                     f"{max_tokens} tokens")


def _partition(path: Path, kind: str) -> list[Any]:
    prepare_unstructured()
    options: dict[str, Any] = {"languages": ["eng"]}  # a fixed language: no detection pass per element
    if kind == "markdown":
        from unstructured.partition.md import partition_md

        return partition_md(filename=str(path), **options)
    if kind == "html":
        from unstructured.partition.html import partition_html

        return partition_html(filename=str(path), **options)
    if kind == "text":
        from unstructured.partition.text import partition_text

        return partition_text(filename=str(path), **options)
    if kind == "docx":
        from unstructured.partition.docx import partition_docx

        return partition_docx(filename=str(path), **options)
    return _partition_pdf(path, options)


def _partition_pdf(path: Path, options: dict[str, Any]) -> list[Any]:
    from pdfminer.high_level import extract_pages
    from pdfminer.layout import LTTextContainer
    from unstructured.partition.text import partition_text

    elements = []
    for number, page in enumerate(extract_pages(str(path)), start=1):
        text = "\n\n".join(box.get_text().strip() for box in page if isinstance(box, LTTextContainer))
        if not text.strip():
            continue
        for element in partition_text(text=text, **options):
            element.metadata.page_number = number
            elements.append(element)
    return elements


def partition_document(path: str | Path) -> list[Any]:
    """unstructured elements of one file; `StoreError` naming the file when it is missing, empty or unreadable."""
    path = Path(path)
    kind = DOCUMENT_SUFFIXES.get(path.suffix.lower())
    if kind is None:
        supported = ", ".join(sorted(DOCUMENT_SUFFIXES))
        raise StoreError(f"{path}: unsupported file type {path.suffix or '(no suffix)'!r} (supported: {supported})")
    if not path.is_file():
        raise StoreError(f"{path} does not exist or is not a file")
    if path.stat().st_size == 0:
        raise StoreError(f"{path} is empty")
    try:
        elements = _partition(path, kind)
    except StoreError:
        raise
    except Exception as err:  # each library fails in its own way on a corrupt file; the message says which file
        raise StoreError(f"{path} cannot be read as {kind}: {type(err).__name__}: {err}") from err
    elements = [e for e in elements if (e.text or "").strip()]
    if not elements:
        raise StoreError(f"{path} has no text to index (is it a scanned image or an empty document?)")
    return elements


def _headings(elements: list[Any], fallback: str) -> tuple[dict[int, str], str]:
    """Each element's heading path (by `id()`), and the document's context line (title and subtitle)."""
    stack: list[tuple[int, str]] = []
    paths: dict[int, str] = {}
    context = ""
    for position, element in enumerate(elements):
        if element.category == "Title":
            depth = element.metadata.category_depth
            if depth is None:  # plain text and PDF titles carry no level: the first is the top one
                depth = 1 if stack else 0
            stack = [(d, t) for d, t in stack if d < depth] + [(depth, element.text.strip())]
            if position == 0 or (not context and depth == 0):
                context = element.text.strip()
                following = elements[position + 1] if position + 1 < len(elements) else None
                if following is not None and following.category != "Title":
                    if len(following.text.strip()) <= _SUBTITLE_MAX_CHARS:
                        context = f"{context} - {following.text.strip().rstrip(',')}"
        # The document's own title heads every path; the context line already carries it, so drop it here.
        parts = [text for depth, text in stack if not (depth == 0 and context.startswith(text) and len(stack) > 1)]
        paths[id(element)] = " > ".join(parts) or fallback
    return paths, context


def chunk_document(path: str | Path, max_chars: int = 1000, embedder: Any = None) -> list[Chunk]:
    """Partition `path` and cut it into section chunks of at most `max_chars` characters.

    With `embedder` (anything with `tokenizer` and `max_tokens`, like `llmft.store.Embedder`), a chunk longer
    than it reads is split into parts that fit (`split_to_fit`); without, chunks are as `chunk_by_title` cut.
    """
    prepare_unstructured()
    from unstructured.chunking.title import chunk_by_title

    path = Path(path).resolve()
    elements = partition_document(path)
    paths, context = _headings(elements, fallback=path.name)
    chunks = chunk_by_title(elements, max_characters=max_chars, new_after_n_chars=int(max_chars * 0.8),
                            combine_text_under_n_chars=min(200, max_chars // 4), multipage_sections=True,
                            include_orig_elements=True)
    result = []
    for index, chunk in enumerate(chunks):
        originals = chunk.metadata.orig_elements or []
        # Small sections are merged into one chunk: name every section it holds, so a citation is not wrong.
        sections = [paths.get(id(e), path.name) for e in originals[:1] + [e for e in originals[1:]
                                                                           if e.category == "Title"]]
        heading = " | ".join(dict.fromkeys(sections)) or path.name
        whole = Chunk(text=chunk.text.strip(), source=str(path), heading=heading, index=index,
                      page=chunk.metadata.page_number, context=context)
        result += split_to_fit(whole, embedder.tokenizer, embedder.max_tokens) if embedder is not None else [whole]
    logger.info("%s: %d elements -> %d chunks (%d parts of split chunks)", path.name, len(elements), len(result),
                sum(1 for c in result if c.part))
    return result
