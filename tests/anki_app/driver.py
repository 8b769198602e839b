"""The add-on that drives the real Anki desktop app: import, open each chosen card in the reviewer, photograph.

The runner puts a two-line add-on into the profile's `addons21/` that calls `install()`. On
`gui_hooks.main_window_did_init` the driver imports every package through the backend call the import dialog
makes, with the dialog's default options (`get_import_anki_package_presets`), records the deck tree, chooses
the cards (`plan.py`), then for each mode and window size shows the deck list and every card in the reviewer:
the card is put alone into a filtered deck, so Anki's own reviewer shows it exactly as a learner gets it.

Each shot waits until the card's page says it is done (images loaded, fonts ready, two frames painted, all
behind Anki's own render queue), grabs the window (`QWidget.grab()`), measures the page with JavaScript and
collects every console message the page logged. Everything goes to `raw.json`; `facts.py` turns it into facts.

The script is a generator that yields what it waits for (`Sleep`, `Eval`), driven by Qt timers and callbacks,
so the whole flow reads top to bottom and never blocks Qt's event loop.
"""

from __future__ import annotations

import json
import os
import time
import traceback
from collections.abc import Generator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from anki.decks import DeckId

from tests.anki_app.job import JOB_ENV, Job, Size, shot_name
from tests.anki_app.plan import Origin, Target, choose, note_views, read_origins

if TYPE_CHECKING:
    from anki.collection import Collection
    from aqt.main import AnkiQt

# Names the runner checks in raw.json: it only counts a run whose driver reached the end.
RAW_VERSION = 1


@dataclass(frozen=True)
class Sleep:
    ms: int


@dataclass(frozen=True)
class Eval:
    js: str


Step = Sleep | Eval
Script = Generator[Step, Any, None]

# Queued behind Anki's own render queue (`_queueAction`), so it runs after the card's HTML, scripts, MathJax
# and onShown hooks; then waits for every image and font and two painted frames.
_READY_JS = """
(function () {
  window.__deckforgeReady = 0;
  const token = TOKEN;
  const settle = async () => {
    await Promise.all(Array.from(document.images).map((img) => img.complete ? null :
      new Promise((done) => { img.addEventListener("load", done); img.addEventListener("error", done); })));
    if (document.fonts) { await document.fonts.ready; }
    await new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)));
    window.__deckforgeReady = token;
  };
  if (typeof _queueAction === "function") { _queueAction(settle); } else { settle(); }
  return true;
})()
"""

#: Where the answer starts on a card's back, first match wins: Anki's answer rule (`<hr id=answer>`, which
#: the reviewer scrolls to), else the deck's Back / Back Extra block (Image Occlusion has no rule).
ANSWER_START = ("#answer", ".df-back")

_MEASURE_JS = """
(function () {
  const page = document.scrollingElement || document.documentElement;
  const rect = (el) => { const r = el.getBoundingClientRect();
    return { left: r.left + window.scrollX, top: r.top + window.scrollY, width: r.width, height: r.height }; };
  const qa = document.getElementById("qa");
  const images = qa ? Array.from(qa.querySelectorAll("img")).map((img) => ({
    src: img.getAttribute("src") || "", alt: img.getAttribute("alt") || "", classes: img.className || "",
    natural: [img.naturalWidth, img.naturalHeight], box: rect(img), complete: img.complete,
    filter: getComputedStyle(img).filter,
  })) : [];
  const answer = qa ? ANSWER_START.map((s) => qa.querySelector(s)).find((el) => el) || null : null;
  const canvas = document.getElementById("image-occlusion-canvas");
  const typeans = qa ? qa.querySelector("#typeans") : null;
  return {
    viewport: [window.innerWidth, window.innerHeight],
    content_height: page.scrollHeight,
    scroll_y: window.scrollY,
    body_classes: document.body ? document.body.className : "",
    qa_text: qa ? qa.innerText.trim().slice(0, 200) : null,
    qa_box: qa ? rect(qa) : null,
    images: images,
    answer_top: answer ? rect(answer).top : null,
    occlusion_canvas: canvas ? rect(canvas) : null,
    // The type-in box (question) or Anki's comparison (answer), and the sound buttons Anki draws for [sound:].
    typeans: typeans ? { tag: typeans.tagName.toLowerCase(), box: rect(typeans), html: typeans.innerHTML,
      good: typeans.querySelectorAll(".typeGood").length, bad: typeans.querySelectorAll(".typeBad").length,
      missed: typeans.querySelectorAll(".typeMissed").length } : null,
    sound_buttons: qa ? Array.from(qa.querySelectorAll("a.replay-button")).map(rect) : [],
    // The deck list: each row's name and its collapse toggle ("+" collapsed, "-" expanded, "" no children).
    deck_rows: Array.from(document.querySelectorAll("tr.deck")).map((row) => {
      const name = row.querySelector("a.deck"), toggle = row.querySelector("a.collapse");
      return [name ? name.innerText.trim() : "", toggle ? toggle.innerText.trim() : ""];
    }),
  };
})()
""".replace("ANSWER_START", json.dumps(ANSWER_START))

_DECKS_READY_JS = 'document.readyState === "complete" && document.querySelectorAll("tr.deck").length > 0'


def install() -> None:
    """Entry point of the add-on shim: does nothing unless the runner's job file is named in the environment."""
    path = os.environ.get(JOB_ENV)
    if not path:
        return
    from aqt import gui_hooks

    driver = Driver(Job.read(Path(path)))
    gui_hooks.main_window_did_init.append(driver.start)


class Driver:
    def __init__(self, job: Job) -> None:
        self.job = job
        self.out = Path(job.out_dir)
        self.raw: dict[str, Any] = {"version": RAW_VERSION, "shots": {}, "errors": [], "finished": False}
        self.console: list[dict[str, Any]] = []
        self._script: Script | None = None
        self._token = 0
        self._filtered_deck: int = 0
        self._started = 0.0
        #: The files Anki's player was asked to play since the last card side was shown.
        self._played: list[str] = []

    # The step machine ------------------------------------------------------------------------------------

    def start(self) -> None:
        from aqt.qt import QTimer

        self._started = time.monotonic()
        self._hook_console()
        self._hook_player()
        self._script = self.script()
        # A run that stops making progress still writes what it has and quits: the runner reports it.
        self._watchdog = QTimer()
        self._watchdog.setSingleShot(True)
        self._watchdog.timeout.connect(lambda: self._fail("the driver stopped making progress"))
        self._advance(None)

    def _advance(self, value: Any) -> None:
        from aqt.qt import QTimer

        assert self._script is not None
        self._watchdog.start(self.job.render_timeout_ms * 2)
        try:
            step = self._script.send(value)
        except StopIteration:
            self._finish()
            return
        except Exception:
            self._fail(traceback.format_exc())
            return
        if isinstance(step, Sleep):
            QTimer.singleShot(step.ms, lambda: self._advance(None))
        else:
            self._mw().web.evalWithCallback(step.js, self._advance)

    def _fail(self, message: str) -> None:
        self.raw["errors"].append(message)
        self._finish()

    def _finish(self) -> None:
        self._watchdog.stop()
        self._script = None
        self.raw["seconds"] = round(time.monotonic() - self._started, 1)
        Path(self.job.raw_path).write_text(json.dumps(self.raw, indent=1, sort_keys=True), encoding="utf-8")
        self._mw().close()

    @staticmethod
    def _mw() -> AnkiQt:
        import aqt

        assert aqt.mw is not None
        return aqt.mw

    def _col(self) -> Collection:
        col = self._mw().col
        assert col is not None, "the profile's collection is not open"
        return col

    # The script ------------------------------------------------------------------------------------------

    def script(self) -> Script:
        mw = self._mw()
        self.out.mkdir(parents=True, exist_ok=True)
        self.raw["versions"] = _versions()
        yield from self._quiet()
        self.raw["imports"] = [self._import(Path(p)) for p in self.job.packages]
        mw.reset()
        yield from self._quiet()
        self.raw["decks"] = _deck_tree(self._col())
        origins: dict[str, Origin] = {}
        for package in self.job.packages:
            origins.update(read_origins(Path(package).with_suffix(".json")))
        targets, missing = choose(note_views(self._col(), origins), self.job.extra_notes, self.job.kinds)
        self.raw["targets"] = [asdict(t) for t in targets]
        self.raw["missing_kinds"] = missing
        for mode in self.job.modes:
            self._set_theme(mode)
            for size in self.job.sizes:
                yield from self._resize(size)
                yield from self._shoot_deck_list(mode, size)
                for target in targets:
                    yield from self._shoot_card(mode, size, target)
        self.raw["finished"] = True

    def _import(self, package: Path) -> dict[str, Any]:
        from anki.collection import ImportAnkiPackageRequest

        col = self._col()
        # The options the import dialog starts with: Anki's presets for a collection that never changed them.
        options = col._backend.get_import_anki_package_presets()
        response = col.import_anki_package(ImportAnkiPackageRequest(package_path=str(package), options=options))
        log = response.log
        return {
            "package": package.name,
            "options": {
                "merge_notetypes": options.merge_notetypes,
                "update_notes": int(options.update_notes),
                "update_notetypes": int(options.update_notetypes),
                "with_deck_configs": options.with_deck_configs,
                "with_scheduling": options.with_scheduling,
            },
            "new": len(log.new),
            "updated": len(log.updated),
            "duplicate": len(log.duplicate),
            "conflicting": len(log.conflicting),
            "first_field_missing": len(log.empty_first_field),
            "missing_notetype": len(log.missing_notetype),
        }

    def _set_theme(self, mode: str) -> None:
        from aqt.theme import Theme, theme_manager

        mw = self._mw()
        mw.set_theme(Theme.DARK if mode == "night" else Theme.LIGHT)
        if theme_manager.night_mode != (mode == "night"):
            raise RuntimeError(f"Anki did not switch to {mode} mode")

    def _resize(self, size: Size) -> Script:
        mw = self._mw()
        mw.showNormal()
        mw.resize(size.width, size.height)
        yield Sleep(300)

    def _quiet(self) -> Script:
        """Wait until the main webview loads no page and has heard its page's `domDone`, for a few polls.

        AnkiWebView runs queued JavaScript as soon as *a* page says `domDone`: a late one from a page that was
        just replaced would run the next page's first script (the reviewer's `_showQuestion`) before that page
        has its scripts. So a state change that loads a page starts only when the previous load is over.
        """
        web = self._mw().web
        deadline = time.monotonic() + self.job.render_timeout_ms / 1000
        calm = 0
        while calm < 3:
            page = web.page()
            busy = page is None or page.isLoading() or not web._domDone
            calm = 0 if busy else calm + 1
            if time.monotonic() > deadline:
                raise TimeoutError(f"the main webview was still loading after {self.job.render_timeout_ms} ms")
            yield Sleep(80)

    def _wait(self, ready_js: str) -> Script:
        """Poll `ready_js` in the main webview until it is true; a timeout is an error."""
        deadline = time.monotonic() + self.job.render_timeout_ms / 1000
        while not (yield Eval(ready_js)):
            if time.monotonic() > deadline:
                raise TimeoutError(f"the page was not ready after {self.job.render_timeout_ms} ms: {ready_js[:80]}")
            yield Sleep(40)
        yield Sleep(self.job.settle_ms)

    def _wait_for_card(self) -> Script:
        self._token += 1
        yield Eval(_READY_JS.replace("TOKEN", str(self._token)))
        yield from self._wait(f"window.__deckforgeReady === {self._token}")

    def _shoot_deck_list(self, mode: str, size: Size) -> Script:
        mw = self._mw()
        first_console = len(self.console)
        yield from self._quiet()
        if self._filtered_deck:
            # The driver's own filtered deck is no part of what the learner imported: gone before the deck list.
            self._col().decks.remove([DeckId(self._filtered_deck)])
            self._filtered_deck = 0
        mw.moveToState("deckBrowser")
        yield from self._quiet()
        yield from self._wait(_DECKS_READY_JS)
        name = shot_name(mode, size.name, "deck-list", None)
        yield from self._capture(name, {"kind": "deck-list", "mode": mode, "size": asdict(size)}, first_console)

    def _show_card(self, card_id: int) -> None:
        """Put the card alone into a filtered deck and let Anki's reviewer show it as the next card."""
        mw = self._mw()
        col = self._col()
        deck = col.sched.get_or_create_filtered_deck(deck_id=DeckId(self._filtered_deck))
        deck.name = "Deckforge screenshots"
        del deck.config.search_terms[1:]
        deck.config.search_terms[0].search = f"cid:{card_id}"
        deck.config.search_terms[0].limit = 1
        deck.config.reschedule = False
        self._filtered_deck = col.sched.add_or_update_filtered_deck(deck).id
        col.decks.select(DeckId(self._filtered_deck))
        if mw.state == "review":
            mw.reviewer.nextCard()
        else:
            mw.moveToState("review")
        card = mw.reviewer.card
        if card is None or int(card.id) != card_id:
            raise RuntimeError(f"the reviewer shows {card and card.id} instead of card {card_id}")

    def _shoot_card(self, mode: str, size: Size, target: Target) -> Script:
        mw = self._mw()
        if mw.state != "review":
            yield from self._quiet()  # entering the reviewer loads its page
        first_console = len(self.console)
        self._played = []
        self._show_card(target.card_id)
        for side in ("question", "answer"):
            self._played = [] if side == "answer" else self._played
            if side == "answer":
                first_console = len(self.console)
                if target.typed is not None:
                    # What the reviewer reads from the box when the learner presses Enter (`_onTypedAnswer`).
                    mw.reviewer.typedAnswer = target.typed
                mw.reviewer._showAnswer()
            yield from self._wait_for_card()
            if side in target.sides:
                meta = {
                    "kind": target.kind,
                    "label": target.label,
                    "note_id": target.note_id,
                    "stable_id": target.stable_id,
                    "source": target.source,
                    "card_id": target.card_id,
                    "card_ord": target.card_ord,
                    "notetype": target.notetype,
                    "side": side,
                    "mode": mode,
                    "size": asdict(size),
                    "reviewer_state": mw.reviewer.state,
                    "typed": target.typed,
                    "played": list(self._played),
                }
                name = shot_name(mode, size.name, target.label, side)
                yield from self._capture(name, meta, first_console)

    def _capture(self, name: str, meta: dict[str, Any], first_console: int) -> Script:
        from aqt.qt import QApplication

        from tests.anki_app.pixels import brightness

        mw = self._mw()
        page = yield Eval(_MEASURE_JS)
        path = self.out / f"{name}.png"
        window = mw.grab()
        if not window.save(str(path), "PNG"):
            raise OSError(f"could not write {path}")
        card_area = mw.web.grab().toImage()
        # Anything else on screen (a dialog, a message box) would cover or replace the card.
        others = [
            f"{type(w).__name__}: {w.windowTitle()}"
            for w in QApplication.topLevelWidgets()
            if w.isVisible() and w is not mw and w.isWindow()
        ]
        self.raw["shots"][name] = {
            **meta,
            "file": path.name,
            "window": [mw.width(), mw.height()],
            "png": [window.width(), window.height()],
            "card_area": [card_area.width(), card_area.height()],
            "brightness": asdict(brightness(card_area)),
            "page": page,
            "console": self.console[first_console:],
            "other_windows": others,
        }

    # Sound -----------------------------------------------------------------------------------------------

    def _hook_player(self) -> None:
        """Record what Anki's player is asked to play instead of playing it.

        The harness machine has no mpv, and Anki answers a missing player with a message box over the card;
        what matters is which files a card plays when it opens, and that is what the player is handed.
        """
        from aqt import sound

        def record(tags: list[Any]) -> None:
            self._played.extend(str(getattr(tag, "filename", tag)) for tag in tags)

        sound.av_player.play_tags = record  # type: ignore[method-assign]

    # JavaScript console ----------------------------------------------------------------------------------

    def _hook_console(self) -> None:
        """Record every message any Anki webview logs, then let Anki print it as usual."""
        from aqt.qt import QWebEnginePage
        from aqt.webview import AnkiWebPage

        levels = {
            QWebEnginePage.JavaScriptConsoleMessageLevel.InfoMessageLevel: "info",
            QWebEnginePage.JavaScriptConsoleMessageLevel.WarningMessageLevel: "warning",
            QWebEnginePage.JavaScriptConsoleMessageLevel.ErrorMessageLevel: "error",
        }
        original = AnkiWebPage.javaScriptConsoleMessage
        console = self.console
        mw = self._mw()

        def record(
            page: AnkiWebPage,
            level: QWebEnginePage.JavaScriptConsoleMessageLevel,
            message: str | None,
            line: int,
            source: str | None,
        ) -> None:
            pages = {id(mw.web.page()): "main", id(mw.toolbarWeb.page()): "toolbar", id(mw.bottomWeb.page()): "bottom"}
            which = pages.get(id(page), "other")
            console.append(
                {
                    "level": levels.get(level, str(level)),
                    "message": message or "",
                    "line": line,
                    "source": (source or "")[:120],
                    "page": which,
                }
            )
            original(page, level, message, line, source)

        AnkiWebPage.javaScriptConsoleMessage = record  # type: ignore[method-assign,assignment]


def _deck_tree(col: Collection) -> list[dict[str, Any]]:
    """Every deck of the collection as imported (before the driver adds its filtered deck).

    Anki's empty "Default" deck is left out, as the deck list hides it; ids are left out as the import picks them.
    """
    assert col.db is not None
    decks = []
    for entry in col.decks.all_names_and_ids():
        deck = col.decks.get(DeckId(entry.id))
        assert deck is not None
        if entry.id == 1 and not col.db.scalar("select count() from cards where did = 1 or odid = 1"):
            continue
        decks.append(
            {
                "name": entry.name,
                "collapsed": bool(deck.get("collapsed", False)),
                "browser_collapsed": bool(deck.get("browserCollapsed", False)),
                "filtered": bool(deck.get("dyn", 0)),
            }
        )
    return sorted(decks, key=lambda d: d["name"])


def _versions() -> dict[str, str]:
    from anki.buildinfo import version as anki_version
    from aqt.qt import PYQT_VERSION_STR, QT_VERSION_STR, qWebEngineChromiumVersion

    return {
        "anki": anki_version,
        "qt": QT_VERSION_STR,
        "pyqt": PYQT_VERSION_STR,
        "chromium": qWebEngineChromiumVersion(),
    }
