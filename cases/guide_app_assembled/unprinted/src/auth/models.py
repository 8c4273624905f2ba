"""The users table. The guide's Project Structure lists auth/models.py and its auth code uses
``models.User`` (id, email, hashed_password), but the guide never shows this file: written here."""

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column
from src.database import Base


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True, index=True)
    hashed_password: Mapped[str] = mapped_column(String(200))
