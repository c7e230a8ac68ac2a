#!/bin/sh
# Renders data/screenshots/workstation.png: the real workstation on the demo
# project, under a private Xvfb server. Run after `meson compile -C _build`.
#
#   build-aux/make-screenshot.sh [OUTPUT.png]
set -eu
cd "$(dirname "$0")/.."
out=${1:-data/screenshots/workstation.png}
build=${KP_BUILD_DIR:-_build}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# A private copy of the demo, so the screenshot never changes the build's.
cp -r "$build/data/demo" "$work/demo"

export GSETTINGS_BACKEND=memory
export GSETTINGS_SCHEMA_DIR="$PWD/$build/data"
case "$out" in /*) ;; *) out="$PWD/$out" ;; esac
export KP_SCREENSHOT_OUT="$out"
export KP_APP="$PWD/$build/src/app/kempelen"
export KP_DEMO="$work/demo"

xvfb-run -a -s "-screen 0 1200x800x24" sh -c '
  "$KP_APP" "$KP_DEMO" >/dev/null 2>&1 &
  pid=$!
  sleep 4
  xdotool mousemove 700 420
  sleep 1
  import -silent -window root "$KP_SCREENSHOT_OUT"
  kill $pid
'
echo "wrote $out"
