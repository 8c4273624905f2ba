"""Ours, not the guide's: an update schema that keeps ItemBase's 500-character description limit."""

from typing import Optional

from pydantic import Field

from .schemas import ItemUpdate


class ItemUpdateChecked(ItemUpdate):
    description: Optional[str] = Field(None, max_length=500)
