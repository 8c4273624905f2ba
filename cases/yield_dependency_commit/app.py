"""The guide's get_db (commit after yield, rollback on error) and routes around it.

`events` records, in order, when the route returned, when the last response byte was handed to
the server, and what get_db did after yield: the tests read the ordering from it.
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import BackgroundTasks, Depends, FastAPI, HTTPException
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from known_issues.casekit import has

from . import service
from .models import Base
from .schemas import ItemIn

HAS_SCOPE = has("fastapi>=0.121.0")  # Depends(..., scope=...) was added in 0.121.0


class RecordResponseSent:
    """Pure ASGI middleware: notes the moment the final body chunk is sent.

    It also counts the HTTP requests the app has not finished with yet (``in_flight``): whatever
    runs after the response (get_db's exit, background tasks) runs inside the app call, so
    ``in_flight == 0`` means the server holds no pending work and the next test can start.
    """

    def __init__(self, app: ASGIApp, events: list[str], in_flight: list[int]) -> None:
        self.app = app
        self.events = events
        self.in_flight = in_flight

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_and_record(message: Message) -> None:
            await send(message)
            if message["type"] == "http.response.body" and not message.get("more_body"):
                self.events.append("response_sent")

        self.in_flight[0] += 1
        try:
            await self.app(scope, receive, send_and_record)
        finally:
            self.in_flight[0] -= 1


def create_app(database_url: str) -> FastAPI:
    engine = create_async_engine(database_url)
    session_factory = async_sessionmaker(engine, expire_on_commit=False)
    events: list[str] = []

    async def get_db() -> AsyncIterator[AsyncSession]:
        # The guide's dependency; only the events.append lines are ours.
        try:
            async with session_factory() as session:
                try:
                    yield session
                    events.append("commit")
                    await session.commit()
                except Exception:
                    events.append("rollback")
                    await session.rollback()
                    raise
        finally:
            events.append("closed")

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with engine.begin() as conn:
            await conn.run_sync(Base.metadata.create_all)
        yield
        await engine.dispose()

    in_flight = [0]
    app = FastAPI(lifespan=lifespan)
    app.add_middleware(RecordResponseSent, events=events, in_flight=in_flight)
    app.state.events = events
    app.state.in_flight = in_flight

    @app.post("/commit-after-yield", status_code=201)
    async def commit_after_yield(
        item: ItemIn, tasks: BackgroundTasks, db: AsyncSession = Depends(get_db)
    ) -> dict[str, Any]:
        service.add_item(db, item)
        tasks.add_task(events.append, "background_task")
        events.append("route_returned")
        return {"created": item.sku}

    @app.post("/commit-in-route", status_code=201)
    async def commit_in_route(item: ItemIn, db: AsyncSession = Depends(get_db)) -> dict[str, Any]:
        await service.add_and_commit(db, item)
        events.append("route_returned")
        return {"created": item.sku}

    @app.post("/raise-after-add", status_code=201)
    async def raise_after_add(item: ItemIn, db: AsyncSession = Depends(get_db)) -> dict[str, Any]:
        service.add_item(db, item)
        await db.flush()
        raise HTTPException(status_code=409, detail="refused after the row was added")

    if HAS_SCOPE:

        @app.post("/function-scope", status_code=201)
        async def function_scope(item: ItemIn, db: AsyncSession = Depends(get_db, scope="function")) -> dict[str, Any]:
            service.add_item(db, item)
            events.append("route_returned")
            return {"created": item.sku}

        # Declared in dependencies=[...] (a "parameterless" dependency): 0.121.0 ignored the scope
        # there, fixed in 0.121.1 (fastapi/fastapi#14301).
        @app.post(
            "/function-scope-decorator",
            status_code=201,
            dependencies=[Depends(get_db, scope="function")],
        )
        async def function_scope_decorator() -> dict[str, Any]:
            events.append("route_returned")
            return {"created": None}

    return app
