"""Edit protobuf image files by hand, for the bad-input tests.

An image is a 4-byte magic, then entries, each a 4-byte little-endian
length and a protobuf message. A message is edited as a list of
[field number, wire type, value] (value: int for varints, bytes
otherwise), so the tests need no generated code and can write what the
tool itself never would.
"""


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
