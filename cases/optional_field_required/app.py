"""Minimal apps: Optional[str] without a default, and three RequestValidationError handlers.

Importable on Python 3.9: the guide's `str | None = None` line is in none_default.py, which the
tests load inside the one test that runs it.

- ``plain_app``: FastAPI's own handler (the reference behaviour).
- ``documented_app``: the guide's handler, ``{"detail": exc.errors(), "body": exc.body}`` as is.
- ``encoded_app``: FastAPI docs' handler, ``jsonable_encoder`` over the whole content.
- ``errors_only_app``: a half-way fix that encodes ``exc.errors()`` but not ``exc.body``.
"""

from typing import Any, Callable, Optional

from fastapi import FastAPI, Form, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, field_validator


class ItemOptionalNoDefault(BaseModel):
    name: str
    description: Optional[str]  # the guide's "wrong" line: optional type, but still required


class Reading(BaseModel):
    value: int

    @field_validator("value")
    @classmethod
    def must_be_positive(cls, v: int) -> int:
        if v < 0:
            # Pydantic keeps this exception object in the error's ctx.
            raise ValueError("Value must be positive")
        return v


# Every RequestValidationError the custom handlers saw: a test can tell that its handler ran.
seen: list[RequestValidationError] = []


def add_routes(app: FastAPI) -> FastAPI:
    @app.post("/items/optional-no-default")
    async def optional_no_default(item: ItemOptionalNoDefault) -> dict[str, Any]:
        return item.model_dump()

    @app.post("/readings")
    async def readings(reading: Reading) -> dict[str, Any]:
        return reading.model_dump()

    @app.post("/form")
    async def form(name: str = Form(), age: int = Form()) -> dict[str, Any]:
        return {"name": name, "age": age}

    return app


Handler = Callable[[Request, RequestValidationError], Any]


def with_handler(handler: Handler) -> FastAPI:
    app = FastAPI()
    app.add_exception_handler(RequestValidationError, handler)
    return add_routes(app)


async def documented_handler(request: Request, exc: RequestValidationError) -> JSONResponse:
    seen.append(exc)
    return JSONResponse(status_code=422, content={"detail": exc.errors(), "body": exc.body})


async def encoded_handler(request: Request, exc: RequestValidationError) -> JSONResponse:
    seen.append(exc)
    return JSONResponse(status_code=422, content=jsonable_encoder({"detail": exc.errors(), "body": exc.body}))


async def errors_only_handler(request: Request, exc: RequestValidationError) -> JSONResponse:
    seen.append(exc)
    return JSONResponse(status_code=422, content={"detail": jsonable_encoder(exc.errors()), "body": exc.body})


plain_app = add_routes(FastAPI())
documented_app = with_handler(documented_handler)
encoded_app = with_handler(encoded_handler)
errors_only_app = with_handler(errors_only_handler)
