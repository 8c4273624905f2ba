"""The guide's Minimal Working Example (its ``src/main.py``): one model, a greeting and an echo route.

Kept as printed: an app titled "My API", ``GET /`` returning a greeting, ``POST /items`` taking an
``Item`` body and returning it (no status code declared, so the default 200 applies).
"""

from fastapi import FastAPI
from pydantic import BaseModel

app = FastAPI(title="My API")


class Item(BaseModel):
    name: str
    price: float


@app.get("/")
async def root():
    return {"message": "Hello World"}


@app.post("/items")
async def create_item(item: Item):
    return item
