"""The document's Issue #4 route: Pydantic's Json type on a form field, declared as the guide does.

Importable under Pydantic v1 too (``Json[...]`` and ``Annotated`` with ``Form()`` exist there), so
the message a v1 client reads can be compared with the one the document quotes.
"""

from typing import Annotated

from fastapi import FastAPI, Form
from pydantic import Json

app = FastAPI()


@app.post("/broken")
async def broken(json_list: Annotated[Json[list[str]], Form()]) -> list[str]:
    return json_list
