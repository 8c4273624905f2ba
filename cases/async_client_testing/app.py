"""The guide's app shape: tables are created in the lifespan, routes use an async SQLite session.

``build_app`` makes a fresh app per test around a real SQLite file, so whether the lifespan ran
is visible both in ``events`` and in the database (no table without it).
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi import Depends, FastAPI, status
from pydantic import BaseModel
from sqlalchemy import Float, String, select
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class Item(Base):
    __tablename__ = "items"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    price: Mapped[float] = mapped_column(Float)


class ItemCreate(BaseModel):
    name: str
    price: float


@dataclass
class Built:
    app: FastAPI
    engine: AsyncEngine
    events: list[str] = field(default_factory=list)


def build_app(db_path: Path) -> Built:
    engine = create_async_engine(f"sqlite+aiosqlite:///{db_path}")
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    events: list[str] = []

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        events.append("startup")
        async with engine.begin() as conn:
            await conn.run_sync(Base.metadata.create_all)
        yield
        events.append("shutdown")
        await engine.dispose()

    async def get_db() -> AsyncIterator[AsyncSession]:
        async with sessions() as session:
            yield session

    app = FastAPI(lifespan=lifespan)

    @app.get("/")
    async def root() -> dict[str, str]:
        return {"status": "ok"}  # needs nothing from the lifespan

    @app.post("/items", status_code=status.HTTP_201_CREATED)
    async def create_item(item_in: ItemCreate, db: AsyncSession = Depends(get_db)) -> dict[str, Any]:
        item = Item(**item_in.model_dump())
        db.add(item)
        await db.commit()
        return {"id": item.id, "name": item.name, "price": item.price}

    @app.get("/items")
    async def list_items(db: AsyncSession = Depends(get_db)) -> list[dict[str, Any]]:
        rows = (await db.execute(select(Item).order_by(Item.id))).scalars().all()
        return [{"id": r.id, "name": r.name, "price": r.price} for r in rows]

    return Built(app=app, engine=engine, events=events)
