"""The guide's async SQLAlchemy setup and items router, built per database URL.

The guide's router has list, get and create only; the delete route (204) is ours, added because
the guide's own Critical Rules ask for 204 on delete.
"""

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

from fastapi import APIRouter, Depends, FastAPI, HTTPException, status
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from . import service
from .models import Base, Item
from .schemas import ItemCreate, ItemResponse


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

    @router.get("", response_model=list[ItemResponse])
    async def list_items(skip: int = 0, limit: int = 100, db: AsyncSession = Depends(get_db)) -> Sequence[Item]:
        return await service.list_items(db, skip, limit)

    @router.get("/{item_id}", response_model=ItemResponse)
    async def get_item(item_id: int, db: AsyncSession = Depends(get_db)) -> Item:
        item = await service.get_item(db, item_id)
        if not item:
            raise HTTPException(status_code=404, detail="Item not found")
        return item

    @router.post("", response_model=ItemResponse, status_code=status.HTTP_201_CREATED)
    async def create_item(item_in: ItemCreate, db: AsyncSession = Depends(get_db)) -> Item:
        return await service.create_item(db, item_in)

    @router.post("/no-refresh", response_model=ItemResponse, status_code=201)
    async def create_item_no_refresh(item_in: ItemCreate, db: AsyncSession = Depends(get_db)) -> Item:
        return await service.create_item_without_refresh(db, item_in)

    @router.delete("/{item_id}", status_code=status.HTTP_204_NO_CONTENT)
    async def delete_item(item_id: int, db: AsyncSession = Depends(get_db)) -> None:
        item = await service.get_item(db, item_id)
        if not item:
            raise HTTPException(status_code=404, detail="Item not found")
        await service.delete_item(db, item)

    app = FastAPI(lifespan=lifespan)
    app.include_router(router)
    return app
