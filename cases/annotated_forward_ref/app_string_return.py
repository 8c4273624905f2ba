"""The document's workaround 2: quote the dependency's return type; everything else as in app.py."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, FastAPI

app = FastAPI()


def get_potato() -> "Potato":  # the quotes are the workaround under test
    return Potato(color="red", size=10)


@app.get("/")
async def read_root(potato: Annotated[Potato, Depends(get_potato)]) -> dict[str, str]:
    return {"Hello": "World", "color": potato.color}


@dataclass
class Potato:
    color: str
    size: int
