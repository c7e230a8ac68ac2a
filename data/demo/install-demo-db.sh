#!/bin/sh
# Installs the demo project's database: install-demo-db.sh DB DIR
# DIR is relative to the install prefix; DESTDIR is honoured through
# MESON_INSTALL_DESTDIR_PREFIX.
set -eu
db="$1"
dir="${MESON_INSTALL_DESTDIR_PREFIX}/$2"
install -d -m 755 "$dir"
install -m 644 "$db" "$dir/project.db"
