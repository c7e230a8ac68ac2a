#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Checks that the Flatpak manifest parses and builds this tree as the .Devel
# flavour of the app on the GNOME runtime. Usage: check-flatpak-manifest.py MANIFEST

import json
import sys

EXPECTED_ID = 'io.github.kempelen.Kempelen.Devel'


def fail(message):
    print('FAIL: ' + message, file=sys.stderr)
    sys.exit(1)


def main():
    if len(sys.argv) != 2:
        print('usage: check-flatpak-manifest.py MANIFEST', file=sys.stderr)
        sys.exit(2)

    path = sys.argv[1]
    try:
        with open(path, encoding='utf-8') as f:
            manifest = json.load(f)
    except (OSError, ValueError) as e:
        fail('{}: {}'.format(path, e))

    if not isinstance(manifest, dict):
        fail('the manifest is not a JSON object')

    app_id = manifest.get('id', manifest.get('app-id'))
    if app_id != EXPECTED_ID:
        fail('id is {!r}, expected {!r}'.format(app_id, EXPECTED_ID))
    if manifest.get('runtime') != 'org.gnome.Platform':
        fail('runtime is {!r}, expected org.gnome.Platform'.format(manifest.get('runtime')))
    if manifest.get('sdk') != 'org.gnome.Sdk':
        fail('sdk is {!r}, expected org.gnome.Sdk'.format(manifest.get('sdk')))
    if not str(manifest.get('runtime-version', '')).strip():
        fail('runtime-version is missing')
    if manifest.get('command') != 'kempelen':
        fail('command is {!r}, expected kempelen'.format(manifest.get('command')))

    finish_args = manifest.get('finish-args', [])
    for arg in ('--share=ipc', '--socket=wayland', '--socket=fallback-x11', '--device=dri'):
        if arg not in finish_args:
            fail('finish-args lacks ' + arg)

    modules = manifest.get('modules', [])
    app = [m for m in modules if isinstance(m, dict) and m.get('name') == 'kempelen']
    if len(app) != 1:
        fail('expected exactly one module named kempelen, found {}'.format(len(app)))
    app = app[0]
    if modules[-1] is not app:
        fail('the kempelen module must be the last module')
    if app.get('buildsystem') != 'meson':
        fail('the kempelen module does not build with meson')
    if app.get('builddir') is not True:
        fail('the kempelen module does not set "builddir": true')
    if '-Ddevelopment=true' not in app.get('config-opts', []):
        fail('the kempelen module does not pass -Ddevelopment=true')
    if app.get('run-tests') is not True:
        fail('the kempelen module does not run its tests')
    if {'type': 'dir', 'path': '..'} not in app.get('sources', []):
        fail('the kempelen module does not build this tree ({"type": "dir", "path": ".."})')

    print('ok: {} on {}//{}'.format(app_id, manifest['runtime'], manifest['runtime-version']))


if __name__ == '__main__':
    main()
