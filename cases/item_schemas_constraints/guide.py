"""The guide's src/database.py, src/items/schemas.py and src/items/models.py, as printed (stored once in
cases/guide_code/printed), imported together for this case: the model's Base and ItemStatus are those
of the same import. database.py's module-level engine (./database.db) is created, never connected:
each app builds its own engine on a temporary file (app.py)."""

from ..guide_code.support_printed import guide_modules

_modules = guide_modules("src.database", "src.items.schemas", "src.items.models")
database = _modules["src.database"]
schemas = _modules["src.items.schemas"]
models = _modules["src.items.models"]
Base = database.Base
