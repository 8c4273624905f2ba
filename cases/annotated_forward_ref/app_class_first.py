"""The document's workaround 3: keep the __future__ import, define the class before its use."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, FastAPI


@dataclass
class Potato:
    color: str
    size: int


app = FastAPI()


def get_potato() -> Potato:
    return Potato(color="red", size=10)


@app.get("/")
async def read_root(potato: Annotated[Potato, Depends(get_potato)]) -> dict[str, str]:
    return {"Hello": "World", "color": potato.color}
