"""The guide's Deployment: Docker section, as the files a developer adds to the project.

DOCKERFILE is the guide's Dockerfile, line for line; the rehearsal parses it (support_dockerfile)
and runs what it says. GUIDE_TESTS stands for the Testing section's tests/test_main.py: only its
presence in the build context matters here. The guide gives no .dockerignore.
"""

DOCKERFILE = """\
FROM python:3.12-slim

WORKDIR /app
COPY . .

RUN pip install uv && uv sync

EXPOSE 8000
CMD ["uv", "run", "uvicorn", "src.main:app", "--host", "0.0.0.0", "--port", "8000"]
"""

GUIDE_TESTS = """\
from httpx import ASGITransport, AsyncClient

from src.main import app
"""
