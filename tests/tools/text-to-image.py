#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Render a text QR code (as pam_devflow draws it) to a PNG, the way a terminal would show it.

Each character is a cell of --cell-width x --cell-height pixels: '#' and U+2588 fill the cell,
U+2580 fills the upper half, U+2584 the lower half, anything else is background. The default is
black ink on white paper; --invert draws white on black (a dark terminal). Python stdlib only.

usage: text-to-image.py [--invert] [--cell-width 8] [--cell-height 16] [--border N] INPUT OUTPUT.png
"""
import argparse
import struct
import sys
import zlib

FULL = {"#", "\u2588"}
UPPER = "\u2580"
LOWER = "\u2584"


def cell_rows(ch, h):
    """For each pixel row of a cell: is it inked?"""
    if ch in FULL:
        return [True] * h
    if ch == UPPER:
        return [y < h // 2 for y in range(h)]
    if ch == LOWER:
        return [y >= h // 2 for y in range(h)]
    return [False] * h


def render(lines, cw, ch, border):
    cols = max((len(l) for l in lines), default=0)
    width = cols * cw + 2 * border
    height = len(lines) * ch + 2 * border
    ink = [[False] * width for _ in range(height)]
    for row, line in enumerate(lines):
        for col, c in enumerate(line):
            for dy, on in enumerate(cell_rows(c, ch)):
                if on:
                    y = border + row * ch + dy
                    x0 = border + col * cw
                    for x in range(x0, x0 + cw):
                        ink[y][x] = True
    return width, height, ink


def png(width, height, ink, invert):
    fg, bg = (255, 0) if invert else (0, 255)
    raw = bytearray()
    for row in ink:
        raw.append(0)  # filter type: none
        raw.extend(fg if on else bg for on in row)

    def chunk(tag, data):
        c = struct.pack(">I", len(data)) + tag + data
        return c + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit greyscale
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(bytes(raw), 9))
            + chunk(b"IEND", b""))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--invert", action="store_true", help="white on black (dark terminal)")
    ap.add_argument("--cell-width", type=int, default=8)
    ap.add_argument("--cell-height", type=int, default=16)
    ap.add_argument("--border", type=int, default=0, help="extra background pixels around the text")
    ap.add_argument("input", help="text file ('-' for stdin)")
    ap.add_argument("output", help="PNG file to write")
    a = ap.parse_args()
    if a.cell_width < 1 or a.cell_height < 2:
        ap.error("cells must be at least 1x2 pixels")
    f = sys.stdin if a.input == "-" else open(a.input, encoding="utf-8")
    with f:
        lines = f.read().split("\n")
    while lines and lines[-1] == "":
        lines.pop()
    w, h, ink = render(lines, a.cell_width, a.cell_height, a.border)
    if w == 0 or h == 0:
        sys.exit("text-to-image: empty input")
    with open(a.output, "wb") as out:
        out.write(png(w, h, ink, a.invert))


if __name__ == "__main__":
    main()
