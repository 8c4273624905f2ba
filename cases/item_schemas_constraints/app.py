"""The guide's schemas and model behind its create/get routes, plus a PATCH (the guide has none).

One engine and SQLite file per app; get_db is the guide's (commit after yield, rollback on error).
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, Depends, FastAPI, HTTPException, status
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from . import service
from .checked import ItemUpdateChecked
from .guide import Base, models, schemas

Item = models.Item
ItemCreate, ItemResponse, ItemUpdate = schemas.ItemCreate, schemas.ItemResponse, schemas.ItemUpdate


def create_app(database_url: str) -> FastAPI:
    engine = create_async_engine(database_url)
    session_factory = async_sessionmaker(engine, expire_on_commit=False)

    async def get_db() -> AsyncIterator[AsyncSession]:
        async with session_factory() as session:
            try:
                yield session
                await session.commit()
            except Exception:
                await session.rollback()
                raise

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with engine.begin() as conn:
            await conn.run_sync(Base.metadata.create_all)
        yield
        await engine.dispose()

    router = APIRouter(prefix="/items", tags=["items"])

    async def load(db: AsyncSession, item_id: int) -> Item:
        item = await service.get_item(db, item_id)
        if item is None:
            raise HTTPException(status_code=404, detail="Item not found")
        return item

    @router.post("", response_model=ItemResponse, status_code=status.HTTP_201_CREATED)
    async def create_item(item_in: ItemCreate, db: AsyncSession = Depends(get_db)) -> Item:
        return await service.create_item(db, item_in)

    @router.get("/{item_id}", response_model=ItemResponse)
    async def read_item(item_id: int, db: AsyncSession = Depends(get_db)) -> Item:
        return await load(db, item_id)

    @router.patch("/{item_id}", response_model=ItemResponse)
    async def update_item(item_id: int, item_in: ItemUpdate, db: AsyncSession = Depends(get_db)) -> Item:
        return await service.update_item(db, await load(db, item_id), item_in)

    @router.patch("/{item_id}/checked", response_model=ItemResponse)
    async def update_item_checked(item_id: int, item_in: ItemUpdateChecked, db: AsyncSession = Depends(get_db)) -> Item:
        return await service.update_item(db, await load(db, item_id), item_in)

    app = FastAPI(lifespan=lifespan)
    app.include_router(router)
    return app
