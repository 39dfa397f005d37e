"""Documents of every supported type -> section chunks with file, heading and page; bad files -> clear errors.

Runs under the network guard: unstructured must neither ping its telemetry nor download its spaCy model.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from llmft.errors import StoreError
from llmft.store import chunk_document, demo_files
from tests.support.require import require
from tests.support.store_docs import write_docx, write_pdf

MANUALS = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "products" / "contoso" / "manuals"
LONG = " It is written out at some length so that this section is not merged with its neighbours." * 3


def _sections(path: Path) -> dict[str, str]:
    return {chunk.heading: chunk.text for chunk in chunk_document(path)}


def test_demo_markdown_is_chunked_by_section() -> None:
    shipping = next(p for p in demo_files()[1] if p.name == "shipping.md")
    chunks = chunk_document(shipping)
    express = next(c for c in chunks if c.heading == "Express shipping")
    assert "$14.95" in express.text and "2 pm Pacific" in express.text
    assert express.file == "shipping.md" and express.page is None
    assert express.search_text().startswith("Shipping > Express shipping")  # the document title heads it
    assert [c.index for c in chunks] == list(range(len(chunks)))


def test_demo_html_and_text_pages() -> None:
    policies = {p.name: p for p in demo_files()[1]}
    returns = _sections(policies["returns.html"])
    assert any("within 30 days of delivery" in text for text in returns.values())
    exchanges = returns["Exchanges"]
    assert "return it and place a new order" in exchanges
    contact = chunk_document(policies["contact.txt"])
    assert any(c.section == "Price match" and "refund the difference" in c.text for c in contact)


def test_pdf_keeps_page_numbers(tmp_path: Path) -> None:
    pdf = write_pdf(tmp_path / "care.pdf", [
        ["Care Guide", "Wash the jacket at 30 degrees with a mild detergent and hang it to dry." + LONG],
        ["Repairs", "Small tears can be fixed with the patch kit in the inner pocket." + LONG],
    ])
    chunks = chunk_document(pdf)
    by_heading = {c.heading: c for c in chunks}
    assert by_heading["Care Guide"].page == 1 and "mild detergent" in by_heading["Care Guide"].text
    assert by_heading["Repairs"].page == 2 and "patch kit" in by_heading["Repairs"].text


def test_word_document_sections(tmp_path: Path) -> None:
    docx = write_docx(tmp_path / "terms.docx", [
        ("Gift cards", ["Gift cards never expire and can be spent online or in the shop." + LONG]),
        ("Bulk orders", ["Orders of 20 or more items get 10 percent off." + LONG]),
    ])
    sections = _sections(docx)
    assert "never expire" in sections["Gift cards"] and "10 percent off" in sections["Bulk orders"]


def test_small_sections_merged_into_one_chunk_are_all_named(tmp_path: Path) -> None:
    page = tmp_path / "tiny.md"
    page.write_text("# Help\n\n## Opening hours\n\nNine to five.\n\n## Phone\n\nCall 555-0100.\n")
    [chunk] = chunk_document(page)
    assert chunk.heading == "Help | Opening hours | Phone" and "Call 555-0100." in chunk.text


def test_long_section_is_cut_under_the_limit(tmp_path: Path) -> None:
    page = tmp_path / "long.md"
    page.write_text("# Terms\n\n" + "\n\n".join(f"Clause {i}: the buyer agrees to clause {i}." * 4 for i in range(40)))
    chunks = chunk_document(page, max_chars=400)
    assert len(chunks) > 5 and all(len(c.text) <= 400 for c in chunks)
    assert all(c.heading == "Terms" for c in chunks)


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("empty.md", b"", "empty.md is empty"),
        ("blank.txt", b"   \n\n  ", "has no text to index"),
        ("broken.docx", b"this is not a zip archive", "broken.docx cannot be read as docx"),
        ("broken.pdf", b"%PDF-1.4\n garbage without objects", "broken.pdf"),
        ("sheet.xlsx", b"PK\x03\x04", "unsupported file type '.xlsx'"),
    ],
)
def test_bad_documents_name_the_file(tmp_path: Path, name: str, content: bytes, expected: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(StoreError, match=expected.replace(".", r"\.")):
        chunk_document(path)


def test_missing_document(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="gone.md does not exist"):
        chunk_document(tmp_path / "gone.md")


def test_contoso_manual_sections_name_the_product() -> None:
    require(MANUALS.is_dir(), f"the Contoso manuals in {MANUALS}")
    chunks = chunk_document(MANUALS / "product_info_1.md")
    returns = [c for c in chunks if c.section == "Return Policy"]
    assert returns and all(c.search_text().startswith("Information about product item_number: 1 - TrailMaster X4 "
                                                      "Tent, price $250 > Return Policy") for c in returns)
    assert any(c.section == "FAQ" for c in chunks)
