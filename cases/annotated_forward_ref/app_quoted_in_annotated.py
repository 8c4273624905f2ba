"""Our workaround (not the document's): no __future__ import, quote only the class name.

``Annotated[...]`` is then evaluated eagerly, so FastAPI sees the ``Depends``; the late class is
only a forward reference inside it, which a dependency parameter never needs to resolve.
"""

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, FastAPI

app = FastAPI()


def get_potato() -> "Potato":
    return Potato(color="red", size=10)


@app.get("/")
async def read_root(potato: Annotated["Potato", Depends(get_potato)]) -> dict[str, str]:
    return {"Hello": "World", "color": potato.color}


@dataclass
class Potato:
    color: str
    size: int
