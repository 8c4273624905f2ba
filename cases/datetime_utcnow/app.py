"""ORM models with the guide's ``default=datetime.utcnow`` and with its aware replacement.

Kept valid on Python 3.9: the matrix runs this case on 3.9 to 3.13 (no ``X | Y`` at runtime).
A synchronous engine is enough here: the question is what SQLite stores, not how it is awaited.
"""

from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import DateTime, Engine, String, create_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


def utc_now() -> datetime:
    """The replacement for ``datetime.utcnow()``: an aware datetime in UTC."""
    return datetime.now(timezone.utc)


class GuideItem(Base):
    """The guide's column: naive DateTime with the deprecated default."""

    __tablename__ = "guide_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=datetime.utcnow)


class AwareItem(Base):
    """The replacement: aware default, and a column that asks for timezone support."""

    __tablename__ = "aware_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utc_now)


def make_engine(db_path: Path) -> Engine:
    engine = create_engine(f"sqlite:///{db_path}")
    Base.metadata.create_all(engine)
    return engine
