"""Async engine, session factory, declarative base and the session dependency (the guide's Database Setup).

As in the guide, the URL is written here rather than taken from ``settings.DATABASE_URL``: a
relative SQLite file, so the database lands in the directory the server is started from.
"""

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine  # noqa: F401 - as in the guide
from sqlalchemy.orm import DeclarativeBase

DATABASE_URL = "sqlite+aiosqlite:///./database.db"

engine = create_async_engine(DATABASE_URL, echo=True)
async_session = async_sessionmaker(engine, expire_on_commit=False)


class Base(DeclarativeBase):
    pass


async def get_db():
    async with async_session() as session:
        try:
            yield session
            await session.commit()
        except Exception:
            await session.rollback()
            raise
