"""The guide's src/auth/service.py (Auth Service) as printed, stored once in cases/guide_code/printed,
on this case's config.py (the settings made where the suite decided), plus ``authenticate``.

``authenticate`` is the login check of the guide's src/auth/router.py, moved here unchanged so that
jwt_auth_current_tutorial can run the same app with the tutorial's dummy-hash check (a deviation).
"""

from typing import Any

from ..guide_code.support_printed import guide_modules
from . import config

guide = guide_modules("src.auth.service", reuse={"src.config": config.module})["src.auth.service"]
pwd_context = guide.pwd_context
hash_password = guide.hash_password
verify_password = guide.verify_password
create_access_token = guide.create_access_token
decode_token = guide.decode_token


def authenticate(user: Any, password: str) -> bool:
    # The guide's: if not user or not service.verify_password(form_data.password, user.hashed_password)
    if not user or not verify_password(password, user.hashed_password):
        return False
    return True
