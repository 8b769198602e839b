"""Run the real Anki desktop app under Xvfb in a throwaway profile and photograph the built decks.

    python -m tests.anki_app [PACKAGE.apkg ...] [--out DIR] [--note ID ...] [--only KIND ...]

Packages default to `dist/*.apkg`, the output to `dist/screenshots/` (its PNGs and `facts.json` are replaced).
Everything else lives in a temporary folder that is deleted afterwards: the Anki base folder, HOME, the X
display. Exit status: 0 when every shot was taken, 1 when the app or a shot failed, 2 for a wrong command line
or a missing tool.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import select
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tests.anki_app import facts as facts_module
from tests.anki_app.job import JOB_ENV, Job
from tests.anki_app.plan import KINDS
from tests.anki_app.profile import collection_media, write_base

REPO = Path(__file__).resolve().parents[2]
#: The screen Xvfb provides: larger than every window size the driver uses.
SCREEN = "1920x1200x24"


class HarnessError(Exception):
    """The harness could not run (missing tool, app crash, timeout): the message says what to do."""


@contextmanager
def xvfb(timeout: float = 20.0) -> Iterator[str]:
    """A private X server on a free display number (Xvfb picks it and reports it through -displayfd)."""
    binary = shutil.which("Xvfb")
    if binary is None:
        raise HarnessError("Xvfb not found: install it (Debian: apt-get install xvfb; .ci/run does) and retry")
    read_end, write_end = os.pipe()
    process = subprocess.Popen(
        [binary, "-displayfd", str(write_end), "-screen", "0", SCREEN, "-nolisten", "tcp", "-noreset"],
        pass_fds=(write_end,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    os.close(write_end)
    try:
        ready, _, _ = select.select([read_end], [], [], timeout)
        number = os.read(read_end, 64).decode().strip() if ready else ""
        if not number:
            process.kill()
            _, err = process.communicate()
            raise HarnessError(f"Xvfb did not start: {err.decode(errors='replace').strip()[-500:]}")
        yield f":{number}"
    finally:
        os.close(read_end)
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def app_environment(display: str, home: Path, job_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WAYLAND_", "QT_", "ANKI"))}
    env.update(
        {
            "DISPLAY": display,
            "QT_QPA_PLATFORM": "xcb",
            "HOME": str(home),
            "XDG_CONFIG_HOME": str(home / "config"),
            "XDG_CACHE_HOME": str(home / "cache"),
            "XDG_DATA_HOME": str(home / "data"),
            "XDG_RUNTIME_DIR": str(home / "runtime"),
            "PYTHONPATH": os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH", "")) if p),
            "PYTHONDONTWRITEBYTECODE": "1",
            # Anki lets one instance run per user: a second one hands its arguments to the first and quits.
            # A key of our own keeps this run apart from any other Anki on the machine (another harness run, a
            # developer's app), and a private TMPDIR keeps its local socket and temporary files in our folder.
            "ANKI_SINGLE_INSTANCE_KEY": f"deckforge-screenshots-{home.parent.name}",
            "TMPDIR": str(home / "tmp"),
            JOB_ENV: str(job_path),
        }
    )
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        # Chromium refuses to run its sandbox as root. Setting the variable at all stops Anki adding its own
        # `--disable-gpu` for the software GL driver, so it is repeated here.
        env["QTWEBENGINE_CHROMIUM_FLAGS"] = "--no-sandbox --disable-gpu"
    for folder in ("config", "cache", "data", "runtime", "tmp"):
        (home / folder).mkdir(parents=True, exist_ok=True)
    (home / "runtime").chmod(0o700)
    return env


def run_app(job: Job, base: Path, display: str, timeout: float, log: Path) -> dict[str, Any]:
    """Start Anki on `base` and wait for the driver's raw.json; the app is killed if it overruns `timeout`."""
    job_path = base.parent / "job.json"
    job.write(job_path)
    env = app_environment(display, base.parent / "home", job_path)
    command = [sys.executable, "-c", "import aqt; aqt.run()", "-b", str(base)]
    with log.open("wb") as out:
        process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            raw_done = Path(job.raw_path).is_file()
            os.killpg(process.pid, 9)
            process.wait()
            if not raw_done:
                raise HarnessError(f"Anki did not finish within {timeout:.0f} s\n{_tail(log)}") from None
    raw_path = Path(job.raw_path)
    if not raw_path.is_file():
        raise HarnessError(f"Anki exited ({process.returncode}) before the driver wrote its results\n{_tail(log)}")
    raw: dict[str, Any] = json.loads(raw_path.read_text(encoding="utf-8"))
    if raw["errors"] or not raw["finished"]:
        errors = "\n".join(raw["errors"]) or "the driver did not reach the end"
        raise HarnessError(f"the driver failed:\n{errors}\n{_tail(log)}")
    return raw


def _tail(log: Path, lines: int = 40) -> str:
    text = log.read_text(encoding="utf-8", errors="replace").splitlines()
    return "--- Anki's output (last lines) ---\n" + "\n".join(text[-lines:])


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tests.anki_app", description=__doc__.split("\n\n")[0])
    parser.add_argument("packages", nargs="*", type=Path, help="packages to import (default: dist/*.apkg)")
    parser.add_argument("--out", type=Path, default=REPO / "dist" / "screenshots", help="where PNGs and facts go")
    parser.add_argument(
        "--note", action="append", default=[], metavar="ID", help="also shoot this note (note id or stable id)"
    )
    parser.add_argument(
        "--only", action="append", default=[], choices=[k.name for k in KINDS], help="shoot only these kinds"
    )
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds the whole app run may take")
    parser.add_argument("--keep", type=Path, help="copy the Anki base folder and log here (debugging)")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    packages = [p.resolve() for p in args.packages] or sorted((REPO / "dist").glob("*.apkg"))
    if not packages:
        print("error: no packages to import: build them first (nox -s build) or name them", file=sys.stderr)
        return 2
    missing = [str(p) for p in packages if not p.is_file()]
    if missing:
        print(f"error: no such package: {', '.join(missing)}", file=sys.stderr)
        return 2
    if importlib.util.find_spec("aqt") is None:
        print("error: the Anki desktop app (aqt) is not installed: pip install -e '.[screenshots]'", file=sys.stderr)
        return 2
    out: Path = args.out.resolve()
    started = time.monotonic()
    try:
        result = take(packages, out, tuple(args.note), tuple(args.only), args.timeout, args.keep)
    except HarnessError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    shots = result["shots"]
    print(f"wrote {len(shots)} screenshots and facts.json to {out} in {time.monotonic() - started:.0f} s")
    for line in summary(result):
        print(f"  {line}")
    return 0


def take(
    packages: Sequence[Path],
    out: Path,
    notes: tuple[str, ...] = (),
    only: tuple[str, ...] = (),
    timeout: float = 300.0,
    keep: Path | None = None,
) -> dict[str, Any]:
    """Photograph `packages` into `out` (old PNGs and facts there are replaced); returns the facts."""
    out.mkdir(parents=True, exist_ok=True)
    for old in [*out.glob("*.png"), out / "facts.json"]:
        old.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory(prefix="deckforge-anki-") as tmp:
        base = Path(tmp) / "base"
        write_base(base)
        job = Job(
            packages=tuple(str(p) for p in packages),
            out_dir=str(out),
            raw_path=str(Path(tmp) / "raw.json"),
            extra_notes=notes,
            kinds=only,
        )
        log = Path(tmp) / "anki.log"
        try:
            with xvfb() as display:
                raw = run_app(job, base, display, timeout, log)
            result = facts_module.build(raw, collection_media(base))
        finally:
            if keep is not None:
                shutil.rmtree(keep, ignore_errors=True)
                shutil.copytree(tmp, keep, symlinks=True, ignore_dangling_symlinks=True)
        facts_module.write(result, out / "facts.json")
        return result


def summary(result: dict[str, Any]) -> Iterator[str]:
    """A few lines a person reads after a run: the smallest label, the brightest night card, JS errors."""
    shots = [s for s in result["shots"].values() if s["kind"] != "deck-list"]
    labelled = [s for s in shots if s.get("smallest_label_px") is not None]
    if labelled:
        worst = min(labelled, key=lambda s: s["smallest_label_px"])
        yield f"smallest diagram label: {worst['smallest_label_px']} px ({worst['file']})"
    night = [s for s in shots if s["mode"] == "night"]
    if night:
        brightest = max(night, key=lambda s: s["brightness"]["bright_fraction"])
        share = brightest["brightness"]["bright_fraction"]
        yield f"brightest night card: {share:.1%} near-white pixels ({brightest['file']})"
    hidden = sorted({s["file"] for s in shots for i in s["images"] if not i["visible"]})
    if hidden:
        yield f"images drawn 0 px: {len(hidden)} shots (first: {hidden[0]})"
    errors = sum(len(s["js_errors"]) for s in shots)
    yield f"JavaScript errors: {errors}"
    if result["missing_kinds"]:
        yield f"kinds with no note in the packages: {', '.join(result['missing_kinds'])}"
