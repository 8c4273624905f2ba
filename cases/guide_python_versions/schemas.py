"""The document's Pydantic schemas (Core Patterns, JWT Authentication), annotated as it writes them.

No ``from __future__ import annotations``: every ``X | None`` below is evaluated when the class
body runs, which needs Python 3.10 (PEP 604).
"""

from enum import Enum

from pydantic import BaseModel, Field


class ItemStatus(str, Enum):
    DRAFT = "draft"
    PUBLISHED = "published"
    ARCHIVED = "archived"


class ItemBase(BaseModel):
    name: str = Field(..., min_length=1, max_length=100)
    description: str | None = Field(None, max_length=500)
    price: float = Field(..., gt=0, description="Price must be positive")
    status: ItemStatus = ItemStatus.DRAFT


class ItemUpdate(BaseModel):
    name: str | None = Field(None, min_length=1, max_length=100)
    description: str | None = None
    price: float | None = Field(None, gt=0)
    status: ItemStatus | None = None


class TokenData(BaseModel):
    user_id: int | None = None
