"""The guide's workaround 1 on its problematic snippet: the same module without the __future__ import.

Nothing else moves, so ``Potato`` is still used (now eagerly evaluated) before it is defined.
"""

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, FastAPI

app = FastAPI()


def get_potato() -> Potato:  # noqa: F821 - the point: Potato is defined only further down
    return Potato(color="red", size=10)


@app.get("/")
async def read_root(potato: Annotated[Potato, Depends(get_potato)]) -> dict[str, str]:  # noqa: F821
    return {"Hello": "World", "color": potato.color}


@dataclass
class Potato:
    color: str
    size: int
