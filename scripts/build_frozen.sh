#!/usr/bin/env bash
# Build the frozen one-folder app from packaging/calibration_studio.spec (Linux; works on any OS).
#
#   scripts/build_frozen.sh [DIST_DIR [WORK_DIR]]
#
# Result: DIST_DIR/CalibrationStudio/CalibrationStudio (default DIST_DIR: dist). The same binary
# opens the window, or runs a command: `CalibrationStudio analyze SONGS --out DIR`.
# Uses .venv/bin/python (made by `python3 main.py`) unless PYTHON is set; PyInstaller comes with
# the project's `freeze` extra:  .venv/bin/pip install -e ".[freeze]"
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
PYTHON="${PYTHON:-$ROOT/.venv/bin/python}"
DIST="$(realpath -m "${1:-$ROOT/dist}")"
WORK="$(realpath -m "${2:-$ROOT/build/pyinstaller}")"

if ! "$PYTHON" -c "import PyInstaller" 2>/dev/null; then
    echo "PyInstaller is missing: $PYTHON -m pip install -e \"$ROOT[freeze]\"" >&2
    exit 2
fi
cd "$ROOT"
"$PYTHON" -m PyInstaller --noconfirm --log-level "${PYI_LOG_LEVEL:-WARN}" \
    --distpath "$DIST" --workpath "$WORK" packaging/calibration_studio.spec
echo "$DIST/CalibrationStudio/CalibrationStudio"
