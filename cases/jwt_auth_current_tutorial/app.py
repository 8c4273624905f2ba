"""The guide's register / login / me app, rebuilt on the current FastAPI tutorial's libraries.

Routes, models and ``sub`` = str(user id) are the guide's (so the two cases compare like with
like); hashing and tokens come from service.py (pwdlib Argon2 + PyJWT). Two tutorial habits
are kept: the dummy hash for unknown users and the WWW-Authenticate header on a failed login.
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, Depends, FastAPI, HTTPException, status
from fastapi.security import OAuth2PasswordBearer, OAuth2PasswordRequestForm
from pydantic import BaseModel, ConfigDict, EmailStr
from pydantic_settings import BaseSettings
from sqlalchemy import String, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from . import service


class Settings(BaseSettings):
    DATABASE_URL: str
    SECRET_KEY: str
    ACCESS_TOKEN_EXPIRE_MINUTES: int = 30


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True, index=True)
    hashed_password: Mapped[str] = mapped_column(String(200))


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


def create_app(settings: Settings) -> FastAPI:
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

    async def get_current_user(
        token: str = Depends(oauth2_scheme), db: AsyncSession = Depends(get_db)
    ) -> User:
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

    router = APIRouter(prefix="/auth", tags=["auth"])

    @router.post("/register", response_model=UserResponse)
    async def register(user_in: UserCreate, db: AsyncSession = Depends(get_db)):
        result = await db.execute(select(User).where(User.email == user_in.email))
        if result.scalar_one_or_none():
            raise HTTPException(status_code=400, detail="Email already registered")
        user = User(email=user_in.email, hashed_password=service.hash_password(user_in.password))
        db.add(user)
        await db.commit()
        await db.refresh(user)
        return user

    @router.post("/login", response_model=Token)
    async def login(
        form_data: OAuth2PasswordRequestForm = Depends(), db: AsyncSession = Depends(get_db)
    ):
        result = await db.execute(select(User).where(User.email == form_data.username))
        user = result.scalar_one_or_none()
        # Verifying against a dummy hash keeps the unknown-user path as slow as a wrong password.
        hashed = user.hashed_password if user else service.DUMMY_HASH
        if not service.verify_password(form_data.password, hashed) or not user:
            raise HTTPException(
                status_code=status.HTTP_401_UNAUTHORIZED,
                detail="Incorrect email or password",
                headers={"WWW-Authenticate": "Bearer"},
            )
        token = service.create_access_token({"sub": str(user.id)}, settings.SECRET_KEY)
        return Token(access_token=token)

    @router.get("/me", response_model=UserResponse)
    async def get_me(current_user: User = Depends(get_current_user)):
        return current_user

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with engine.begin() as conn:
            await conn.run_sync(Base.metadata.create_all)
        yield
        # Not in the guide: without it aiosqlite worker threads outlive the test module.
        await engine.dispose()

    app = FastAPI(lifespan=lifespan)
    app.include_router(router)
    return app
