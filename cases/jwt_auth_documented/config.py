"""The guide's src/config.py (Configuration) as printed, stored once in cases/guide_code/printed.

Imported afresh when this module is first imported: its ``settings = Settings()`` is made then, where
the suite's ``guide_settings`` fixture imports this module (no .env, none of its variables set).
Both JWT cases read these settings (the current tutorial's service too).
"""

from ..guide_code.support_printed import guide_modules

module = guide_modules("src.config")["src.config"]
Settings = module.Settings
settings = module.settings
