"""Minimal apps: a pydantic.v1 model as request body, the same with a plain model, and metadata.

Routes are declared inside factories because FastAPI >= 0.128.0 refuses a pydantic.v1 model
when the route is declared; importing this module must work in every cell.
"""

import importlib.metadata
import importlib.util

from fastapi import FastAPI
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from pydantic import BaseModel

# pydantic.v1 exists in Pydantic 2 and, as an alias for forward compatibility, in 1.10.17+.
HAS_V1_NAMESPACE = importlib.util.find_spec("pydantic.v1") is not None

if HAS_V1_NAMESPACE:
    from pydantic.v1 import BaseModel as V1BaseModel

    class ItemV1(V1BaseModel):
        name: str
        price: float


class Item(BaseModel):  # Pydantic 2 model, or a v1 one where Pydantic 1 is installed
    name: str
    price: float


def v1_body_app() -> FastAPI:
    app = FastAPI()

    @app.post("/items")
    def create_item(item: ItemV1) -> dict[str, object]:
        return {"name": item.name, "price": item.price}

    return app


def plain_body_app() -> FastAPI:
    app = FastAPI()

    @app.post("/items")
    def create_item(item: Item) -> dict[str, object]:
        return {"name": item.name, "price": item.price}

    return app


def pydantic_requirement() -> SpecifierSet:
    """The installed fastapi's own (not an extra's) Requires-Dist on pydantic."""
    for line in importlib.metadata.requires("fastapi") or []:
        requirement = Requirement(line)
        if requirement.name == "pydantic" and requirement.marker is None:
            return requirement.specifier
    raise LookupError("the installed fastapi declares no dependency on pydantic")
