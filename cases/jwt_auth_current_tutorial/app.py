"""The guide's app (jwt_auth_documented/app.py) on the current tutorial's libraries (service.py)."""

from fastapi import FastAPI

from ..jwt_auth_documented.app import build_app
from . import service


def create_app(database_url: str) -> FastAPI:
    return build_app(database_url, service)
