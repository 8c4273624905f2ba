"""The guide's fix, for a query parameter: typed as plain int."""

from fastapi import FastAPI

app = FastAPI()


@app.get("/int")
async def int_query(value: int) -> str:
    return str(type(value))
