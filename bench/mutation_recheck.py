"""Re-check a mutation run's survivors against tests written since, or tests outside its scope.

    python bench/mutation_recheck.py --module fit --scratch DIR [--tests tests/a.py tests/b.py ...]
                                     [--names 'x__reason*,x__summary*'] [--out FILE] [--timeout 300]

``bench/mutation_run.py`` runs each module against its own fast tests. Some survivors are killed by
tests written for them afterwards, or by slower tests that run real pools in subprocesses, which
mutmut cannot attribute to the mutated function. For each survivor of the run kept in ``DIR``
(``--scratch`` of that run), this applies the mutant to the scratch copy (``mutmut apply``), runs the
given tests there with the current ``tests/`` of this checkout, and restores the module: killed when
pytest fails, survived when it passes. The work tree is never touched. Writes one line per mutant.

The mutant is put in place here, not by ``mutmut apply``: that replaces the first function of the name
in the module, whatever its class (a mutant of ``AnalysisPool.__init__`` went into ``_SpawnGuard``'s),
and every such "kill" was a broken module, not a test.
"""

from __future__ import annotations

import argparse
import fnmatch
import functools
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from mutation_run import REPO, SCOPES


def apply_mutant(work: Path, module: str, name: str) -> None:
    """Replace the mutated function (or method, in its own class) in the scratch copy's module."""
    import libcst as cst

    short = name.rsplit(".", 1)[1]  # "xǁAnalysisPoolǁstart__mutmut_3" or "x__end_processes__mutmut_5"
    if short.startswith("xǁ"):
        _, owner, rest = short.split("ǁ")
        function = rest.rsplit("__mutmut_", 1)[0]
    else:
        owner, function = "", short[2:].rsplit("__mutmut_", 1)[0]
    mutated = _mutant_functions(work / "mutants" / module).get(short)
    if mutated is None:
        raise LookupError(f"{name}: not found in the mutants module")
    source = cst.parse_module((work / module).read_text(encoding="utf-8"))

    class Swap(cst.CSTTransformer):
        def __init__(self) -> None:
            self.classes: list[str] = []
            self.done = 0

        def visit_ClassDef(self, node: cst.ClassDef) -> None:
            self.classes.append(node.name.value)

        def leave_ClassDef(self, original: cst.ClassDef, updated: cst.ClassDef) -> cst.ClassDef:
            self.classes.pop()
            return updated

        def leave_FunctionDef(self, original: cst.FunctionDef, updated: cst.FunctionDef) -> cst.FunctionDef:
            if original.name.value == function and self.classes == ([owner] if owner else []):
                self.done += 1
                return mutated.with_changes(name=cst.Name(function))
            return updated

    swap = Swap()
    changed = source.visit(swap)
    if swap.done != 1:
        raise LookupError(f"{name}: {owner + '.' if owner else ''}{function} found {swap.done} times in {module}")
    (work / module).write_text(changed.code, encoding="utf-8")


@functools.cache
def _mutant_functions(path: Path) -> dict:
    """Every function of mutmut's mutants module by name (parsed once: it holds every mutant, megabytes)."""
    import libcst as cst

    found: dict = {}

    class Collect(cst.CSTVisitor):
        def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
            found[node.name.value] = node

    cst.parse_module(path.read_text(encoding="utf-8")).visit(Collect())
    return found


def survivor_names(work: Path, mutmut: str) -> list[str]:
    listing = subprocess.run([mutmut, "results"], cwd=work, capture_output=True, text=True, check=False).stdout
    names = []
    for line in listing.splitlines():
        name, _, status = line.strip().partition(": ")
        if status in ("survived", "timeout"):
            names.append(name)
    return names


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--module", required=True, choices=sorted(SCOPES))
    parser.add_argument("--scratch", type=Path, required=True, help="the --scratch folder of the mutation run")
    parser.add_argument("--tests", nargs="+", default=None, help="default: the module's own scope")
    parser.add_argument("--names", default="", help="comma-separated patterns of survivors to re-check")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds per mutant (then: killed, timeout)")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    mutmut = str(Path(sys.executable).with_name("mutmut"))
    module, scope = SCOPES[args.module]
    work = args.scratch / Path(module).stem
    source = work / module
    if source.read_bytes() != (REPO / module).read_bytes():
        print(f"warning: {module} changed since the run; its mutants are of the old code", file=sys.stderr)
    shutil.rmtree(work / "tests")
    shutil.copytree(REPO / "tests", work / "tests", ignore=shutil.ignore_patterns("__pycache__"))
    tests = args.tests or scope
    patterns = [p for p in args.names.split(",") if p]
    names = [
        n for n in survivor_names(work, mutmut) if not patterns or any(fnmatch.fnmatch(n, "*" + p) for p in patterns)
    ]
    original = source.read_bytes()
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONDONTWRITEBYTECODE": "1"}
    lines = [f"# {module}: {len(names)} survivors re-checked against {' '.join(tests)}"]
    killed = 0
    try:
        for name in names:
            apply_mutant(work, module, name)
            began = time.monotonic()
            try:
                done = subprocess.run(
                    ["nice", "-n", "19", sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", *tests],
                    cwd=work,
                    env=env,
                    capture_output=True,
                    text=True,
                    timeout=args.timeout,
                    check=False,
                )
                verdict = "survived" if done.returncode == 0 else "killed"
                if done.returncode not in (0, 1):
                    verdict += f" (pytest exit {done.returncode})"
            except subprocess.TimeoutExpired:
                verdict = "killed (timeout)"
            finally:
                source.write_bytes(original)
            killed += verdict.startswith("killed")
            line = f"{name}: {verdict} in {time.monotonic() - began:.0f} s"
            lines.append(line)
            print(line, flush=True)
    finally:
        source.write_bytes(original)
    lines.append(f"# killed {killed} of {len(names)}")
    print(lines[-1])
    if args.out:
        args.out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
