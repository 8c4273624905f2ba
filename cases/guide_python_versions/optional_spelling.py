"""The same model and routes spelled with ``typing.Optional``, which every Python 3.x evaluates."""

from typing import Annotated, Optional

from fastapi import FastAPI, Form
from pydantic import BaseModel, Field


class ItemUpdate(BaseModel):
    name: Optional[str] = Field(None, min_length=1, max_length=100)
    description: Optional[str] = None
    price: Optional[float] = Field(None, gt=0)


app = FastAPI()


@app.post("/form-individual")
async def form_individual(
    field_1: Annotated[bool, Form()] = True,
    field_2: Annotated[Optional[str], Form()] = None,
) -> dict:
    return {"field_1": field_1, "field_2": field_2}
