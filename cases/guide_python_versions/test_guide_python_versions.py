"""The document's `X | None` annotations, evaluated as it writes them, on the Python of the cell.

Each documented module is loaded inside its test: on a Python that cannot evaluate `str | None`
the failure is that test's observation (the documented code crashed), not a collection error.
This module itself must import on Python 3.9: no `X | Y` evaluated here.
"""

from __future__ import annotations

from datetime import timedelta
from types import ModuleType

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import ValidationError

from known_issues.casekit import answer, load, lookup, record


def check_item_update(module: ModuleType) -> None:
    update = module.ItemUpdate(description=None, price=9.99)
    assert (update.name, update.description, update.price) == (None, None, 9.99)
    with pytest.raises(ValidationError):
        module.ItemUpdate(price=0)  # Field(gt=0) still applies to the optional field


def check_form_individual(app: FastAPI) -> None:
    """The `str | None` parameter is declared and read: sent, and left out (its default None). The
    bool beside it is always sent: what FastAPI hands a route for a missing bool changed between
    releases (form_model_fields_set's subject), not with the Python."""
    client = TestClient(app)
    sent = client.post("/form-individual", data={"field_1": "true", "field_2": "x"})
    assert answer(sent) == {"status": 200, "body": {"field_1": True, "field_2": "x"}}
    omitted = client.post("/form-individual", data={"field_1": "false"})
    assert answer(omitted) == {"status": 200, "body": {"field_1": False, "field_2": None}}


@pytest.mark.pattern("the document's Pydantic schemas with `str | None` fields build and validate")
def test_guide_schemas_build() -> None:
    schemas = load(__package__, "schemas")
    check_item_update(schemas)
    item = schemas.ItemBase(name="Test", price=9.99)
    record("ItemBase(name='Test', price=9.99)", item)
    assert (item.description, item.status) == (None, schemas.ItemStatus.DRAFT)
    assert schemas.TokenData().user_id is None
    with pytest.raises(ValidationError):
        schemas.ItemBase(name="Test", price=1, description="x" * 501)


@pytest.mark.pattern("the document's route signatures with `X | None` parameters declare and answer")
def test_guide_route_signatures() -> None:
    app = load(__package__, "app").app
    check_form_individual(app)
    client = TestClient(app)
    assert answer(client.post("/attribute", data={"attribute": "abc"})) == {"status": 200, "body": {"attribute": "abc"}}
    assert answer(client.post("/attribute", data={})) == {"status": 200, "body": {"attribute": None}}


@pytest.mark.pattern("the document's auth service functions (`timedelta | None`, `-> dict | None`) define and run")
def test_guide_service_signatures() -> None:
    service = load(__package__, "service")
    token = service.create_access_token({"sub": "1"}, timedelta(minutes=5))
    assert lookup(service.decode_token(token), "sub") == "1"
    assert service.decode_token("not a token") is None


@pytest.mark.pattern("the document's SQLAlchemy model with a `Mapped[str | None]` column maps")
def test_guide_model_mapped_optional() -> None:
    models = load(__package__, "models")
    columns = models.Item.__table__.c
    assert (columns.description.nullable, columns.name.nullable) == (True, False)


@pytest.mark.workaround("ours: typing.Optional, the spelling the Key Point advises against")
def test_optional_spelling() -> None:
    module = load(__package__, "optional_spelling")
    check_item_update(module)
    check_form_individual(module.app)


@pytest.mark.workaround("ours: keep `X | None` behind `from __future__ import annotations`")
def test_future_annotations() -> None:
    module = load(__package__, "future_annotations")
    check_item_update(module)
    check_form_individual(module.app)
