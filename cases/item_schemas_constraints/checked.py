"""Ours, not the guide's: an update schema that keeps ItemBase's 500-character description limit."""

from typing import Optional

from pydantic import Field

from .guide import schemas


class ItemUpdateChecked(schemas.ItemUpdate):
    description: Optional[str] = Field(None, max_length=500)
