"""Source of the guide's test module, written to a temporary folder and run by a nested pytest.

It mirrors the guide's tests/test_main.py: a plain ``@pytest.fixture`` that is an async
generator, used by ``@pytest.mark.asyncio`` tests. The app is trivial on purpose: only the
fixture style is under test here.
"""

SOURCE = """
import pytest
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient

app = FastAPI()


@app.get("/")
async def root():
    return {"ok": True}


@pytest.fixture
async def client():
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://test") as ac:
        yield ac


@pytest.mark.asyncio
async def test_root(client):
    response = await client.get("/")
    assert response.status_code == 200
"""
