"""Pydantic's Json type on a form field, the document's workaround, and ours."""

from typing import Annotated

from fastapi import FastAPI, Form
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, Json, ValidationError

app = FastAPI()


@app.post("/broken")
async def broken(json_list: Annotated[Json[list[str]], Form()]) -> list[str]:
    return json_list


class JsonListModel(BaseModel):
    json_list: Json[list[str]]


@app.post("/working")
async def working(json_list: Annotated[str, Form()]) -> list[str]:
    # The document's workaround: take the raw string and let a model parse it.
    model = JsonListModel(json_list=json_list)
    return model.json_list


@app.post("/working-checked")
async def working_checked(json_list: Annotated[str, Form()]) -> list[str]:
    # Ours: the same, but a parse failure is the client's fault, so answer 422 like FastAPI.
    try:
        model = JsonListModel(json_list=json_list)
    except ValidationError as exc:
        raise RequestValidationError([{**error, "loc": ("body", *error["loc"])} for error in exc.errors()]) from exc
    return model.json_list
