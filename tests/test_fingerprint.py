"""`deckforge fingerprint`: one line naming the builder (code, libraries, Python, zlib, SQLite), the key under which
the build cache is kept, here and on GitHub (action.yml keys actions/cache on it)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import yaml
from pytest import MonkeyPatch

from builder.fingerprint import builder_fingerprint, installed_versions

REPO = Path(__file__).resolve().parents[1]


def _fingerprint(checkout: Path) -> str:
    """`python -m builder fingerprint` with the builder package found in `checkout`."""
    result = subprocess.run(
        [sys.executable, "-m", "builder", "fingerprint"],
        cwd=checkout,
        env={**os.environ, "PYTHONPATH": str(checkout)},
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stderr == ""
    return result.stdout


def test_fingerprint_is_one_stable_line_and_the_one_the_caches_use() -> None:
    first, second = _fingerprint(REPO), _fingerprint(REPO)
    assert first == second
    assert re.fullmatch(r"[0-9a-f]{64}\n", first), "one line, usable as a cache key as it is"
    assert first.strip() == builder_fingerprint(), "the value the note cache and the up-to-date check key on"


def test_fingerprint_changes_when_the_builder_code_changes(tmp_path: Path) -> None:
    shutil.copytree(REPO / "builder", tmp_path / "builder", ignore=shutil.ignore_patterns("__pycache__"))
    original = _fingerprint(REPO)
    assert _fingerprint(tmp_path) == original, "the same code in another folder is the same builder"
    module = tmp_path / "builder" / "render.py"
    module.write_text(module.read_text(encoding="utf-8") + "\n# an edit\n", encoding="utf-8")
    assert _fingerprint(tmp_path) != original


def _action_steps() -> dict[str, dict[str, object]]:
    action = yaml.safe_load((REPO / "action.yml").read_text(encoding="utf-8"))
    return {step.get("id", step["name"]): step for step in action["runs"]["steps"]}


def test_the_action_keys_the_build_cache_on_the_fingerprint_and_the_os(tmp_path: Path) -> None:
    steps = _action_steps()
    script = steps["key"]["run"]
    assert isinstance(script, str)
    # The step as the runner runs it: bash -eo pipefail, with `deckforge` of this environment on PATH.
    scripts = Path(sys.executable).parent
    assert (scripts / "deckforge").is_file(), "the builder is installed with its `deckforge` command"
    output = tmp_path / "github_output"
    env = {
        **os.environ,
        "PATH": f"{scripts}{os.pathsep}{os.environ['PATH']}",
        "PYTHONPATH": str(REPO),
        "RUNNER_OS": "Linux",
        "RUNNER_ARCH": "X64",
        "GITHUB_OUTPUT": str(output),
    }
    subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script], env=env, check=True)
    key = f"deckforge-Linux-X64-{builder_fingerprint()}"
    assert output.read_text(encoding="utf-8") == f"key={key}\n"
    cache = steps["Restore the build cache"]
    assert cache["uses"] == "actions/cache@v4"
    assert cache["with"] == {
        "path": "${{ inputs.working-directory }}/.cache/builder",
        "key": "${{ steps.key.outputs.key }}-${{ github.sha }}",
        "restore-keys": "${{ steps.key.outputs.key }}-",
    }


def test_every_workflow_that_builds_decks_goes_through_the_cached_action() -> None:
    workflows = [REPO / ".github" / "workflows" / name for name in ("ci.yml", "release.yml")]
    workflows += sorted((REPO / "builder" / "scaffold" / "template" / "dot-github" / "workflows").glob("*.yml"))
    for path in workflows:
        text = path.read_text(encoding="utf-8").replace("@@ACTION@@", "deckforge/deckforge@v1")
        steps = [step for job in yaml.safe_load(text)["jobs"].values() for step in job["steps"]]
        uses = [i for i, step in enumerate(steps) if step.get("uses") in ("./", "deckforge/deckforge@v1")]
        assert len(uses) == 1, path
        assert steps[uses[0]].get("with", {}).get("cache", "true") == "true", f"{path} turns the cache off"
        # A deck build before the action would run before the cache is restored.
        builds = [i for i, step in enumerate(steps) if "nox -s release" in str(step.get("run", ""))]
        assert all(i > uses[0] for i in builds), f"{path} builds before the action restores .cache/builder"


def _write(folder: Path, name: str, files: dict[str, str]) -> None:
    (folder / name).mkdir(parents=True)
    for file, text in files.items():
        (folder / name / file).write_text(text)


def test_library_versions_are_the_ones_importlib_metadata_finds(tmp_path: Path, monkeypatch: MonkeyPatch) -> None:
    """The fingerprint reads versions from metadata folder names, not through importlib.metadata: it must agree
    with it on every installed distribution, on every way installers name the folder, and on which copy wins."""
    first, second = tmp_path / "first", tmp_path / "second"
    _write(
        first, "Shadowed_Lib-2.0.dist-info", {"METADATA": "Metadata-Version: 2.1\nName: shadowed-lib\nVersion: 2.0\n"}
    )
    _write(
        second, "shadowed_lib-1.0.dist-info", {"METADATA": "Metadata-Version: 2.1\nName: shadowed-lib\nVersion: 1.0\n"}
    )
    _write(
        second,
        "legacy.pkg-3.1-py3.11.egg-info",
        {"PKG-INFO": "Metadata-Version: 1.1\nName: legacy.pkg\nVersion: 3.1\n"},
    )
    _write(
        second,
        "devinstall.egg-info",
        {"PKG-INFO": "Metadata-Version: 2.1\nName: devinstall\nVersion: 0.4.dev1\n\nVersion: 9 in the description\n"},
    )
    monkeypatch.setattr(sys, "path", [str(tmp_path / "missing"), str(first), str(second), *sys.path])
    names = sorted({str(d.metadata["Name"]) for d in metadata.distributions()})
    assert {"shadowed-lib", "legacy.pkg", "devinstall", "pydantic", "markdown-it-py"} <= set(names)
    assert installed_versions(names) == {name: metadata.version(name) for name in names}
    assert installed_versions(["Shadowed.Lib", "not-installed"]) == {"Shadowed.Lib": "2.0"}
