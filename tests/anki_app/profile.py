"""A throwaway Anki base folder that opens straight into a profile: no language, sync or update dialogs.

Anki keeps its preferences in `prefs21.db` (table `profiles`, one pickled dict per profile plus `_global`).
Writing it beforehand is what a returning user has: the first-run language chooser only appears when the file
is missing. `gldriver6` containing `software` makes Qt draw without a GPU, as under Xvfb it must.
"""

from __future__ import annotations

import pickle
import sqlite3
from pathlib import Path

PROFILE = "User 1"

#: The `_global` preferences: a chosen language, not a first run, and no network checks at start-up.
GLOBAL_META: dict[str, object] = {
    "ver": 0,
    "updates": False,
    "check_for_updates": False,
    "check_for_addon_updates": False,
    "created": 0,
    "id": 1,
    "lastMsg": 0,
    "suppressUpdate": True,
    "firstRun": False,
    "defaultLang": "en_US",
    "last_loaded_profile_name": PROFILE,
    "theme": 1,  # aqt.theme.Theme.LIGHT; the driver switches per shot
}

#: The profile itself: never sync, no backups (the collection is thrown away anyway).
PROFILE_META: dict[str, object] = {
    "mainWindowGeom": None,
    "mainWindowState": None,
    "numBackups": 0,
    "lastOptimize": 0,
    "searchHistory": [],
    "syncKey": None,
    "syncMedia": False,
    "autoSync": False,
    "allowHTML": False,
    "importMode": 1,
    "lastColour": "#00f",
    "stripHTML": True,
    "deleteMedia": False,
}

ADDON_NAME = "deckforge_screenshots"
ADDON_INIT = '"""Deckforge screenshot driver (tests/anki_app/driver.py); does nothing without its job file."""\n' + (
    "from tests.anki_app.driver import install\n\ninstall()\n"
)
ADDON_MANIFEST = '{"name": "Deckforge screenshots", "package": "deckforge_screenshots"}\n'


def write_base(base: Path) -> Path:
    """Fill `base` with preferences, the software-GL switch and the driver add-on; returns the add-on folder."""
    base.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(base / "prefs21.db") as db:
        db.execute("create table if not exists profiles (name text primary key collate nocase, data blob not null)")
        for name, data in (("_global", GLOBAL_META), (PROFILE, PROFILE_META)):
            db.execute("insert or replace into profiles values (?, ?)", (name, pickle.dumps(data, protocol=4)))
    db.close()
    (base / "gldriver6").write_text("software", encoding="utf-8")
    addon = base / "addons21" / ADDON_NAME
    addon.mkdir(parents=True, exist_ok=True)
    (addon / "__init__.py").write_text(ADDON_INIT, encoding="utf-8")
    (addon / "manifest.json").write_text(ADDON_MANIFEST, encoding="utf-8")
    return addon


def collection_media(base: Path) -> Path:
    return base / PROFILE / "collection.media"
