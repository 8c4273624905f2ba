"""Auth schemas (the guide's Auth Schemas).

One line differs from the guide: it imports ``ConfigDict``, which the printed snippet uses but
never imports (as printed, importing this module raises NameError and no app starts at all; the
jwt_auth_documented case shows that on its own).
"""

from pydantic import BaseModel, ConfigDict, EmailStr


class UserCreate(BaseModel):
    email: EmailStr
    password: str


class UserResponse(BaseModel):
    id: int
    email: str

    model_config = ConfigDict(from_attributes=True)


class Token(BaseModel):
    access_token: str
    token_type: str = "bearer"


class TokenData(BaseModel):
    user_id: int | None = None
