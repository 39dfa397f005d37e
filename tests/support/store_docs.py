"""Small store documents written on the fly for the knowledge-base tests: PDF (hand-built), Word, catalogues.

`write_pdf` lays out each paragraph as its own text block (a wide gap between them), one list of paragraphs
per page, in Helvetica, so pdfminer reads them back as separate paragraphs with their page numbers.
"""

from __future__ import annotations

from pathlib import Path


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def write_pdf(path: Path, pages: list[list[str]]) -> Path:
    objects: list[bytes] = [b"<< /Type /Catalog /Pages 2 0 R >>", b"", b"<< /Type /Font /Subtype /Type1 "
                            b"/BaseFont /Helvetica >>"]
    kids = []
    for paragraphs in pages:
        stream = "BT /F1 12 Tf 72 720 Td " + " 0 -40 Td ".join(f"({_escape(p)}) Tj" for p in paragraphs) + " ET"
        page_number = len(objects) + 1
        kids.append(f"{page_number} 0 R")
        objects.append(f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 3 0 R >> "
                       f">> /Contents {page_number + 1} 0 R >>".encode())
        objects.append(f"<< /Length {len(stream)} >>\nstream\n{stream}\nendstream".encode())
    objects[1] = f"<< /Type /Pages /Kids [{' '.join(kids)}] /Count {len(kids)} >>".encode()
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{offset:010d} 00000 n \n".encode() for offset in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    path.write_bytes(bytes(out))
    return path


def write_docx(path: Path, sections: list[tuple[str, list[str]]]) -> Path:
    """A Word file with a Heading 1 and its paragraphs per section."""
    import docx

    document = docx.Document()
    for heading, paragraphs in sections:
        document.add_heading(heading, level=1)
        for paragraph in paragraphs:
            document.add_paragraph(paragraph)
    document.save(str(path))
    return path


SMALL_CATALOGUE = """id,title,brand,category,price,rating,stock,description
K-1,Alpine Kettle,Fjord,kitchen,39.50,4.2,10,A stovetop kettle in brushed steel that whistles when the water boils.
K-2,Granite Mortar,Fjord,kitchen,24.00,4.6,0,A heavy granite mortar and pestle for grinding spices.
L-1,Reading Lantern,Glow,lighting,18.00,3.9,25,A rechargeable lantern with a warm light for reading outdoors.
"""

SHIPPING_MD = """# Delivery

## Parcel post

Parcels travel by post and arrive within 4 working days anywhere in the country. Postage is free above 60 euros;
below that it costs 5 euros. Every parcel can be followed with the tracking number in the confirmation email.

## Courier

A courier brings urgent orders the next morning for 12 euros when they are placed before noon. The courier calls
half an hour before arriving, and leaves the parcel with a neighbour if nobody is at home.
"""


def write_small_shop(folder: Path) -> Path:
    """`folder` with the small shop: `products.csv` (SMALL_CATALOGUE) and `delivery.md` (SHIPPING_MD)."""
    (folder / "products.csv").write_text(SMALL_CATALOGUE)
    (folder / "delivery.md").write_text(SHIPPING_MD)
    return folder
