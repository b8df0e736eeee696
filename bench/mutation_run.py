"""Mutation testing of the modules that hold the product's promises, each against its own tests.

    python bench/mutation_run.py [--modules scoring,cache,...] [--children 2] [--out docs/mutation]
                                 [--only 'x__select*,x__chain*']

For each module: a scratch copy of ``engine/`` and ``tests/`` (the work tree is never touched),
``mutmut`` (3.x, the ``mutation`` extra) told to mutate only that file and to run only that
module's tests (``SCOPES``), niced; then every surviving mutant with its diff. Writes
``OUT/<module>.txt`` (the survivors' diffs) and prints a summary line per module. The survivors
and why each is harmless, or the test that now kills it, are in docs/reliability.md.

Why mutmut: it forks a warm pytest per mutant and runs only the tests that reach the mutated
function, so a module costs minutes on two shared cores (cosmic-ray starts a fresh pytest, and
its numpy/librosa imports, for every mutant). Why a scratch copy: mutmut writes its ``mutants/``
tree and a ``setup.cfg`` beside the code, and the config names one module at a time.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

SCOPES: dict[str, tuple[str, list[str]]] = {
    # name: (module, its tests). Fast tests only: each mutant re-runs the ones that reach its function.
    "scoring": ("engine/references/scoring.py", ["tests/test_calibration_scoring.py"]),
    "values": ("engine/references/readers/values.py", ["tests/test_reference.py", "tests/test_reference_formats.py"]),
    "evidence": ("engine/references/evidence.py", ["tests/test_matching.py", "tests/test_pairing.py"]),
    "matching": ("engine/references/matching.py", ["tests/test_matching.py", "tests/test_pairing.py"]),
    "cache": ("engine/run/cache.py", ["tests/test_results_cache.py", "tests/test_tagging.py"]),
    # crossval: its own unit tests, the out-of-fold proofs and the fit's fold and sign-test checks (8 s);
    # the rest of test_calibration_fit.py (70 s per surviving mutant) is left out, and each survivor
    # was checked against it by hand (docs/reliability.md).
    "crossval": (
        "engine/calibration/crossval.py",
        [
            "tests/test_crossval_units.py",
            "tests/test_evidence_crossval.py",
            "tests/test_calibration_fit.py::test_folds_partition_the_songs",
            "tests/test_calibration_fit.py::test_sign_test_matches_scipy",
        ],
    ),
    # fit: every test reaches fit_calibration, so a surviving mutant re-runs them all; the two slowest
    # (the 300-song noise case and the 150-song fold-layout case, 15 s of the 35 s) are left out.
    "fit": (
        "engine/calibration/fit.py",
        [
            "tests/test_calibration_fit.py",
            "tests/test_evidence_crossval.py",
            "--deselect=tests/test_calibration_fit.py::test_a_rule_that_only_fits_noise_is_rejected[300]",
            "--deselect=tests/test_calibration_fit.py::"
            "test_a_convention_with_few_songs_behind_it_does_not_hang_on_one_fold_layout",
        ],
    ),
    "safewrite": ("engine/tagging/safewrite.py", ["tests/test_tagging.py"]),
    "journal": (
        "engine/tagging/journal.py",
        ["tests/test_journal_rows.py", "tests/test_tagging.py", "tests/test_tag_dialog.py"],
    ),
    "formats": (
        "engine/tagging/formats.py",
        ["tests/test_tagging.py", "tests/test_tags_m4a.py", "tests/test_safewrite.py"],
    ),
    "pool": ("engine/run/pool.py", ["tests/test_pool_units.py"]),
}
"""Smallest first, so that a run cut short has finished the most modules."""


def scratch_copy(root: Path, module: str, tests: list[str]) -> Path:
    work = root / Path(module).stem
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    for name in ("engine", "tests", "resources"):
        if (REPO / name).exists():
            shutil.copytree(REPO / name, work / name, ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "main.py"):
        shutil.copy2(REPO / name, work / name)
    selection = "\n".join(f"    {t}" for t in tests)
    (work / "setup.cfg").write_text(
        "[mutmut]\n"
        "source_paths = engine\n"
        f"only_mutate = {module}\n"
        f"pytest_add_cli_args_test_selection =\n{selection}\n"
        "pytest_add_cli_args = -p no:cacheprovider\n"
        "also_copy = main.py\n    resources\n"
        "use_git_change_detection = false\n",
        encoding="utf-8",
    )
    return work


def survivors(work: Path, mutmut: str, env: dict[str, str]) -> tuple[dict[str, int], list[tuple[str, str]]]:
    """(count per status, [(mutant, diff)] for every survivor)."""
    listing = subprocess.run(
        [mutmut, "results", "--all", "true"], cwd=work, env=env, capture_output=True, text=True, check=False
    ).stdout
    counts: dict[str, int] = {}
    survived = []
    for line in listing.splitlines():
        match = re.match(r"\s*(\S+): (.+)$", line)
        if not match:
            continue
        name, status = match.groups()
        counts[status] = counts.get(status, 0) + 1
        if status == "survived":
            diff = subprocess.run(
                [mutmut, "show", name], cwd=work, env=env, capture_output=True, text=True, check=False
            ).stdout
            survived.append((name, diff))
    return counts, survived


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--modules", default=",".join(SCOPES), help="comma-separated names from SCOPES")
    parser.add_argument("--children", type=int, default=2, help="mutants run at once (default 2)")
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "mutation")
    parser.add_argument("--scratch", type=Path, default=None, help="where the copies go (default: a temp folder)")
    parser.add_argument(
        "--only",
        default="",
        help="comma-separated mutant name patterns within the module (e.g. 'x__select*'): the rest stay "
        "'not checked'. For a module too big to finish in one sitting; the report counts what was not run.",
    )
    args = parser.parse_args()
    mutmut = str(Path(sys.executable).with_name("mutmut"))
    if not Path(mutmut).exists():
        print("mutmut is not installed: pip install -e '.[mutation]'", file=sys.stderr)
        return 2
    root = args.scratch or Path(tempfile.mkdtemp(prefix="mutation-"))
    args.out.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONDONTWRITEBYTECODE": "1"}
    for name in args.modules.split(","):
        module, tests = SCOPES[name]
        work = scratch_copy(root, module, tests)
        began = time.monotonic()
        with open(work / "mutmut-run.log", "w") as log:
            command = ["nice", "-n", "19", mutmut, "run", "--max-children", str(args.children)]
            prefix = module.removesuffix(".py").replace("/", ".") + "."
            command += [prefix + pattern for pattern in args.only.split(",") if pattern]
            done = subprocess.run(command, cwd=work, env=env, stdout=log, stderr=subprocess.STDOUT, check=False)
        counts, survived = survivors(work, mutmut, env)
        took = time.monotonic() - began
        total = sum(counts.values())
        summary = ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))
        line = f"{module}: {total} mutants ({summary}) in {took / 60:.1f} min, tests {' '.join(tests)}"
        if args.only:
            line += f"; only {args.only}"
        if done.returncode != 0:
            line += f"; mutmut exited {done.returncode}, see {work / 'mutmut-run.log'}"
        print(line, flush=True)
        report = args.out / f"{name}.txt"
        report.write_text(
            f"# {line}\n# re-run: python bench/mutation_run.py --modules {name}"
            + (f" --only '{args.only}'" if args.only else "")
            + "\n\n"
            + "\n".join(f"## {mutant}\n{diff}" for mutant, diff in survived),
            encoding="utf-8",
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
