"""Route signatures the document writes with ``X | None`` (Issue #1's and Issue #3's fixes).

FastAPI reads these annotations from the function objects, which Python builds when the ``def``
runs: on Python 3.9 the module fails while declaring its first route.
"""

from typing import Annotated

from fastapi import FastAPI, Form

app = FastAPI()


@app.post("/form-individual")
async def form_individual(
    field_1: Annotated[bool, Form()] = True,
    field_2: Annotated[str | None, Form()] = None,
) -> dict:
    return {"field_1": field_1, "field_2": field_2}


@app.post("/attribute")
async def attribute_form(attribute: Annotated[str | None, Form()] = None) -> dict:
    return {"attribute": attribute}
