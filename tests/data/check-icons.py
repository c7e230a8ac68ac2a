#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Checks the application icons: every SVG parses, the full-colour icons are
# square, and the symbolic icon is 16x16 and painted in #2e3436 only (GTK
# recolours symbolic icons from that colour). Usage: check-icons.py ICONS-DIR

import os
import re
import sys
import xml.etree.ElementTree as ET

SVG = '{http://www.w3.org/2000/svg}'
APP_ID = 'io.github.kempelen.Kempelen'


def fail(message):
    print('FAIL: ' + message, file=sys.stderr)
    sys.exit(1)


def load(path):
    try:
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError) as e:
        fail('{}: {}'.format(path, e))
    if root.tag != SVG + 'svg':
        fail('{}: the root element is not <svg>'.format(path))
    return root


def size(root, path):
    try:
        return float(root.get('width')), float(root.get('height'))
    except (TypeError, ValueError):
        fail('{}: no numeric width and height'.format(path))


def colours(root):
    found = set()
    for element in root.iter():
        for attribute in ('fill', 'stroke', 'stop-color'):
            value = element.get(attribute)
            if value is not None:
                found.add(value.lower())
        for match in re.finditer(r'(fill|stroke)\s*:\s*([^;]+)', element.get('style', '')):
            found.add(match.group(2).strip().lower())
    return found


def main():
    icons = sys.argv[1]
    scalable = os.path.join(icons, 'hicolor', 'scalable', 'apps')
    symbolic = os.path.join(icons, 'hicolor', 'symbolic', 'apps')

    for name in (APP_ID + '.svg', APP_ID + '.Devel.svg'):
        path = os.path.join(scalable, name)
        width, height = size(load(path), path)
        if width != height or width < 64:
            fail('{}: expected a square icon of at least 64 px, got {}x{}'.format(path, width, height))

    path = os.path.join(symbolic, APP_ID + '-symbolic.svg')
    root = load(path)
    if size(root, path) != (16.0, 16.0):
        fail('{}: a symbolic icon must be 16x16'.format(path))
    painted = colours(root) - {'none'}
    if painted != {'#2e3436'}:
        fail('{}: a symbolic icon must be painted in #2e3436 only, found {}'.format(path, sorted(painted)))

    print('ok: icons')


if __name__ == '__main__':
    main()
