"""The guide's alternative for a query parameter: a model with ``int | str`` and a field_validator
turning digit strings into int (Pydantic v2 only; ``int | str`` needs Python 3.10).

The guide shows the model but no route that uses it; ours takes it as ``Annotated[QueryParams,
Depends()]``, so FastAPI reads the model's field as the route's query parameter.
"""

from typing import Annotated, Any

from fastapi import Depends, FastAPI
from pydantic import BaseModel, field_validator

app = FastAPI()


class QueryParams(BaseModel):
    value: int | str

    @field_validator("value")
    @classmethod
    def coerce_to_int(cls, v: Any) -> Any:
        if isinstance(v, str) and v.isdigit():
            return int(v)
        return v


@app.get("/validated")
async def validated_query(params: Annotated[QueryParams, Depends()]) -> str:
    return str(type(params.value))
