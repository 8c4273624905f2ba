"""The document's minimal app shape, tested with the document's Testing pattern and with TestClient."""

from fastapi import FastAPI, Request, status
from pydantic import BaseModel

app = FastAPI(title="My API")


class Item(BaseModel):
    name: str
    price: float


@app.get("/")
async def root() -> dict:
    return {"message": "Hello World"}


@app.post("/items", status_code=status.HTTP_201_CREATED)
async def create_item(item: Item) -> Item:
    return item


@app.post("/echo")
async def echo(request: Request) -> dict:
    # What reached the app: the document's test client is judged by what it delivers.
    return {
        "method": request.method,
        "url": str(request.url),
        "json": await request.json(),
        "x_probe": request.headers.get("x-probe"),
    }


@app.get("/authorization")
async def authorization(request: Request) -> dict:
    # Echoes what the client sent, to see whether an auth object reached the request.
    return {"authorization": request.headers.get("authorization")}
