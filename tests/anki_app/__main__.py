"""`python -m tests.anki_app`: photograph the built decks in the real Anki desktop app (see runner.py)."""

from tests.anki_app.runner import main

raise SystemExit(main())
