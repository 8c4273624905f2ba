"""The guide's Deployment: Docker section, as the files a developer adds to the project.

DOCKERFILE is the guide's Dockerfile as printed (stored once in cases/guide_code/printed, declared in
case.toml's [[printed]]); the rehearsal parses it (support_dockerfile) and runs what it says. The
rest of the build context is guide_app_assembled's project (src/, .env and the Testing section's
tests/test_main.py). The guide gives no .dockerignore.
"""

from ..guide_code.support_printed import DOCKERFILE as DOCKERFILE_PATH

DOCKERFILE = DOCKERFILE_PATH.read_text(encoding="utf-8")
