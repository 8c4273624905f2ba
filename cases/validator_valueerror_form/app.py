"""The guide's Issue #7 models (stored once in cases/guide_code/printed/issue7.py) reached through form data and a JSON
body. The guide shows only the models; how they meet the form is ours: a Form model
(``Annotated[MyForm, Form()]``, FastAPI 0.113.0 and later) and individual Form fields from which the
route builds the model itself."""

from typing import Annotated, Any

from fastapi import FastAPI, Form
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError

from known_issues.casekit import has

from ..guide_code.printed.issue7 import MyForm, MyFormFix1, MyFormFix2

app = FastAPI()


@app.post("/fields")
async def from_form_fields(value: Annotated[int, Form()]) -> dict[str, int]:
    # The model is built in the route, after FastAPI's own request validation is over.
    return MyForm(value=value).model_dump()


@app.post("/fields-fix1")
async def from_form_fields_fix1(value: Annotated[int, Form()]) -> dict[str, int]:
    return MyFormFix1(value=value).model_dump()


@app.post("/fields-fix2")
async def from_form_fields_fix2(value: Annotated[int, Form()]) -> dict[str, int]:
    return MyFormFix2(value=value).model_dump()


@app.post("/fields-reraised")
async def from_form_fields_reraised(value: Annotated[int, Form()]) -> dict[str, int]:
    # Ours: hand the model's errors back to FastAPI as request errors, which it answers with 422.
    try:
        form = MyForm(value=value)
    except ValidationError as exc:
        raise RequestValidationError(exc.errors()) from exc
    return form.model_dump()


@app.post("/json")
async def from_json(body: MyForm) -> dict[str, Any]:
    return body.model_dump()


if has("fastapi>=0.113.0"):
    # Form models (a BaseModel annotated with Form()) exist since FastAPI 0.113.0.

    @app.post("/model")
    async def form_model(form: Annotated[MyForm, Form()]) -> dict[str, int]:
        return form.model_dump()

    @app.post("/model-fix1")
    async def form_model_fix1(form: Annotated[MyFormFix1, Form()]) -> dict[str, int]:
        return form.model_dump()

    @app.post("/model-fix2")
    async def form_model_fix2(form: Annotated[MyFormFix2, Form()]) -> dict[str, int]:
        return form.model_dump()
