"""Path parameters typed as a union with str, and the ways to get the non-str member back.

Importable under Pydantic v1 as well: the v2-only workarounds are declared only where they exist.
"""

from typing import Annotated, Any
from uuid import UUID

from fastapi import Depends, FastAPI, Path
from pydantic import BaseModel, Field

from known_issues.casekit import has

app = FastAPI()


@app.get("/int/{path}")
async def int_path(path: int | str) -> str:
    return str(type(path))


@app.get("/uuid/{path}")
async def uuid_path(path: UUID | str) -> str:
    return str(type(path))


@app.get("/int-only/{path}")
async def int_only_path(path: int) -> str:
    return str(type(path))


if has("pydantic>=2"):
    from pydantic import field_validator

    class PathParams(BaseModel):
        path: int | str

        @field_validator("path")
        @classmethod
        def coerce_to_int(cls, v: Any) -> Any:
            if isinstance(v, str) and v.isdigit():
                return int(v)
            return v

    # A model as a dependency: FastAPI reads its fields as the route's parameters (here: the path).
    @app.get("/validated/{path}")
    async def validated_path(params: Annotated[PathParams, Depends()]) -> str:
        return str(type(params.path))


if has("pydantic>=2.2") and has("fastapi>=0.105.0"):

    @app.get("/left-to-right/{path}")
    async def left_to_right_path(
        path: Annotated[int | str, Path(), Field(union_mode="left_to_right")],
    ) -> str:
        return str(type(path))
