#!/bin/sh
# Kempelen's two set-up commands (see README.md):
#
#   build-aux/setup.sh run    build the workstation and open the demo project
#   build-aux/setup.sh test   build everything and run every test
#
# Both install the Debian 12 packages they need when they are missing
# (through sudo when not root), configure meson in _build and build.
# The test command also builds the core in an ASan+UBSan configuration
# (_build-asan) and runs the core tests there, then prints one closing
# line "N passed, N failed" and exits non-zero on any failure.
set -eu

cd "$(dirname "$0")/.."
root=$(pwd)

packages="meson ninja-build pkg-config gcc libc6-dev libglib2.0-dev libglib2.0-dev-bin
 libglib2.0-bin libgtk-4-dev libadwaita-1-dev libsqlite3-dev libsoup-3.0-dev
 libjson-glib-dev libxml2-dev libgdk-pixbuf-2.0-dev libcairo2-dev gettext
 desktop-file-utils appstream python3 xvfb xauth xdotool x11-utils imagemagick
 shared-mime-info python3-boto3 awscli wrk faketime clang libclang-rt-14-dev openssl glib-networking
 libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev gstreamer1.0-plugins-base
 gstreamer1.0-plugins-good
 libpq-dev postgresql python3-psycopg2 libsecret-1-dev sqlite3
 gstreamer1.0-plugins-ugly gstreamer1.0-libav gstreamer1.0-plugins-bad
 libjpeg62-turbo-dev libpng-dev libtiff-dev libzstd-dev libgtk-4-media-gstreamer"

usage() {
  echo "usage: build-aux/setup.sh run|test" >&2
  exit 2
}

install_missing() {
  missing=""
  for p in $packages; do
    status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
    [ "$status" = "installed" ] || missing="$missing $p"
  done
  [ -z "$missing" ] && return 0
  echo "setup: installing$missing" >&2
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -q >&2
  # shellcheck disable=SC2086
  $sudo apt-get install -y -q --no-install-recommends $missing >&2
}

configure() {
  dir=$1; shift
  if [ -f "$dir/build.ninja" ]; then
    meson setup --reconfigure "$dir" "$@" >/dev/null
  else
    meson setup "$dir" "$@"
  fi
}

[ $# -eq 1 ] || usage

case "$1" in
  run)
    install_missing
    configure _build
    meson compile -C _build
    export GSETTINGS_SCHEMA_DIR="$root/_build/data"
    exec "$root/_build/src/app/kempelen" "$root/_build/data/demo"
    ;;
  test)
    install_missing
    exec python3 "$root/build-aux/run-tests.py"
    ;;
  *)
    usage
    ;;
esac
