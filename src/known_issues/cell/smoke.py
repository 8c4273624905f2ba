"""Smoke check run inside a cell before its tests: does the framework import and answer?

A release can declare a Pydantic or Starlette compatible that it breaks with; this check tells
such a "compatibility finding" apart from the verdicts of the cases. It runs at the start of the
cell's pytest process (the plugin's ``--ki-smoke``), or on its own (``python -m``) when the cell has
no test to run. No `from __future__ import annotations` here: the models below are local and must
not become forward references.
"""

import json
import sys
import traceback


def expect(response: object, status: int, body: object) -> None:
    code = getattr(response, "status_code", None)
    if code != status or (body is not None and response.json() != body):  # type: ignore[attr-defined]
        text = getattr(response, "text", "")[:500]
        raise AssertionError(f"{response.request.method} {response.request.url.path} answered {code}: {text}")  # type: ignore[attr-defined]


def check() -> dict[str, object]:
    """``{"ok": True}``, or ``{"ok": False, "error": ..., "traceback": ...}``: never raises."""
    try:
        from typing import Annotated

        from fastapi import FastAPI, Form, Header, Path, Query
        from fastapi.testclient import TestClient
        from pydantic import BaseModel

        class Item(BaseModel):
            name: str
            price: float

        app = FastAPI()

        @app.post("/items")
        def create(item: Item) -> Item:
            return item

        # The parameter kinds every case leans on, declared the Annotated way.
        @app.post("/params/{item_id}")
        def params(
            item_id: Annotated[int, Path()],
            q: Annotated[str, Query()],
            x_token: Annotated[str, Header()],
            note: Annotated[str, Form()],
        ) -> dict[str, object]:
            return {"item_id": item_id, "q": q, "x_token": x_token, "note": note}

        with TestClient(app) as client:
            response = client.post("/items", json={"name": "x", "price": 1.5})
            expect(response, 200, {"name": "x", "price": 1.5})
            response = client.post("/params/7?q=a", headers={"x-token": "t"}, data={"note": "n"})
            expect(response, 200, {"item_id": 7, "q": "a", "x_token": "t", "note": "n"})
            schema = client.get("/openapi.json")
            expect(schema, 200, None)
    except BaseException as exc:
        frames = traceback.format_exception(type(exc), exc, exc.__traceback__)
        return {"ok": False, "error": f"{type(exc).__name__}: {exc}", "traceback": "".join(frames)[-3000:]}
    return {"ok": True}


def main() -> int:
    answer = check()
    print(json.dumps(answer))
    return 0 if answer["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
