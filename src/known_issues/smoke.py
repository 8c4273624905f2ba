"""Smoke check run inside a cell before its tests: does the framework import and answer?

A release can declare a Pydantic or Starlette compatible that it breaks with; this check tells
such a "compatibility finding" apart from the verdicts of the cases. No `from __future__ import
annotations` here: the models below are local and must not become forward references.
"""

import json
import sys
import traceback


def main() -> int:
    try:
        from fastapi import FastAPI
        from fastapi.testclient import TestClient
        from pydantic import BaseModel

        class Item(BaseModel):
            name: str
            price: float

        app = FastAPI()

        @app.post("/items")
        def create(item: Item) -> Item:
            return item

        with TestClient(app) as client:
            response = client.post("/items", json={"name": "x", "price": 1.5})
            schema = client.get("/openapi.json")
        if response.status_code != 200 or response.json() != {"name": "x", "price": 1.5}:
            raise AssertionError(f"POST /items answered {response.status_code}: {response.text[:500]}")
        if schema.status_code != 200:
            raise AssertionError(f"GET /openapi.json answered {schema.status_code}: {schema.text[:500]}")
    except BaseException as exc:
        frames = traceback.format_exception(exc)
        print(json.dumps({"ok": False, "error": f"{type(exc).__name__}: {exc}", "traceback": "".join(frames)[-3000:]}))
        return 1
    print(json.dumps({"ok": True}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
