"""The affected usage: postponed annotations, and the dependency's class defined after the route.

Under ``from __future__ import annotations`` the whole parameter annotation is the string
``"Annotated[Potato, Depends(get_potato)]"``. FastAPI evaluates it when the route is declared,
before ``Potato`` exists, so the ``Depends`` inside it is never seen.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, FastAPI

app = FastAPI()


def get_potato() -> Potato:
    return Potato(color="red", size=10)


@app.get("/")
async def read_root(potato: Annotated[Potato, Depends(get_potato)]) -> dict[str, str]:
    return {"Hello": "World", "color": potato.color}


@dataclass
class Potato:
    color: str
    size: int
