"""Catalogues: typed fields, kept extras, and a clear refusal (file, rows, columns found) for every bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from llmft.errors import StoreError
from llmft.store import demo_files, load_catalogue
from tests.support.require import require

PRODUCTS = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "products"


def test_demo_catalogue_has_typed_fields() -> None:
    products = {p.id: p for p in load_catalogue(demo_files()[0])}
    assert len(products) == 35
    phone = products["SP-101"]
    assert (phone.title, phone.brand, phone.category) == ("Nimbus A5", "Nimbus", "smartphones")
    assert phone.price == 199.0 and phone.rating == 4.1 and phone.stock == 42
    assert phone.extra == {"warranty": "1 year"}
    assert phone.metadata()["price"] == 199.0 and phone.metadata()["stock"] == 42
    assert "Warranty: 1 year" in phone.text() and "Price: $199.00" in phone.text()


def test_json_catalogue_with_nested_fields_and_aliases(tmp_path: Path) -> None:
    path = tmp_path / "shop.json"
    path.write_text(json.dumps({"products": [
        {"product_id": 7, "name": "Trail Mug", "price": "12.5", "tags": ["camping", "mugs"],
         "dimensions": {"width": 9.5, "height": 11}, "reviews": [{"rating": 5}], "stock": 3.0},
    ]}))
    [mug] = load_catalogue(path)
    assert (mug.id, mug.title, mug.price, mug.stock) == ("7", "Trail Mug", 12.5, 3)
    assert mug.extra == {"tags": "camping|mugs", "dimensions.width": 9.5, "dimensions.height": 11}
    assert mug.rating is None and "rating" not in mug.metadata()


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("id,name,cost\n1,Mug,3\n", "has no 'price' column (columns found: id, name, cost)"),
        ("id,title,price\n1,Mug,cheap\n2,Cup,4\n", "line 2: price 'cheap' is not a number"),
        ("id,title,price,stock\n1,Mug,3,two\n", "line 2: stock 'two' is not a whole number"),
        ("id,title,price\n1,Mug,3\n1,Cup,4\n", "line 3: product id '1' is also used at line 2"),
        ("id,title,price\n1,,3\n", "line 2: title is empty"),
        ("id,title,price\n1,Mug,-3\n", "line 2: price '-3' is negative"),
        ("", "is empty"),
        ("id,title,price\n", "has a header but no products"),
        ("id,title,price\n1,Mug,3,extra\n", "line 2 has more values than the header's 3 columns"),
    ],
)
def test_bad_csv_is_refused_naming_file_row_and_column(tmp_path: Path, content: str, expected: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(content)
    with pytest.raises(StoreError) as caught:
        load_catalogue(path)
    assert expected in str(caught.value) and "bad.csv" in str(caught.value)


def test_every_bad_row_is_named_with_the_columns_found(tmp_path: Path) -> None:
    path = tmp_path / "rows.csv"
    path.write_text("id,title,price\n1,Mug,x\n2,Cup,4\n3,Jar,y\n")
    with pytest.raises(StoreError, match=r"2 bad row\(s\).*line 2: price 'x'.*line 4: price 'y'.*columns found: "
                                         r"id, title, price"):
        load_catalogue(path)


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("broken.json", "[{\"id\": 1,", "is not valid JSON"),
        ("scalar.json", "42", "must hold a list of product objects"),
        ("items.xml", "<products/>", "use .csv, .json or .jsonl"),
        ("latin1.csv", "id,title,price\n1,Caf\xe9,3\n", "cannot be read as UTF-8"),
    ],
)
def test_unreadable_catalogues(tmp_path: Path, name: str, content: str, expected: str) -> None:
    path = tmp_path / name
    path.write_bytes(content.encode("latin-1"))
    with pytest.raises(StoreError, match=expected):
        load_catalogue(path)


def test_missing_catalogue_names_the_path(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="nowhere.csv does not exist"):
        load_catalogue(tmp_path / "nowhere.csv")


def test_shared_catalogues_load() -> None:
    require(PRODUCTS.is_dir(), f"the product catalogues in {PRODUCTS}")
    contoso = {p.id: p for p in load_catalogue(PRODUCTS / "contoso" / "products.csv")}
    assert len(contoso) == 20
    assert (contoso["1"].title, contoso["1"].price, contoso["1"].category) == ("TrailMaster X4 Tent", 250.0, "Tents")
    dummy = load_catalogue(PRODUCTS / "dummyjson" / "products.json")
    assert len(dummy) == 194
    first = dummy[0]
    assert (first.id, first.title, first.price, first.stock) == ("1", "Essence Mascara Lash Princess", 9.99, 99)
    assert first.extra["returnPolicy"] == "No return policy" and first.extra["tags"] == "beauty|mascara"
    assert sum(p.brand is None for p in dummy) == 92  # README: brand is missing for 92 of them
    assert len(load_catalogue(PRODUCTS / "dummyjson" / "products.csv")) == 194
