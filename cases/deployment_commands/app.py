"""Minimal app that each deployment command must serve; the tests copy it to ``src/main.py``.

The document's commands address it as ``src/main.py`` (fastapi CLI) or ``src.main:app``
(uvicorn, gunicorn), so the tests lay it out that way in a temporary project folder.
"""

from fastapi import FastAPI

app = FastAPI()

GREETING = {"served_by": "deployment_commands"}


@app.get("/")
async def root() -> dict[str, str]:
    return GREETING
