"""Where the documented code lives: the guide's project, file by file, under ``project/``.

    project/.env                    the Configuration section's .env (a made-up SECRET_KEY)
    project/src/main.py             Main App: lifespan creating the tables, CORS, both routers
    project/src/config.py           Configuration: pydantic-settings with class Config, env_file=".env"
    project/src/database.py         Database Setup: aiosqlite engine on ./database.db, get_db
    project/src/items/...           Pydantic Schemas, SQLAlchemy Models, Router Pattern
    project/src/auth/...            Auth Schemas, Service, Dependencies, Router
    project/src/shared/exceptions.py  listed in Project Structure, never shown (empty)

Written from the guide's snippets with its absolute ``src.`` imports. Deviations, each marked in
its file: auth/schemas.py imports ConfigDict (the snippet uses it without importing it), and
auth/models.py is ours (the guide uses models.User but never shows the file). The tests copy the
folder to a temporary project root and serve it from there.
"""

from pathlib import Path

PROJECT = Path(__file__).with_name("project")
