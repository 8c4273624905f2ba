"""The guide's "right" line, `description: str | None = None`, in a model and a route.

Written as the guide writes it (evaluated when the class is created), so on Python 3.9 this
module does not import: the test loads it inside the test.
"""

from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel


class ItemNoneDefault(BaseModel):
    name: str
    description: str | None = None  # the guide's "right" line


app = FastAPI()


@app.post("/items/none-default")
async def none_default(item: ItemNoneDefault) -> dict[str, Any]:
    return item.model_dump()
