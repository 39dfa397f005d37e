"""Product catalogues (CSV or JSON) -> validated `Product` rows with typed metadata.

Columns are matched by name, case-insensitively, with a few aliases (`name` for `title`, `product_id` for
`id`, `quantity` for `stock`). `id`, `title` and `price` are required; `description`, `category`, `brand`,
`rating` and `stock` are typed when present; every other scalar field is kept as metadata too (nested JSON
objects are flattened one level, lists of words joined with `|`). A catalogue with a bad row is refused whole,
naming every bad row (up to a few) and the columns found, so the store never holds half a catalogue.
"""

from __future__ import annotations

import csv
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from llmft.errors import StoreError

Scalar = str | int | float | bool
CATALOGUE_SUFFIXES = (".csv", ".json", ".jsonl")
_ALIASES = {
    "id": ("id", "product_id", "productid"),
    "title": ("title", "name", "product_name", "productname"),
    "price": ("price",),
    "description": ("description",),
    "category": ("category",),
    "brand": ("brand",),
    "rating": ("rating",),
    "stock": ("stock", "quantity", "in_stock_quantity"),
}
_REQUIRED = ("id", "title", "price")
# Keys the store sets itself; a catalogue field of the same name is kept under "field_<name>".
RESERVED_KEYS = {"kind", "source", "file", "section", "page", "source_key", "content_hash", "heading", "chunk"}
_MAX_ERRORS_SHOWN = 5
_MAX_EXTRA_TEXT_CHARS = 200  # short extra fields (warranty, shipping) help search; long ones would drown the text


@dataclass
class Product:
    """One catalogue row with its typed fields and every other field as metadata."""

    id: str
    title: str
    price: float
    description: str = ""
    category: str | None = None
    brand: str | None = None
    rating: float | None = None
    stock: int | None = None
    extra: dict[str, Scalar] = field(default_factory=dict)

    def text(self) -> str:
        """What search sees: title, brand, category, price, description and the short extra fields."""
        lines = [self.title]
        lines += [f"Brand: {self.brand}"] if self.brand else []
        lines += [f"Category: {self.category}"] if self.category else []
        lines.append(f"Price: ${self.price:.2f}")
        lines += [self.description] if self.description else []
        for key, value in self.extra.items():
            if isinstance(value, str) and 0 < len(value) <= _MAX_EXTRA_TEXT_CHARS and "://" not in value:
                lines.append(f"{_words(key)}: {value.replace('|', ', ')}")
        return "\n".join(lines)

    def metadata(self) -> dict[str, Scalar]:
        """Typed metadata for Chroma (which takes str, int, float and bool; None values are left out)."""
        meta: dict[str, Scalar] = {
            f"field_{key}" if key in RESERVED_KEYS else key: value for key, value in self.extra.items()
        }
        typed = {"product_id": self.id, "title": self.title, "price": self.price, "description": self.description,
                 "category": self.category, "brand": self.brand, "rating": self.rating, "stock": self.stock}
        meta.update({key: value for key, value in typed.items() if value is not None})
        return meta


def _words(key: str) -> str:
    """`warrantyInformation` -> `Warranty information`."""
    spaced = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", key).replace("_", " ").strip()
    return spaced[:1].upper() + spaced[1:].lower()


def _flatten(record: dict[str, Any]) -> dict[str, Scalar]:
    """Scalars as they are; lists of scalars joined by '|'; dicts one level deep as `parent.child`."""
    flat: dict[str, Scalar] = {}
    for key, value in record.items():
        if isinstance(value, dict):
            flat.update({f"{key}.{k}": v for k, v in value.items() if isinstance(v, Scalar)})
        elif isinstance(value, list):
            if value and all(isinstance(v, Scalar) for v in value):
                flat[key] = "|".join(str(v) for v in value)
        elif isinstance(value, Scalar):
            flat[str(key)] = value
    return flat


def _read_records(path: Path) -> tuple[list[tuple[str, dict[str, Any]]], list[str]]:
    """(where, record) pairs and the columns found; `where` is `line N` (CSV) or `item N` (JSON)."""
    try:
        raw = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError as err:
        raise StoreError(f"catalogue {path} does not exist") from err
    except (OSError, UnicodeDecodeError) as err:
        raise StoreError(f"catalogue {path} cannot be read as UTF-8 text: {err}") from err
    if not raw.strip():
        raise StoreError(f"catalogue {path} is empty")
    suffix = path.suffix.lower()
    if suffix == ".csv":
        reader = csv.DictReader(raw.splitlines())
        columns = [c.strip() for c in (reader.fieldnames or [])]
        records = []
        for row in reader:
            extra = row.pop(None, None)  # type: ignore[call-overload]
            if extra:
                raise StoreError(f"catalogue {path} line {reader.line_num} has more values than the header's "
                                 f"{len(columns)} columns ({', '.join(columns)})")
            records.append((f"line {reader.line_num}", {k.strip(): v for k, v in row.items()}))
        return records, columns
    if suffix not in (".json", ".jsonl"):
        raise StoreError(f"catalogue {path} is a {suffix or 'suffix-less'} file; use .csv, .json or .jsonl")
    try:
        if suffix == ".jsonl":
            data: Any = [json.loads(line) for line in raw.splitlines() if line.strip()]
        else:
            data = json.loads(raw)
    except json.JSONDecodeError as err:
        raise StoreError(f"catalogue {path} is not valid JSON: {err}") from err
    if isinstance(data, dict) and isinstance(data.get("products"), list):
        data = data["products"]  # the shape of many shop APIs: {"products": [...], "total": ...}
    if not isinstance(data, list) or not all(isinstance(item, dict) for item in data):
        raise StoreError(f"catalogue {path} must hold a list of product objects (or {{\"products\": [...]}})")
    columns = sorted({str(key) for item in data for key in item})
    return [(f"item {i}", _flatten(item)) for i, item in enumerate(data, start=1)], columns


def _number(value: Any, kind: type) -> float | int | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise ValueError
    number = float(str(value).strip().lstrip("$").replace(",", ""))
    if number != number or number in (float("inf"), float("-inf")):
        raise ValueError
    if kind is int:
        if number != int(number):
            raise ValueError
        return int(number)
    return number


def _text(value: Any) -> str | None:
    text = "" if value is None else str(value).strip()
    return text or None


def load_catalogue(path: str | Path) -> list[Product]:
    """Read and validate a catalogue; raise `StoreError` naming the file, the bad rows and the columns found."""
    path = Path(path)
    records, columns = _read_records(path)
    if not records:
        raise StoreError(f"catalogue {path} has a header but no products (columns found: {', '.join(columns)})")
    lower = {c.lower(): c for c in columns}
    mapping = {name: next((lower[a] for a in aliases if a in lower), None) for name, aliases in _ALIASES.items()}
    missing = [name for name in _REQUIRED if mapping[name] is None]
    if missing:
        raise StoreError(f"catalogue {path} has no {' or '.join(repr(m) for m in missing)} column "
                         f"(columns found: {', '.join(columns) or 'none'})")
    products, errors, first_seen = [], [], {}
    for where, record in records:
        try:
            product = _product(record, mapping)
        except ValueError as err:
            errors.append(f"{where}: {err}")
            continue
        if product.id in first_seen:
            errors.append(f"{where}: product id {product.id!r} is also used at {first_seen[product.id]}")
            continue
        first_seen[product.id] = where
        products.append(product)
    if errors:
        shown = "; ".join(errors[:_MAX_ERRORS_SHOWN]) + ("; ..." if len(errors) > _MAX_ERRORS_SHOWN else "")
        raise StoreError(f"catalogue {path} has {len(errors)} bad row(s), nothing was ingested from it: {shown} "
                         f"(columns found: {', '.join(columns)})")
    return products


def _product(record: dict[str, Any], mapping: dict[str, str | None]) -> Product:
    """One record -> Product; a ValueError names the column and the value at fault."""
    def field_value(name: str) -> Any:
        column = mapping[name]
        return None if column is None else record.get(column)

    typed: dict[str, Any] = {}
    for name, kind in (("price", float), ("rating", float), ("stock", int)):
        value = field_value(name)
        try:
            typed[name] = _number(value, kind)
        except ValueError:
            what = "a number" if kind is float else "a whole number"
            raise ValueError(f"{mapping[name]} {value!r} is not {what}") from None
    for name in _REQUIRED:
        value = typed.get(name) if name == "price" else _text(field_value(name))
        if value is None:
            raise ValueError(f"{mapping[name]} is empty")
    if typed["price"] < 0:
        raise ValueError(f"{mapping['price']} {field_value('price')!r} is negative")
    used = {column for column in mapping.values() if column is not None}
    extra = {str(k): (v.strip() if isinstance(v, str) else v) for k, v in record.items() if k not in used}
    return Product(
        id=str(_text(field_value("id"))), title=str(_text(field_value("title"))), price=float(typed["price"]),
        description=_text(field_value("description")) or "", category=_text(field_value("category")),
        brand=_text(field_value("brand")), rating=typed["rating"], stock=typed["stock"],
        extra={k: v for k, v in extra.items() if v not in (None, "")},
    )
