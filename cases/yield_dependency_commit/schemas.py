from pydantic import BaseModel


class ItemIn(BaseModel):
    sku: str
    note: str
