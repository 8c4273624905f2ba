"""The document's ``X | None`` spelling behind ``from __future__ import annotations``.

Python then stores the annotations as strings, so the module itself imports on 3.9; Pydantic and
FastAPI still have to evaluate those strings to build the model and read the routes.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import FastAPI, Form
from pydantic import BaseModel, Field


class ItemUpdate(BaseModel):
    name: str | None = Field(None, min_length=1, max_length=100)
    description: str | None = None
    price: float | None = Field(None, gt=0)


app = FastAPI()


@app.post("/form-individual")
async def form_individual(
    field_1: Annotated[bool, Form()] = True,
    field_2: Annotated[str | None, Form()] = None,
) -> dict:
    return {"field_1": field_1, "field_2": field_2}
