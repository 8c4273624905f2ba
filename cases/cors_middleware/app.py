"""The guide's CORS configuration, the wildcard-with-credentials variant it warns against, and
an app without the middleware (the guide's stated cause of CORS errors)."""

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

FRONTEND = "http://localhost:3000"


def _with_items_route(app: FastAPI) -> FastAPI:
    @app.get("/items")
    async def list_items() -> dict[str, list[str]]:
        return {"items": []}

    return app


app = _with_items_route(FastAPI())
app.add_middleware(
    CORSMiddleware,
    allow_origins=[FRONTEND],
    allow_credentials=True,
    allow_methods=["*"],
    allow_headers=["*"],
)

wildcard_app = _with_items_route(FastAPI())
wildcard_app.add_middleware(
    CORSMiddleware,
    allow_origins=["*"],
    allow_credentials=True,
    allow_methods=["*"],
    allow_headers=["*"],
)

no_cors_app = _with_items_route(FastAPI())
