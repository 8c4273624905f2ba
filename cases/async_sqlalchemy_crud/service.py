"""Data access for items; the routes only translate to HTTP."""

from collections.abc import Sequence
from typing import Optional

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from .models import Item
from .schemas import ItemCreate


async def list_items(db: AsyncSession, skip: int, limit: int) -> Sequence[Item]:
    # As in the guide: no ORDER BY, so the page order is whatever SQLite returns (rowid order).
    result = await db.execute(select(Item).offset(skip).limit(limit))
    return result.scalars().all()


async def get_item(db: AsyncSession, item_id: int) -> Optional[Item]:
    result = await db.execute(select(Item).where(Item.id == item_id))
    return result.scalar_one_or_none()


async def create_item(db: AsyncSession, data: ItemCreate) -> Item:
    item = Item(**data.model_dump())
    db.add(item)
    await db.commit()
    await db.refresh(item)
    return item


async def create_item_without_refresh(db: AsyncSession, data: ItemCreate) -> Item:
    item = Item(**data.model_dump())
    db.add(item)
    await db.commit()
    # No refresh: readable afterwards only because the sessionmaker has expire_on_commit=False.
    return item


async def delete_item(db: AsyncSession, item: Item) -> None:
    await db.delete(item)
    await db.commit()
