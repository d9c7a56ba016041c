"""Edit protobuf image files by hand, for the bad-input tests.

An image is a 4-byte magic, then entries, each a 4-byte little-endian
length and a protobuf message. A message is edited as a list of
[field number, wire type, value] (value: int for varints, bytes
otherwise), so the tests need no generated code and can write what the
tool itself never would. reseal() makes checksums.img vouch for such
edits, so that they reach the decoding and validation behind the checksums.
"""

import os


def read_varint(data, pos):
    val = shift = 0
    while True:
        b = data[pos]
        pos += 1
        val |= (b & 0x7f) << shift
        shift += 7
        if not b & 0x80:
            return val, pos


def varint(v):
    v &= (1 << 64) - 1  # negative int32/int64 go as ten bytes
    out = bytearray()
    while True:
        b = v & 0x7f
        v >>= 7
        if not v:
            out.append(b)
            return bytes(out)
        out.append(b | 0x80)


def decode(msg):
    fields, pos = [], 0
    while pos < len(msg):
        key, pos = read_varint(msg, pos)
        num, wire = key >> 3, key & 7
        if wire == 0:
            val, pos = read_varint(msg, pos)
        elif wire == 1:
            val, pos = msg[pos:pos + 8], pos + 8
        elif wire == 2:
            size, pos = read_varint(msg, pos)
            val, pos = msg[pos:pos + size], pos + size
        elif wire == 5:
            val, pos = msg[pos:pos + 4], pos + 4
        else:
            raise ValueError('wire type %d' % wire)
        fields.append([num, wire, val])
    return fields


def encode(fields):
    out = b''
    for num, wire, val in fields:
        out += varint(num << 3 | wire)
        if wire == 0:
            out += varint(val)
        elif wire == 2:
            out += varint(len(val)) + bytes(val)
        else:
            out += bytes(val)
    return out


def read_entries(path):
    with open(path, 'rb') as f:
        data = f.read()
    magic, entries, pos = data[:4], [], 4
    while pos < len(data):
        size = int.from_bytes(data[pos:pos + 4], 'little')
        entries.append(data[pos + 4:pos + 4 + size])
        pos += 4 + size
    return magic, entries


def write_entries(path, magic, entries):
    with open(path, 'wb') as f:
        f.write(magic)
        for e in entries:
            f.write(len(e).to_bytes(4, 'little') + e)


def edit_entry(path, edit, index=0):
    """edit(fields) changes the decoded entry in place."""
    magic, entries = read_entries(path)
    fields = decode(entries[index])
    edit(fields)
    entries[index] = encode(fields)
    write_entries(path, magic, entries)


def nth(fields, num, n=0):
    """The n-th occurrence of field num (a [num, wire, value] list)."""
    return [f for f in fields if f[0] == num][n]


def edit_sub(fields, num, n, edit):
    """edit() the n-th embedded message of field num."""
    f = nth(fields, num, n)
    sub = decode(f[2])
    edit(sub)
    f[2] = encode(sub)


def set_varint(fields, num, value):
    nth(fields, num)[2] = value


def siginfo(signo, code=-1, size=128):
    """A raw siginfo_t: si_signo, si_errno, si_code, then zeros."""
    head = signo.to_bytes(4, 'little', signed=True) + bytes(4) + code.to_bytes(4, 'little', signed=True)
    return (head + bytes(size))[:size]


# ---- checksums.img (criu/image-sums.c): XXH64 of each 64 KiB block, sealed ----

_M = (1 << 64) - 1
_P1, _P2, _P3 = 11400714785074694791, 14029467366897019727, 1609587929392839161
_P4, _P5 = 9650029242287828579, 2870177450012600261


def _rotl(x, r):
    return ((x << r) | (x >> (64 - r))) & _M


def _round(acc, lane):
    return (_rotl((acc + lane * _P2) & _M, 31) * _P1) & _M


def _merge(h, v):
    return ((h ^ _round(0, v)) * _P1 + _P4) & _M


def xxh64(data, seed=0):
    """XXH64, as libxxhash computes it (for small files: pure Python)."""
    n, i = len(data), 0
    if n >= 32:
        v = [(seed + _P1 + _P2) & _M, (seed + _P2) & _M, seed & _M, (seed - _P1) & _M]
        while i + 32 <= n:
            for k in range(4):
                v[k] = _round(v[k], int.from_bytes(data[i + 8 * k:i + 8 * k + 8], 'little'))
            i += 32
        h = (_rotl(v[0], 1) + _rotl(v[1], 7) + _rotl(v[2], 12) + _rotl(v[3], 18)) & _M
        for k in range(4):
            h = _merge(h, v[k])
    else:
        h = (seed + _P5) & _M
    h = (h + n) & _M
    while i + 8 <= n:
        h = (_rotl(h ^ _round(0, int.from_bytes(data[i:i + 8], 'little')), 27) * _P1 + _P4) & _M
        i += 8
    if i + 4 <= n:
        h = (_rotl(h ^ (int.from_bytes(data[i:i + 4], 'little') * _P1 & _M), 23) * _P2 + _P3) & _M
        i += 4
    while i < n:
        h = (_rotl(h ^ (data[i] * _P5 & _M), 11) * _P1) & _M
        i += 1
    h ^= h >> 33
    h = (h * _P2) & _M
    h ^= h >> 29
    h = (h * _P3) & _M
    return h ^ (h >> 32)


SUMS = 'checksums.img'
SUMS_MAGIC = 0x4352493a
SUMS_BLOCK = 64 << 10


def _entries(data, off):
    out = []
    while off < len(data):
        size = int.from_bytes(data[off:off + 4], 'little')
        out.append(data[off + 4:off + 4 + size])
        off += 4 + size
    return out


def _file_sum(path, name):
    with open(path, 'rb') as f:
        data = f.read()
    blocks = b''.join(xxh64(data[o:o + SUMS_BLOCK]).to_bytes(8, 'little')
                      for o in range(0, len(data), SUMS_BLOCK))
    fields = [[1, 2, name.encode()], [2, 0, len(data)]]
    if blocks:
        fields.append([3, 2, blocks])
    return encode(fields)


def reseal(imgdir, changed):
    """Make checksums.img vouch again for the files named in changed (edited
    on purpose, to reach the checks behind it); a name no longer there is
    dropped, a new one added."""
    path = os.path.join(imgdir, SUMS)
    with open(path, 'rb') as f:
        data = f.read()
    seal_len = int.from_bytes(data[4:8], 'little')
    entries = {}
    for e in _entries(data, 8 + seal_len):
        name = bytes(nth(decode(e), 1)[2]).decode()
        entries[name] = e
    for name in changed:
        p = os.path.join(imgdir, name)
        if os.path.exists(p):
            entries[name] = _file_sum(p, name)
        else:
            entries.pop(name, None)
    rest = b''.join(len(e).to_bytes(4, 'little') + e for name, e in sorted(entries.items()))
    seal = encode([[1, 1, xxh64(rest).to_bytes(8, 'little')], [2, 0, SUMS_BLOCK]])
    with open(path, 'wb') as f:
        f.write(SUMS_MAGIC.to_bytes(4, 'little') + len(seal).to_bytes(4, 'little') + seal + rest)


def changed_files(orig, copy):
    """Image files of copy that differ from orig (by size, modification time or
    presence): what a damage() did."""
    names = set(f for f in os.listdir(orig) if f.endswith('.img')) | \
        set(f for f in os.listdir(copy) if f.endswith('.img'))
    out = []
    for name in sorted(names - {SUMS}):
        a, b = os.path.join(orig, name), os.path.join(copy, name)
        if not os.path.exists(a) or not os.path.exists(b):
            out.append(name)
            continue
        sa, sb = os.stat(a), os.stat(b)
        if (sa.st_size, sa.st_mtime_ns) != (sb.st_size, sb.st_mtime_ns):
            out.append(name)
    return out
