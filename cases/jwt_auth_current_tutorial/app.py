"""The guide's app (jwt_auth_documented/app.py) on the current tutorial's libraries (service.py)."""

from fastapi import FastAPI

from ..jwt_auth_documented.app import build_app
from ..jwt_auth_documented.config import Settings
from . import service


def create_app(settings: Settings) -> FastAPI:
    return build_app(settings, service)
