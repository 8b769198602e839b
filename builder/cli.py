"""Command line: argv → a command run → an exit code (0 ok, 1 problems in the input, 2 usage, 70 a builder bug)."""

from __future__ import annotations

import argparse
import errno
import gc
import math
import os
import re
import sys
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path

from builder import __version__
from builder.diagnostics import FORMATTERS, BuildFailed, Diagnostics, Location
from builder.options import Options, available_cores
from builder.source import display_path
from builder.stamp import Stamp
from builder.timing import Timer

# Each command imports the stages it runs when it runs: a build that is up to date never loads the pipeline
# (pydantic, markdown-it-py, genanki), which costs more than the whole up-to-date check.

EXIT_OK = 0
EXIT_INPUT = 1
EXIT_USAGE = 2
#: sysexits.h EX_SOFTWARE: the builder itself failed. CI can tell this from a mistake in the notes (1).
EXIT_BUG = 70
#: Where a traceback should go.
REPORT_TO = "the Deckforge issue tracker (the repository's Issues page)"
#: Bounds on numeric options: a value past them is a typo, and would fail deep inside the build.
MAX_JOBS = 256
MAX_SECONDS = 86_400.0


def _options(args: argparse.Namespace) -> Options:
    return Options(
        source=args.source,
        media=args.media,
        out=args.out,
        strict=args.strict,
        use_cache=not args.no_cache,
        diagram_timeout=args.diagram_timeout,
        jobs=args.jobs,
        timer=args.timer,
    )


def _shown(text: str) -> str:
    return repr(text) if len(text) <= 40 else repr(text[:37] + "...")


def _positive_int(text: str) -> int:
    digits = text.strip()
    if not (digits.isascii() and digits.isdigit()) or len(digits) > 6 or not 1 <= int(digits) <= MAX_JOBS:
        raise argparse.ArgumentTypeError(f"expected a number of processes from 1 to {MAX_JOBS}, found {_shown(text)}")
    return int(digits)


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, found {_shown(text)}") from None
    if not 0 < value <= MAX_SECONDS or not math.isfinite(value):
        raise argparse.ArgumentTypeError(
            f"expected a number of seconds above 0 and at most {MAX_SECONDS:,.0f}, found {_shown(text)}"
        )
    return value


def _out_folder(text: str) -> Path:
    """--out names a folder: refused at once if it, or a folder above it, is a file."""
    path = Path(text)
    for candidate in (path, *path.parents):
        if candidate.exists() or candidate.is_symlink():
            if not candidate.is_dir():
                raise argparse.ArgumentTypeError(
                    f"{_shown(text)}: `{display_path(candidate)}` is a file; expected a folder to write packages "
                    "into. Pass another --out or move the file"
                )
            break
    return path


def _timings_file(text: str) -> Path:
    path = Path(text)
    if path.is_dir():
        raise argparse.ArgumentTypeError(f"{_shown(text)} is a folder; expected a file name for the JSON timings")
    return path


#: What to do about a file-system error, by errno; the default is the system's own words.
_OS_ADVICE = {
    errno.ENOSPC: "the disk is full; expected room for the output. Free some space or pass another --out",
    errno.EDQUOT: "the disk quota is used up; expected room for the output. Free some space or pass another --out",
    errno.EROFS: "the file system is read-only; expected a writable folder. Pass another --out",
    errno.EACCES: "permission denied; expected a folder you may write to. Fix its permissions or pass another --out",
    errno.EPERM: "operation not permitted; expected a folder you may write to. Fix its permissions or pass "
    "another --out",
    errno.ENAMETOOLONG: "the name is too long for the file system; expected a shorter one. Shorten the deck's folder "
    "name or version, or pass a shorter --out",
    errno.ENOTDIR: "a file stands where a folder is needed; expected a folder. Move the file or pass another --out",
    errno.EEXIST: "a file stands where a folder is needed; expected a folder. Move the file or pass another --out",
    errno.EISDIR: "a folder stands where a file is written; expected a file name. Move the folder or pass another path",
}


#: Where a command writes, as its user would change it: E113's advice names an option the command has.
_OUTPUT_OPTION = {"import": "--source or --media", "new": "DIR"}

_TEMP_NAME = re.compile(r"\.(.+)\.[^.]+\.tmp")


def _os_error(exc: OSError, fallback: Path | None, diagnostics: Diagnostics, option: str = "--out") -> None:
    """A file-system failure (full disk, read-only folder, name too long): the environment's problem, located.

    A failed write to an open file names no file (ENOSPC from write_zip): then the output folder is shown.
    """
    name = exc.filename if isinstance(exc.filename, str | bytes | os.PathLike) else fallback
    path = Path(os.fsdecode(name)) if name is not None else Path()
    # A temporary file beside its target (`.x.apkg.k2j4.tmp`, builder.package.atomic_output): name the target.
    temp = _TEMP_NAME.fullmatch(path.name)
    where = display_path(path.with_name(temp.group(1)) if temp else path)
    advice = _OS_ADVICE.get(exc.errno or 0, f"{exc.strerror or exc}; check the folder and try again")
    advice = advice.replace("--out", option)
    diagnostics.error(Location(where), "E113", f"the file system refused `{where}`: {advice}")


def _report_bug(command: str) -> None:
    sys.stderr.write(
        f"internal error: `{command}` failed because of a bug in the builder, not a problem in your notes.\n"
        f"Please report it to {REPORT_TO} with the command, the traceback below and, if you can, the note file "
        "that triggers it.\n"
    )
    traceback.print_exc(file=sys.stderr)


def _cmd_check(args: argparse.Namespace, diagnostics: Diagnostics) -> int:
    from builder.compile import compile_decks

    for compiled in compile_decks(_options(args), diagnostics):
        deck = compiled.deck
        print(f"ok {deck.slug} {deck.config.version}: {len(deck.notes)} notes")
    return EXIT_OK


def _cmd_build(args: argparse.Namespace, diagnostics: Diagnostics) -> int:
    options = _options(args)
    with options.timer.stage("up-to-date check"):
        stamp = Stamp.for_build(options, "build") if options.use_cache else None
        replay = stamp.replay() if stamp is not None else None
    if replay is not None:
        sys.stdout.write(replay.stdout.replace("\n", " (up to date)\n"))
        diagnostics.extend(replay.diagnostics)
        return EXIT_OK
    from builder.build import build, report_outputs

    outputs = build(options, diagnostics)
    report = report_outputs(outputs)
    sys.stdout.write(report)
    if stamp is not None:
        stamp.record([path for o in outputs for path in (o.path, o.manifest)], report, diagnostics.items)
    return EXIT_OK


def _cmd_watch(args: argparse.Namespace, diagnostics: Diagnostics) -> int:
    from builder.watch import watch

    # Each build reports its own problems as it finishes; `diagnostics` stays empty for main to print.
    return watch(_options(args), interval=args.interval, fmt=args.format)


def _cmd_record(args: argparse.Namespace, diagnostics: Diagnostics) -> int:
    from builder.build import build, record

    options = _options(args)
    outputs = build(options, diagnostics)
    for path in record(options, outputs, diagnostics):
        print(f"recorded {path.as_posix()}; commit it with the version bump")
    return EXIT_OK


def _cmd_release(args: argparse.Namespace, diagnostics: Diagnostics) -> int:
    from builder.build import build, release_files

    options = _options(args)
    outputs = build(options, diagnostics)
    if args.tag is not None:
        from builder.editlink import check_release_tag

        check_release_tag(
            args.tag, [(o.release.deck, options.source / o.release.deck.slug) for o in outputs], diagnostics
        )
        if diagnostics.errors:
            return EXIT_INPUT
    for path in release_files(options, outputs, diagnostics):
        print(f"wrote {path.as_posix()}")
    return EXIT_OK


def _cmd_fix_ids(args: argparse.Namespace, diagnostics: Diagnostics) -> int:
    from builder.fixids import fix_ids

    fixed = fix_ids(args.source, diagnostics)
    for result in fixed:
        print(f"{result.path.as_posix()}: added {len(result.ids)} id(s): {', '.join(result.ids)}")
    if not fixed:
        print("every note already has an id")
    return EXIT_OK


def _cmd_preview(args: argparse.Namespace, diagnostics: Diagnostics) -> int:
    from builder.build import build
    from builder.preview import PreviewError, write_preview

    options = _options(args)
    outputs = build(options, diagnostics)
    try:
        page = write_preview([o.path for o in outputs], options.out / "preview")
    except PreviewError as exc:
        sys.stderr.write(f"error: {exc}\n")
        return EXIT_INPUT
    print(f"wrote {page.as_posix()}")
    return EXIT_OK


def _cmd_diff(args: argparse.Namespace, diagnostics: Diagnostics) -> int:
    from builder.diff import compare, format_markdown, read_release
    from builder.diff import format_text as format_diff_text
    from builder.manifest import ManifestError

    try:
        changes = compare(read_release(args.old), read_release(args.new))
    except ManifestError as exc:
        sys.stderr.write(f"error: {exc}\n")
        return EXIT_INPUT
    sys.stdout.write(format_markdown(changes) if args.markdown else format_diff_text(changes))
    return EXIT_OK


def _cmd_new(args: argparse.Namespace, diagnostics: Diagnostics) -> int:
    from builder.scaffold import new_repository

    made = new_repository(args.directory, diagnostics, name=args.name, slug=args.slug)
    if made is None:
        return EXIT_INPUT
    print(f"created {made.root.as_posix()}: {len(made.files)} files, deck `{made.deck_folder.name}`")
    print(f"deck id {made.deck_id} (drawn at random; never change it once the deck is published)")
    print(f"next: cd {made.root.as_posix()} && git init && see README.md")
    return EXIT_OK


def _cmd_import(args: argparse.Namespace, diagnostics: Diagnostics) -> int:
    import time

    from builder.importer.run import ImportRequest, import_package

    started = time.perf_counter()
    request = ImportRequest(args.package, args.source, args.media, args.deck_folder, args.deck_version)
    result = import_package(request, diagnostics)
    if result is None:
        return EXIT_INPUT
    print(
        f"imported {args.package.as_posix()} into {result.folder.as_posix()} ({result.notes} notes, "
        f"{result.notetypes} notetypes, {result.media_files} media in {result.media.as_posix()}, "
        f"{result.skipped} not imported) in {time.perf_counter() - started:.1f} s"
    )
    return EXIT_OK


def _cmd_fingerprint(args: argparse.Namespace, diagnostics: Diagnostics) -> int:
    from builder.fingerprint import builder_fingerprint

    print(builder_fingerprint())
    return EXIT_OK


COMMANDS: dict[str, tuple[str, Callable[[argparse.Namespace, Diagnostics], int]]] = {
    "check": ("validate every deck and report all problems", _cmd_check),
    "build": ("validate, then write dist/<deck>-<version>.apkg and .json for every deck", _cmd_build),
    "watch": ("build, then rebuild after every saved change, keeping the pipeline warm (Ctrl-C stops)", _cmd_watch),
    "preview": ("build, then write dist/preview/index.html showing every card as Anki renders it", _cmd_preview),
    "fix-ids": ("write a missing id under every note heading, changing nothing else", _cmd_fix_ids),
    "diff": ("compare two releases (manifests or .apkg files): added, changed, removed notes", _cmd_diff),
    "release": ("build, check the manifests are recorded, write SHA256SUMS and RELEASE_NOTES.md", _cmd_release),
    "record": ("build, then keep each manifest in source/<deck>/releases/ as the next baseline", _cmd_record),
    "new": ("start a deck repository in DIR: example notes, noxfile, tests, CI and release workflows", _cmd_new),
    "import": ("turn an Anki package (.apkg) into a deck folder of Markdown notes, keeping every GUID", _cmd_import),
    "fingerprint": ("print the builder's fingerprint (code, libraries, Python): key the cache on it", _cmd_fingerprint),
}


def _parser() -> argparse.ArgumentParser:
    # Usage and --version name the command the user typed: the `deckforge` script, or `python -m builder`.
    prog = "deckforge" if Path(sys.argv[0]).stem == "deckforge" else "python -m builder"
    parser = argparse.ArgumentParser(prog=prog, description="Compile Markdown notes into versioned Anki decks.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    default_format = "github" if os.environ.get("GITHUB_ACTIONS") == "true" else "text"
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (help_text, _) in COMMANDS.items():
        cmd = sub.add_parser(name, help=help_text, description=help_text)
        if name == "diff":
            cmd.add_argument("old", type=Path, help="the earlier release: dist/<deck>-<version>.json or .apkg")
            cmd.add_argument("new", type=Path, help="the later release")
            cmd.add_argument("--markdown", action="store_true", help="print release notes in Markdown")
            continue
        if name == "new":
            cmd.add_argument("directory", type=Path, metavar="DIR", help="where to create it (new or empty)")
            cmd.add_argument("--name", help="the deck name in Anki (default: from DIR)")
            cmd.add_argument("--slug", help="the deck folder under source/ (default: from DIR)")
            cmd.set_defaults(format="text")
            continue
        if name == "fingerprint":
            cmd.set_defaults(format="text")
            continue
        if name == "import":
            cmd.add_argument("package", type=Path, help="the .apkg file exported from Anki")
            cmd.add_argument("--source", type=Path, default=Path("source"), help="deck folders (default: source)")
            cmd.add_argument("--media", type=Path, default=Path("media"), help="media (default: media)")
            cmd.add_argument("--deck-folder", metavar="NAME", help="the new deck folder (default: the deck name)")
            cmd.add_argument("--deck-version", default="1.0.0", metavar="X.Y.Z", help="deck version (default 1.0.0)")
            cmd.add_argument("--format", choices=sorted(FORMATTERS), default=default_format, help="diagnostic format")
            continue
        cmd.add_argument("--source", type=Path, default=Path("source"), help="deck folders (default: source)")
        cmd.add_argument("--media", type=Path, default=Path("media"), help="images (default: media)")
        cmd.add_argument("--out", type=_out_folder, default=Path("dist"), help="output folder (default: dist)")
        cmd.add_argument("--strict", action="store_true", help="treat linter warnings as errors")
        cmd.add_argument(
            "--no-cache", action="store_true", help="compile every note and render every diagram afresh, keep no cache"
        )
        cmd.add_argument(
            "-j",
            "--jobs",
            type=_positive_int,
            default=available_cores(),
            metavar="N",
            help="processes compiling note files and rendering diagrams (default: cores available)",
        )
        if name == "watch":
            cmd.add_argument(
                "--interval",
                type=_positive_float,
                default=0.1,
                metavar="SECONDS",
                help="how often to look for changed files (default: 0.1)",
            )
        else:
            cmd.add_argument(
                "--timings", type=_timings_file, metavar="FILE", help="write seconds spent per stage as JSON"
            )
        if name == "release":
            cmd.add_argument(
                "--tag",
                metavar="NAME",
                help="the git tag being released: an error unless it is the tag deck.toml names (edit links use it)",
            )
        cmd.add_argument(
            "--diagram-timeout",
            type=_positive_float,
            default=60.0,
            metavar="SECONDS",
            help="stop a diagram render after this",
        )
        cmd.add_argument(
            "--format",
            choices=sorted(FORMATTERS),
            default=default_format,
            help="diagnostic format (default: github under GitHub Actions, else text)",
        )
    return parser


#: Allocations between young-generation collections (CPython's default is 700).
GC_THRESHOLD = 100_000


def main(argv: Sequence[str] | None = None) -> int:
    # A build allocates hundreds of thousands of long-lived, acyclic objects (notes, fields, tokens); with the
    # default threshold the cycle collector walks all of them again and again, which made a 50,000-note
    # build spend more time collecting than packaging. Cycles are still collected, just less often.
    gc.set_threshold(GC_THRESHOLD, 50, 100)
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exc:  # argparse reports usage errors itself
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    diagnostics = Diagnostics()
    args.timer = Timer()
    try:
        code = COMMANDS[args.command][1](args, diagnostics)
        if getattr(args, "timings", None) is not None:
            args.timings.write_text(args.timer.to_json(), encoding="utf-8")
    except BuildFailed:
        # Stages raise after collecting; everything they found is already in `diagnostics`.
        code = EXIT_INPUT
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        return 130
    except OSError as exc:
        # Reading the notes reports its own problems; what escapes is writing (full disk, read-only --out).
        _os_error(exc, getattr(args, "out", None), diagnostics, _OUTPUT_OPTION.get(args.command, "--out"))
        code = EXIT_INPUT
    except Exception:
        # Anything else is the builder's fault: say so, with the traceback, under its own exit code.
        found = diagnostics.sorted()
        if found:
            sys.stderr.write(FORMATTERS[args.format](found))
        _report_bug(args.command)
        return EXIT_BUG
    found = diagnostics.sorted()
    if found:
        sys.stderr.write(FORMATTERS[args.format](found))
    return EXIT_INPUT if diagnostics.errors else code


def run() -> None:
    """The `deckforge` command and `python -m builder`: `main`, then leave without tearing down the interpreter.

    Freeing every note, token and module one by one costs a tenth of a second at 10,000 notes, after the
    work is done. Everything a command writes is closed when `main` returns, so flush the two streams and go.
    """
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
