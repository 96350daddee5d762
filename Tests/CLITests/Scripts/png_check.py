#!/usr/bin/env python3
"""Independent PNG decoder (Python's zlib + struct, no libpng) used by voxterm's CLI tests.

Usage: png_check.py FILE.png [--pixel X,Y ...] [--region]
Verifies the signature and every chunk CRC, inflates IDAT, undoes the five PNG filters for
8-bit RGBA/RGB/grey images, and prints one JSON object: width, height, colour type, text
chunks, the requested pixels, and the bounding box and centroid of pixels that are neither
grey nor black (coloured overlay pixels).
"""
import json, struct, sys, zlib


def decode(path):
    data = open(path, 'rb').read()
    if data[:8] != b'\x89PNG\r\n\x1a\n':
        raise SystemExit(f'{path}: not a PNG (bad signature)')
    pos, idat, text, hdr = 8, b'', {}, None
    while pos < len(data):
        length, ctype = struct.unpack('>I4s', data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        crc, = struct.unpack('>I', data[pos + 8 + length:pos + 12 + length])
        if zlib.crc32(ctype + body) & 0xffffffff != crc:
            raise SystemExit(f'{path}: bad CRC in {ctype.decode()} chunk')
        if ctype == b'IHDR':
            hdr = struct.unpack('>IIBBBBB', body)
        elif ctype == b'IDAT':
            idat += body
        elif ctype == b'tEXt':
            k, v = body.split(b'\0', 1)
            text[k.decode('latin-1')] = v.decode('latin-1')
        elif ctype == b'iTXt':
            k, rest = body.split(b'\0', 1)
            rest = rest[2:]
            _, rest = rest.split(b'\0', 1)
            _, rest = rest.split(b'\0', 1)
            text[k.decode('latin-1')] = rest.decode('utf-8')
        elif ctype == b'IEND':
            break
        pos += 12 + length
    w, h, depth, ctype, _, _, interlace = hdr
    if depth != 8 or interlace != 0 or ctype not in (0, 2, 6):
        raise SystemExit(f'{path}: unsupported PNG variant (depth {depth}, colour type {ctype}, interlace {interlace})')
    bpp = {0: 1, 2: 3, 6: 4}[ctype]
    raw = zlib.decompress(idat)
    stride = w * bpp
    rows, prev = [], bytearray(stride)
    for y in range(h):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for x in range(stride):
            a = line[x - bpp] if x >= bpp else 0
            b = prev[x]
            c = prev[x - bpp] if x >= bpp else 0
            if f == 1: line[x] = (line[x] + a) & 255
            elif f == 2: line[x] = (line[x] + b) & 255
            elif f == 3: line[x] = (line[x] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pr = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                line[x] = (line[x] + pr) & 255
            elif f != 0:
                raise SystemExit(f'{path}: bad filter type {f} on row {y}')
        rows.append(line)
        prev = line
    def px(x, y):
        r = rows[y][x * bpp:(x + 1) * bpp]
        return list(r) if bpp > 1 else [r[0]] * 3
    return w, h, ctype, text, px


def main():
    path = sys.argv[1]
    w, h, ctype, text, px = decode(path)
    out = {'width': w, 'height': h, 'color_type': ctype, 'text': text, 'pixels': {}}
    args = sys.argv[2:]
    for i, a in enumerate(args):
        if a == '--pixel':
            x, y = map(int, args[i + 1].split(','))
            out['pixels'][f'{x},{y}'] = px(x, y)
    if '--region' in args:
        xs, ys = [], []
        for y in range(h):
            for x in range(w):
                p = px(x, y)
                if max(p[:3]) - min(p[:3]) > 40:
                    xs.append(x); ys.append(y)
        out['colored'] = {'count': len(xs)}
        if xs:
            out['colored'].update(centroid=[sum(xs) / len(xs), sum(ys) / len(ys)],
                                  box=[min(xs), min(ys), max(xs), max(ys)])
    print(json.dumps(out))


if __name__ == '__main__':
    main()
