"""The guide's JWT application assembled from its snippets: auth and items on async SQLAlchemy + SQLite.

Not one of the guide's files: the guide spreads this code over src/database.py, src/auth/ (models,
dependencies, router), src/items/ (models, router) and src/main.py, which share one module-level
engine on ./database.db. Here they are one builder, ``build_app(database_url, service)``, so that
every test module gets its own SQLite file and jwt_auth_current_tutorial can run the same app on
its own password and token libraries (its ``service`` module). The route bodies, columns and
status codes are the guide's; every departure is a [[deviations]] entry of case.toml. The
snippets that are modules on their own (config, auth schemas, auth service, item schemas) are
imported as printed from cases/guide_code/printed (config.py and service.py of this folder load them).
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from types import ModuleType

from fastapi import APIRouter, Depends, FastAPI, HTTPException, status
from fastapi.security import OAuth2PasswordBearer, OAuth2PasswordRequestForm
from pydantic import ConfigDict
from sqlalchemy import DateTime, Float, String, select
from sqlalchemy import Enum as SQLEnum
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from ..guide_code.support_printed import guide_modules

# The guide's Pydantic Schemas and Auth Schemas as printed; Auth Schemas uses ConfigDict without
# importing it, so the name is provided to the module (a deviation of case.toml).
_schemas = guide_modules(
    "src.items.schemas", "src.auth.schemas", provide={"src.auth.schemas": {"ConfigDict": ConfigDict}}
)
items_schemas = _schemas["src.items.schemas"]
auth_schemas = _schemas["src.auth.schemas"]
ItemStatus = items_schemas.ItemStatus


class Base(DeclarativeBase):
    pass


class User(Base):
    """Ours: the guide's auth code uses ``models.User`` but never prints src/auth/models.py."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True, index=True)
    hashed_password: Mapped[str] = mapped_column(String(200))


class Item(Base):
    """The guide's src/items/models.py: no owner column, although Protect Routes passes ``user_id``."""

    __tablename__ = "items"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    description: Mapped[str | None] = mapped_column(String(500), nullable=True)
    price: Mapped[float] = mapped_column(Float)
    status: Mapped[ItemStatus] = mapped_column(SQLEnum(ItemStatus), default=ItemStatus.DRAFT)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=datetime.utcnow)


def create_app(database_url: str) -> FastAPI:
    """The guide's app on the guide's stack (imported here: passlib and jose load only when used)."""
    from . import service

    return build_app(database_url, service)


def build_app(database_url: str, service: ModuleType) -> FastAPI:
    # src/database.py, with the URL given instead of its hard-coded "sqlite+aiosqlite:///./database.db".
    engine = create_async_engine(database_url, echo=True)
    async_session = async_sessionmaker(engine, expire_on_commit=False)

    async def get_db():
        async with async_session() as session:
            try:
                yield session
                await session.commit()
            except Exception:
                await session.rollback()
                raise

    # src/auth/dependencies.py
    oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/auth/login")

    async def get_current_user(token: str = Depends(oauth2_scheme), db: AsyncSession = Depends(get_db)) -> User:
        credentials_exception = HTTPException(
            status_code=status.HTTP_401_UNAUTHORIZED,
            detail="Could not validate credentials",
            headers={"WWW-Authenticate": "Bearer"},
        )

        payload = service.decode_token(token)
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

    # src/auth/router.py
    auth_router = APIRouter(prefix="/auth", tags=["auth"])

    @auth_router.post("/register", response_model=auth_schemas.UserResponse)
    async def register(user_in: auth_schemas.UserCreate, db: AsyncSession = Depends(get_db)):
        result = await db.execute(select(User).where(User.email == user_in.email))
        if result.scalar_one_or_none():
            raise HTTPException(status_code=400, detail="Email already registered")

        user = User(email=user_in.email, hashed_password=service.hash_password(user_in.password))
        db.add(user)
        await db.commit()
        await db.refresh(user)
        return user

    @auth_router.post("/login", response_model=auth_schemas.Token)
    async def login(form_data: OAuth2PasswordRequestForm = Depends(), db: AsyncSession = Depends(get_db)):
        result = await db.execute(select(User).where(User.email == form_data.username))
        user = result.scalar_one_or_none()

        # The guide's `if not user or not service.verify_password(...)`, in the service (see service.py).
        if not service.authenticate(user, form_data.password):
            raise HTTPException(status_code=status.HTTP_401_UNAUTHORIZED, detail="Incorrect email or password")

        access_token = service.create_access_token(data={"sub": str(user.id)})
        return auth_schemas.Token(access_token=access_token)

    @auth_router.get("/me", response_model=auth_schemas.UserResponse)
    async def get_me(current_user: User = Depends(get_current_user)):
        return current_user

    # src/items/router.py
    items_router = APIRouter(prefix="/items", tags=["items"])

    @items_router.get("", response_model=list[items_schemas.ItemResponse])
    async def list_items(skip: int = 0, limit: int = 100, db: AsyncSession = Depends(get_db)):
        result = await db.execute(select(Item).offset(skip).limit(limit))
        return result.scalars().all()

    @items_router.get("/{item_id}", response_model=items_schemas.ItemResponse)
    async def get_item(item_id: int, db: AsyncSession = Depends(get_db)):
        result = await db.execute(select(Item).where(Item.id == item_id))
        item = result.scalar_one_or_none()
        if not item:
            raise HTTPException(status_code=404, detail="Item not found")
        return item

    @items_router.post("", response_model=items_schemas.ItemResponse, status_code=status.HTTP_201_CREATED)
    async def create_item(item_in: items_schemas.ItemCreate, db: AsyncSession = Depends(get_db)):
        item = Item(**item_in.model_dump())
        db.add(item)
        await db.commit()
        await db.refresh(item)
        return item

    # Protect Routes ("In any router"): in the items router, so its "/items" is /items/items.
    @items_router.post("/items")
    async def create_item(  # noqa: F811 - the guide's name; the route above is already registered
        item_in: items_schemas.ItemCreate,
        current_user: User = Depends(get_current_user),  # Requires auth
        db: AsyncSession = Depends(get_db),
    ):
        item = Item(**item_in.model_dump(), user_id=current_user.id)
        # The guide's "# ..."; ours ends as the items router's create does.
        db.add(item)
        await db.commit()
        await db.refresh(item)
        return item

    # src/main.py
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with engine.begin() as conn:
            await conn.run_sync(Base.metadata.create_all)
        yield
        # Ours: without it aiosqlite's worker threads outlive the test module.
        await engine.dispose()

    app = FastAPI(title="My API", lifespan=lifespan)
    app.include_router(auth_router)
    app.include_router(items_router)
    return app
