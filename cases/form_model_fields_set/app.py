"""A Pydantic model received as form data, next to the guide's two fixes (Issue #1).

The model routes report ``model_fields_set`` (the names Pydantic believes the client sent) and the
values the model got.
"""

from typing import Annotated

from fastapi import FastAPI, Form
from pydantic import BaseModel

from known_issues.casekit import has

app = FastAPI()


class Search(BaseModel):
    query: str
    sort: str = "relevance"
    page_size: int = 20


class Subscription(BaseModel):
    # The issue's own example: a bool with a default, like an HTML checkbox.
    email: str
    field_1: bool = True


def report(model: BaseModel) -> dict[str, object]:
    return {"set": sorted(model.model_fields_set), "values": model.model_dump()}


# Form models only exist from FastAPI 0.113.0; older releases read the parameter as one
# form field named after it, which is another feature, so the routes are not declared there.
if has("fastapi>=0.113.0"):

    @app.post("/form/search")
    async def form_search(model: Annotated[Search, Form()]) -> dict[str, object]:
        return report(model)

    @app.post("/form/subscription")
    async def form_subscription(model: Annotated[Subscription, Form()]) -> dict[str, object]:
        return report(model)


@app.post("/json/search")
async def json_search(model: Search) -> list[str]:
    return sorted(model.model_fields_set)


@app.post("/form-individual")
async def form_individual(
    field_1: Annotated[bool, Form()] = True,
    field_2: Annotated[str | None, Form()] = None,
) -> dict[str, object]:
    # The guide's fix 1; its body is only a comment, so this one returns what the route received.
    return {"field_1": field_1, "field_2": field_2}


@app.post("/form-individual-sentinel")
async def form_individual_sentinel(
    field_1: Annotated[bool | None, Form()] = None,
    field_2: Annotated[str | None, Form()] = None,
) -> list[str]:
    # None stands for "not sent"; the real defaults are applied by the app afterwards.
    sent = {"field_1": field_1, "field_2": field_2}
    return sorted(name for name, value in sent.items() if value is not None)
