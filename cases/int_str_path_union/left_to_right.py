"""Ours, not the guide's: Pydantic's union_mode="left_to_right" next to Path().

Needs Pydantic >= 2.2 and FastAPI >= 0.105.0. Spelled with ``Union`` so that it also runs on
Python 3.9, where the guide's own ``int | str`` does not.
"""

from typing import Annotated, Union

from fastapi import FastAPI, Path
from pydantic import Field

app = FastAPI()


@app.get("/left-to-right/{path}")
async def left_to_right_path(
    path: Annotated[Union[int, str], Path(), Field(union_mode="left_to_right")],
) -> str:
    return str(type(path))
