"""The declarative Base of the guide's src/database.py; the engine and get_db are built per app (app.py)."""

from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    pass
