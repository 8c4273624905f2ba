"""Query parameters typed as a union with str (the document's Issue #6 says path *and* query).

Written as the document writes its annotations (``int | str``, evaluated when the routes are
declared), so it needs Python 3.10; the tests load it only there. Importable under Pydantic v1:
the v2-only workarounds are declared only where they exist.
"""

from typing import Annotated, Any
from uuid import UUID

from fastapi import Depends, FastAPI, Query
from pydantic import BaseModel, Field

from known_issues.casekit import has

app = FastAPI()


@app.get("/int")
async def int_query(value: int | str) -> str:
    return str(type(value))


@app.get("/uuid")
async def uuid_query(value: UUID | str) -> str:
    return str(type(value))


@app.get("/optional-int")
async def optional_int_query(value: int | str | None = None) -> str:
    return str(type(value))


@app.get("/int-only")
async def int_only_query(value: int) -> str:
    return str(type(value))


if has("pydantic>=2"):
    from pydantic import field_validator

    class QueryParams(BaseModel):
        value: int | str

        @field_validator("value")
        @classmethod
        def coerce_to_int(cls, v: Any) -> Any:
            if isinstance(v, str) and v.isdigit():
                return int(v)
            return v

    # A model as a dependency: FastAPI reads its fields as the route's query parameters.
    @app.get("/validated")
    async def validated_query(params: Annotated[QueryParams, Depends()]) -> str:
        return str(type(params.value))


if has("pydantic>=2.2") and has("fastapi>=0.105.0"):

    @app.get("/left-to-right")
    async def left_to_right_query(
        value: Annotated[int | str, Query(), Field(union_mode="left_to_right")],
    ) -> str:
        return str(type(value))
