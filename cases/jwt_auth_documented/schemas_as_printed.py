"""The guide's ``src/auth/schemas.py`` with its imports exactly as printed.

The guide imports only ``BaseModel`` and ``EmailStr`` but uses ``ConfigDict`` in
``UserResponse``; importing this module shows whether the snippet runs as given.
app.py uses a corrected copy so that the rest of the stack can still be tested.
"""

from pydantic import BaseModel, EmailStr


class UserCreate(BaseModel):
    email: EmailStr
    password: str


class UserResponse(BaseModel):
    id: int
    email: str

    model_config = ConfigDict(from_attributes=True)  # noqa: F821 - missing import, as printed


class Token(BaseModel):
    access_token: str
    token_type: str = "bearer"


class TokenData(BaseModel):
    user_id: int | None = None
