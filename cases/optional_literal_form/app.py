"""The guide's Issue #3 route (an Optional[Literal] form field without a default), its workaround 2,
and ours. Each route has its own path (the guide puts them at "/")."""

from typing import Annotated, Literal, Optional

from fastapi import FastAPI, Form, HTTPException

app = FastAPI()

ALLOWED = ("abc", "def")


@app.post("/literal")
async def literal(attribute: Annotated[Optional[Literal["abc", "def"]], Form()]) -> dict[str, object]:
    # No default: Optional only allows None as a value, it does not make the field optional.
    return {"attribute": attribute}


@app.post("/str-default-none")
async def str_default_none(attribute: Annotated[str | None, Form()] = None) -> dict[str, object]:
    # The guide's workaround 2: accept any string and check it in the route.
    if attribute and attribute not in ["abc", "def"]:
        raise HTTPException(400, "Invalid attribute")
    return {"attribute": attribute}


@app.post("/literal-default-none")
async def literal_default_none(
    attribute: Annotated[Optional[Literal["abc", "def"]], Form()] = None,
) -> dict[str, object]:
    # Ours: keep the Literal and give the field the default that makes it optional.
    return {"attribute": attribute}
