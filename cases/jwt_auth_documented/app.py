"""The guide's application: JWT auth and items on async SQLAlchemy + SQLite, as printed.

Auth schemas, the ``get_current_user`` dependency, the register / login / me router, the items
model and schemas, the items router's create and the "Protect Routes" snippet pasted into that
router. Built by ``build_app(settings, service)`` so that every test module gets its own SQLite
file, and so that the current-tutorial case can run the same app on its own password and token
libraries: everything the two stacks do differently is in their ``service`` module.

Two deliberate departures: the service functions take the secret instead of reading a global
``settings`` (the app passes ``settings.SECRET_KEY``), and the login's check
``not user or not verify_password(...)`` is the service's ``authenticate`` (the guide's
service.py writes it exactly as the guide's router does; the tutorial's adds its dummy hash).
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from enum import Enum
from types import ModuleType

from fastapi import APIRouter, Depends, FastAPI, HTTPException, status
from fastapi.security import OAuth2PasswordBearer, OAuth2PasswordRequestForm
from pydantic import BaseModel, ConfigDict, EmailStr, Field
from sqlalchemy import DateTime, Float, String, select
from sqlalchemy import Enum as SQLEnum
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from .config import Settings

# The path the Protect Routes snippet gets in the items router: its "/items" under the "/items" prefix.
PROTECTED_CREATE = "/items/items"


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True, index=True)
    hashed_password: Mapped[str] = mapped_column(String(200))


class ItemStatus(str, Enum):
    DRAFT = "draft"
    PUBLISHED = "published"
    ARCHIVED = "archived"


class Item(Base):
    """The guide's items model: no owner column (the Protect Routes snippet passes ``user_id``)."""

    __tablename__ = "items"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    description: Mapped[str | None] = mapped_column(String(500), nullable=True)
    price: Mapped[float] = mapped_column(Float)
    status: Mapped[ItemStatus] = mapped_column(SQLEnum(ItemStatus), default=ItemStatus.DRAFT)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=datetime.utcnow)


class UserCreate(BaseModel):
    email: EmailStr
    password: str


class UserResponse(BaseModel):
    id: int
    email: str

    model_config = ConfigDict(from_attributes=True)  # the guide forgot to import ConfigDict


class Token(BaseModel):
    access_token: str
    token_type: str = "bearer"


class ItemCreate(BaseModel):
    name: str = Field(..., min_length=1, max_length=100)
    description: str | None = Field(None, max_length=500)
    price: float = Field(..., gt=0)
    status: ItemStatus = ItemStatus.DRAFT


class ItemResponse(ItemCreate):
    id: int
    created_at: datetime

    model_config = ConfigDict(from_attributes=True)


def create_app(settings: Settings) -> FastAPI:
    """The guide's app on the guide's stack (imported here: the other case has no passlib/jose)."""
    from . import service

    return build_app(settings, service)


def build_app(settings: Settings, service: ModuleType) -> FastAPI:
    engine = create_async_engine(settings.DATABASE_URL)
    async_session = async_sessionmaker(engine, expire_on_commit=False)

    async def get_db() -> AsyncIterator[AsyncSession]:
        async with async_session() as session:
            try:
                yield session
                await session.commit()
            except Exception:
                await session.rollback()
                raise

    oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/auth/login")

    async def get_current_user(token: str = Depends(oauth2_scheme), db: AsyncSession = Depends(get_db)) -> User:
        credentials_exception = HTTPException(
            status_code=status.HTTP_401_UNAUTHORIZED,
            detail="Could not validate credentials",
            headers={"WWW-Authenticate": "Bearer"},
        )
        payload = service.decode_token(token, settings.SECRET_KEY)
        if payload is None:
            raise credentials_exception
        user_id = payload.get("sub")
        if user_id is None:
            raise credentials_exception
        result = await db.execute(select(User).where(User.id == int(user_id)))
        user = result.scalar_one_or_none()
        if user is None:
            raise credentials_exception
        return user

    auth_router = APIRouter(prefix="/auth", tags=["auth"])

    @auth_router.post("/register", response_model=UserResponse)
    async def register(user_in: UserCreate, db: AsyncSession = Depends(get_db)):
        result = await db.execute(select(User).where(User.email == user_in.email))
        if result.scalar_one_or_none():
            raise HTTPException(status_code=400, detail="Email already registered")
        user = User(email=user_in.email, hashed_password=service.hash_password(user_in.password))
        db.add(user)
        await db.commit()
        await db.refresh(user)
        return user

    @auth_router.post("/login", response_model=Token)
    async def login(form_data: OAuth2PasswordRequestForm = Depends(), db: AsyncSession = Depends(get_db)):
        result = await db.execute(select(User).where(User.email == form_data.username))
        user = result.scalar_one_or_none()
        if not service.authenticate(user, form_data.password):
            raise HTTPException(status_code=status.HTTP_401_UNAUTHORIZED, detail="Incorrect email or password")
        # As printed: no expires_delta, so ACCESS_TOKEN_EXPIRE_MINUTES is never read.
        token = service.create_access_token({"sub": str(user.id)}, settings.SECRET_KEY)
        return Token(access_token=token)

    @auth_router.get("/me", response_model=UserResponse)
    async def get_me(current_user: User = Depends(get_current_user)):
        return current_user

    items_router = APIRouter(prefix="/items", tags=["items"])

    @items_router.post("", response_model=ItemResponse, status_code=status.HTTP_201_CREATED)
    async def create_item(item_in: ItemCreate, db: AsyncSession = Depends(get_db)):
        item = Item(**item_in.model_dump())
        db.add(item)
        await db.commit()
        await db.refresh(item)
        return item

    # "Protect Routes", pasted into the items router (the guide names it create_item too).
    @items_router.post("/items")
    async def create_protected_item(
        item_in: ItemCreate,
        current_user: User = Depends(get_current_user),
        db: AsyncSession = Depends(get_db),
    ):
        item = Item(**item_in.model_dump(), user_id=current_user.id)
        # The guide elides the rest ("# ..."); the items router's create continues like this.
        db.add(item)
        await db.commit()
        await db.refresh(item)
        return item

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with engine.begin() as conn:
            await conn.run_sync(Base.metadata.create_all)
        yield
        # Not in the guide: without it aiosqlite worker threads outlive the test module.
        await engine.dispose()

    app = FastAPI(lifespan=lifespan)
    app.include_router(auth_router)
    app.include_router(items_router)
    return app
