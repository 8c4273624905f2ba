"""Service functions: one leaves the commit to get_db, one commits itself (the guide's router)."""

from sqlalchemy.ext.asyncio import AsyncSession

from .models import Item
from .schemas import ItemIn


def add_item(db: AsyncSession, data: ItemIn) -> None:
    # No flush: the INSERT (and a UNIQUE violation) only happens at the commit after yield.
    db.add(Item(sku=data.sku, note=data.note))


async def add_and_commit(db: AsyncSession, data: ItemIn) -> None:
    db.add(Item(sku=data.sku, note=data.note))
    await db.commit()
