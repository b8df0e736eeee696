#!/usr/bin/env bash
# Build "Calibration Studio.app" on a Mac and sign it ad hoc (runs on this Mac; not notarised).
#
#   scripts/build_macos_app.sh [--check]   ->  dist/Calibration Studio.app
#
# Needs Python 3.11+ and the Xcode command line tools (sips, iconutil, codesign):
#   xcode-select --install
# The first run sets up .venv (through main.py) and installs PyInstaller (the `freeze` extra).
set -euo pipefail
if [[ "$(uname -s)" != Darwin ]]; then
    echo "This builds the macOS app bundle; on Linux use scripts/build_frozen.sh" >&2
    exit 2
fi
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
PYTHON="${PYTHON:-$ROOT/.venv/bin/python}"
if [[ ! -x "$PYTHON" ]]; then
    python3 main.py --version  # creates .venv and installs the app on first use
fi
if ! "$PYTHON" -c "import PyInstaller" 2>/dev/null; then
    "$PYTHON" -m pip install --quiet -e ".[freeze]"
fi

WORK="$ROOT/build/macos"
APP="$ROOT/dist/Calibration Studio.app"
mkdir -p "$WORK"

# The icon: every size macOS asks for, from the one source image, then iconutil.
ICONSET="$WORK/CalibrationStudio.iconset"
rm -rf "$ICONSET"
mkdir -p "$ICONSET"
for size in 16 32 128 256 512; do
    sips -z "$size" "$size" resources/icon.png --out "$ICONSET/icon_${size}x${size}.png" >/dev/null
    sips -z $((size * 2)) $((size * 2)) resources/icon.png --out "$ICONSET/icon_${size}x${size}@2x.png" >/dev/null
done
iconutil -c icns "$ICONSET" -o "$WORK/CalibrationStudio.icns"
export CALIBRATION_STUDIO_ICNS="$WORK/CalibrationStudio.icns"

rm -rf "$APP"
"$PYTHON" -m PyInstaller --noconfirm --log-level "${PYI_LOG_LEVEL:-WARN}" \
    --distpath "$ROOT/dist" --workpath "$WORK/pyinstaller" packaging/calibration_studio.spec

# Ad-hoc signature: lets the app run on this Mac (Apple silicon refuses unsigned code).
# Distributing to other Macs needs a Developer ID signature and notarisation instead.
xattr -cr "$APP"
codesign --force --deep --sign - "$APP"
codesign --verify --deep --strict --verbose=2 "$APP"

# Smoke test: the bundle's binary starts. With --check it also analyses a generated song on two
# workers (the first run compiles librosa's numba code into ~/Library/Caches: a minute or two).
"$APP/Contents/MacOS/CalibrationStudio" --version
if [[ "${1:-}" == --check ]]; then
    SMOKE="$WORK/smoke"
    rm -rf "$SMOKE"
    "$PYTHON" -c "from pathlib import Path; from tests.audio import song; song(Path('$SMOKE/songs/a.wav'), 120, 8.0)"
    "$APP/Contents/MacOS/CalibrationStudio" analyze "$SMOKE/songs" --out "$SMOKE/out" --workers 2 --no-cache
    cat "$SMOKE/out/results.csv"
fi
plutil -p "$APP/Contents/Info.plist" | grep -E 'CFBundleIdentifier|CFBundleShortVersionString'
echo "Built: $APP"
echo "Run it:  open \"$APP\"   (or drag it to /Applications)"
