#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""End-to-end, as a user would: the real kempelen binary on the X display
this test runs under (Xvfb), a box dragged with xdotool, a label key
pressed, the process killed with SIGKILL, and the box found at the dragged
position in `kempelenctl export --format coco`.

Prints TAP.
"""

import json
import os
import signal
import subprocess
import sys
import tempfile
import time

BUILD = os.environ["KP_BUILD_ROOT"]
KEMPELEN = os.path.join(BUILD, "src", "app", "kempelen")
KEMPELENCTL = os.path.join(BUILD, "src", "cli", "kempelenctl")
FIXTURE = os.path.join(BUILD, "tests", "e2e", "kp-e2e-fixture")

IMAGE_W, IMAGE_H = 800, 600
MAGENTA = (255, 0, 255)

n = 0


def ok(cond, what):
    global n
    n += 1
    print("%s %d - %s" % ("ok" if cond else "not ok", n, what), flush=True)
    if not cond:
        raise SystemExit(1)


def screenshot():
    """The whole screen as (width, height, bytes of RGB)."""
    data = subprocess.run(["import", "-silent", "-window", "root", "-depth", "8", "ppm:-"],
                          check=True, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL).stdout
    # Binary PPM: "P6\n<w> <h>\n<max>\n" then RGB bytes.
    fields = []
    pos = 0
    while len(fields) < 4:
        while data[pos:pos + 1].isspace():
            pos += 1
        if data[pos:pos + 1] == b"#":
            pos = data.index(b"\n", pos) + 1
            continue
        end = pos
        while not data[end:end + 1].isspace():
            end += 1
        fields.append(data[pos:end])
        pos = end
    pos += 1
    assert fields[0] == b"P6" and int(fields[3]) == 255
    return int(fields[1]), int(fields[2]), data[pos:]


def find_magenta(width, height, rgb):
    """Screen rectangle (x0, y0, x1, y1) of the largest solid magenta area
    (the image on the canvas; its thumbnail in the list is smaller), or None."""
    stride = width * 3
    runs = []  # (y, x_start, length) of the longest magenta run in each row
    for y in range(height):
        row = rgb[y * stride:(y + 1) * stride]
        best = (0, 0)
        x = 0
        while x < width:
            if row[x * 3] == 255 and row[x * 3 + 1] == 0 and row[x * 3 + 2] == 255:
                x0 = x
                while x < width and row[x * 3] == 255 and row[x * 3 + 1] == 0 and row[x * 3 + 2] == 255:
                    x += 1
                if x - x0 > best[1]:
                    best = (x0, x - x0)
            else:
                x += 1
        if best[1] > 0:
            runs.append((y, best[0], best[1]))
    if not runs:
        return None
    longest = max(r[2] for r in runs)
    rows = [r for r in runs if r[2] >= longest - 2]
    x0 = min(r[1] for r in rows)
    return x0, rows[0][0], x0 + longest, rows[-1][0] + 1


def xdotool(*args):
    subprocess.run(["xdotool", *[str(a) for a in args]], check=True)


def main():
    print("1..7", flush=True)
    if "DISPLAY" not in os.environ:
        print("Bail out! no DISPLAY: run under xvfb-run", flush=True)
        return 1

    with tempfile.TemporaryDirectory(prefix="kp-e2e-") as tmp:
        folder = os.path.join(tmp, "street")
        subprocess.run([FIXTURE, folder], check=True)
        ok(os.path.exists(os.path.join(folder, "scene-00000.png")), "fixture folder made")

        env = dict(os.environ)
        app = subprocess.Popen([KEMPELEN, folder], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            box = None
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and app.poll() is None:
                box = find_magenta(*screenshot())
                if box and box[2] - box[0] > 100:
                    # Let the fit settle: two identical readings.
                    time.sleep(0.3)
                    again = find_magenta(*screenshot())
                    if again == box:
                        break
                time.sleep(0.2)
            ok(app.poll() is None, "kempelen is running")
            ok(box is not None, "the image is on screen at %s" % (box,))

            sx0, sy0, sx1, sy1 = box
            scale = (sx1 - sx0) / IMAGE_W

            def to_screen(ix, iy):
                return round(sx0 + ix * scale), round(sy0 + iy * scale)

            start = (100, 120)
            end = (420, 360)
            ax, ay = to_screen(*start)
            bx, by = to_screen(*end)
            # Click once to give the canvas keyboard focus (there is no window
            # manager under Xvfb; focus follows the pointer).
            xdotool("mousemove", ax, ay)
            time.sleep(0.2)
            xdotool("mousedown", 1)
            for i in range(1, 21):
                xdotool("mousemove", ax + (bx - ax) * i // 20, ay + (by - ay) * i // 20)
                time.sleep(0.01)
            xdotool("mouseup", 1)
            time.sleep(0.3)
            xdotool("key", "2")
            time.sleep(0.8)
            os.kill(app.pid, signal.SIGKILL)
            app.wait(timeout=10)
            ok(app.returncode == -signal.SIGKILL, "kempelen killed with SIGKILL")
        finally:
            if app.poll() is None:
                app.kill()
                app.wait()

        out = os.path.join(tmp, "coco.json")
        res = subprocess.run([KEMPELENCTL, "export", "--project", folder, "--format", "coco",
                              "--output", out], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True)
        ok(res.returncode == 0, "kempelenctl export succeeded: %s" % res.stderr.strip())
        with open(out, encoding="utf-8") as f:
            coco = json.load(f)
        cats = {c["id"]: c["name"] for c in coco["categories"]}
        anns = coco["annotations"]
        ok(len(anns) == 1 and cats[anns[0]["category_id"]] == "person",
           "one box, relabelled to 'person' by key 2: %s" % (anns,))
        x, y, w, h = anns[0]["bbox"]
        tol = 2.0 / scale + 1.0
        want = (start[0], start[1], end[0] - start[0], end[1] - start[1])
        ok(all(abs(a - b) <= tol for a, b in zip((x, y, w, h), want)),
           "box at the dragged position: got %s, want %s (±%.1f px)" % ((x, y, w, h), want, tol))
    return 0


if __name__ == "__main__":
    sys.exit(main())
