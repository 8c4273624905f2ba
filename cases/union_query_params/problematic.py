"""Query parameters typed as a union with str (the guide's Issue #6 says path *and* query).

The guide's problematic path routes moved to the query string. Written as the guide writes its
annotations (``int | str``, evaluated when the routes are declared), so on Python 3.9 this module
does not import: the tests load it inside each test.
"""

from uuid import UUID

from fastapi import FastAPI

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
