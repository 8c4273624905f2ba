"""The guide's Deployment: Docker section, as the files a developer adds to the project.

DOCKERFILE is the guide's Dockerfile as printed (the file ``Dockerfile`` beside this module,
declared in case.toml's [[printed]]); the rehearsal parses it (support_dockerfile) and runs what
it says. GUIDE_TESTS stands for the Testing section's tests/test_main.py: only its presence in the
build context matters here. The guide gives no .dockerignore.
"""

from pathlib import Path

DOCKERFILE = Path(__file__).with_name("Dockerfile").read_text(encoding="utf-8")

GUIDE_TESTS = """\
from httpx import ASGITransport, AsyncClient

from src.main import app
"""
