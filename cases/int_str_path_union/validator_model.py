"""The guide's alternative: a model with ``int | str`` and a field_validator turning digit strings
into int (Pydantic v2 only; ``int | str`` needs Python 3.10).

The guide shows the model but no route that uses it; ours takes it as ``Annotated[PathParams,
Depends()]``, so FastAPI reads the model's field as the route's path parameter.
"""

from typing import Annotated, Any

from fastapi import Depends, FastAPI
from pydantic import BaseModel, field_validator

app = FastAPI()


class PathParams(BaseModel):
    path: int | str

    @field_validator("path")
    @classmethod
    def coerce_to_int(cls, v: Any) -> Any:
        if isinstance(v, str) and v.isdigit():
            return int(v)
        return v


@app.get("/validated/{path}")
async def validated_path(params: Annotated[PathParams, Depends()]) -> str:
    return str(type(params.path))
