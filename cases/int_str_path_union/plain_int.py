"""The guide's fix: the path parameter typed as plain int."""

from fastapi import FastAPI

app = FastAPI()


@app.get("/int/{path}")
async def int_path(path: int) -> str:
    return str(type(path))
