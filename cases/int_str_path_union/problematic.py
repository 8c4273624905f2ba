"""The guide's problematic routes: path parameters typed as a union with str.

Written as the guide writes them (``int | str``, evaluated when the routes are declared), so on
Python 3.9 this module does not import: the tests load it inside each test.
"""

from uuid import UUID

from fastapi import FastAPI

app = FastAPI()


@app.get("/int/{path}")
async def int_path(path: int | str) -> str:
    return str(type(path))


@app.get("/uuid/{path}")
async def uuid_path(path: UUID | str) -> str:
    return str(type(path))
