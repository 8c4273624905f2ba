"""The document's ORM model: SQLEnum over the str Enum, created_at from datetime.utcnow."""

from datetime import datetime

from sqlalchemy import DateTime, Float, String
from sqlalchemy import Enum as SQLEnum
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from .schemas import ItemStatus


class Base(DeclarativeBase):
    pass


class Item(Base):
    __tablename__ = "items"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    description: Mapped[str | None] = mapped_column(String(500), nullable=True)
    price: Mapped[float] = mapped_column(Float)
    status: Mapped[ItemStatus] = mapped_column(SQLEnum(ItemStatus), default=ItemStatus.DRAFT)
    # utcnow gives a naive datetime (and is deprecated from Python 3.12): kept to test it.
    created_at: Mapped[datetime] = mapped_column(DateTime, default=datetime.utcnow)
