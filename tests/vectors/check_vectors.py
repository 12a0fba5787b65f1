#!/usr/bin/env python3
"""check_vectors.py - an independent reader of tests/vectors/vectors.json.

Written from docs/PROTOCOL.md alone, with the Python standard library only, as a check that
the document is precise enough for a second implementation. For every vector it decodes
`hex` with a strict canonical msgpack reader, maps the fields by the tables of the document
and compares them with `value`; encodes `value` back and compares with `hex`; and checks
that every strict prefix and the input followed by c0 are rejected.

Usage: python3 tests/vectors/check_vectors.py [path/to/vectors.json]
"""
import json
import sys


class Reject(Exception):
    pass


# ---- strict canonical msgpack (PROTOCOL.md section 2) ----------------------------------

def text_ok(b):
    try:
        s = b.decode("utf-8", "strict")  # rejects overlongs, surrogates, > U+10FFFF
    except UnicodeDecodeError:
        return False
    return all(not ((ord(c) < 0x20 and c not in "\t\n") or c == "\x7f") for c in s)


class Reader:
    def __init__(self, data):
        self.d = data
        self.i = 0

    def take(self, n):
        if n > len(self.d) - self.i:
            raise Reject("truncated")
        out = self.d[self.i:self.i + n]
        self.i += n
        return out

    def uint(self, n):
        return int.from_bytes(self.take(n), "big")

    def value(self, depth):
        """One value; depth = containers enclosing it. Containers come back as
        ('array', [..]) and ('map', [(k, v), ..]); keys keep their encoded bytes."""
        b = self.take(1)[0]
        if b <= 0x7f:
            return b
        if b >= 0xe0:
            return b - 0x100
        if 0xa0 <= b <= 0xbf:
            return self.text(b & 31)
        if 0x90 <= b <= 0x9f:
            return self.array(b & 15, depth)
        if 0x80 <= b <= 0x8f:
            return self.map(b & 15, depth)
        if b == 0xc0:
            return None
        if b in (0xc2, 0xc3):
            return b == 0xc3
        widths = {0xcc: 1, 0xcd: 2, 0xce: 4, 0xcf: 8}
        if b in widths:
            v = self.uint(widths[b])
            if v < {1: 0x80, 2: 0x100, 4: 0x10000, 8: 1 << 32}[widths[b]]:
                raise Reject("non-canonical uint")
            return v
        swidths = {0xd0: 1, 0xd1: 2, 0xd2: 4, 0xd3: 8}
        if b in swidths:
            n = swidths[b]
            v = int.from_bytes(self.take(n), "big", signed=True)
            if v >= {1: -32, 2: -128, 4: -32768, 8: -(1 << 31)}[n]:
                raise Reject("non-canonical int")
            return v
        lens = {0xc4: (1, 0, "bin"), 0xc5: (2, 0x100, "bin"), 0xc6: (4, 0x10000, "bin"),
                0xd9: (1, 32, "str"), 0xda: (2, 0x100, "str"), 0xdb: (4, 0x10000, "str"),
                0xdc: (2, 16, "array"), 0xdd: (4, 0x10000, "array"),
                0xde: (2, 16, "map"), 0xdf: (4, 0x10000, "map")}
        if b in lens:
            width, minimum, kind = lens[b]
            n = self.uint(width)
            if n < minimum:
                raise Reject("non-canonical header")
            if kind == "bin":
                return bytes(self.take(n))
            if kind == "str":
                return self.text(n)
            return self.array(n, depth) if kind == "array" else self.map(n, depth)
        raise Reject("excluded type %02x" % b)

    def text(self, n):
        raw = bytes(self.take(n))
        if not text_ok(raw):
            raise Reject("not text")
        return raw.decode("utf-8")

    def array(self, n, depth):
        if depth + 1 > 8:
            raise Reject("too deep")
        if n > len(self.d) - self.i:
            raise Reject("truncated")
        return ("array", [self.value(depth + 1) for _ in range(n)])

    def map(self, n, depth):
        if depth + 1 > 8:
            raise Reject("too deep")
        if 2 * n > len(self.d) - self.i:
            raise Reject("truncated")
        pairs, prev = [], None
        for _ in range(n):
            at = self.i
            k = self.value(depth + 1)
            key = bytes(self.d[at:self.i])
            if prev is not None and key <= prev:
                raise Reject("map keys not ascending")
            prev = key
            pairs.append((k, self.value(depth + 1)))
        return ("map", pairs)


def enc_uint(v):
    if v < 0x80:
        return bytes([v])
    for fmt, width in ((0xcc, 1), (0xcd, 2), (0xce, 4), (0xcf, 8)):
        if v < 1 << (8 * width):
            return bytes([fmt]) + v.to_bytes(width, "big")
    raise ValueError(v)


def enc_len(n, small, fix_bits, formats):
    if small is not None and n < (1 << fix_bits):
        return bytes([small | n])
    for fmt, width in formats:
        if n < 1 << (8 * width):
            return bytes([fmt]) + n.to_bytes(width, "big")
    raise ValueError(n)


def enc_bin(b):
    return enc_len(len(b), None, 0, ((0xc4, 1), (0xc5, 2), (0xc6, 4))) + b


def enc_str(s):
    b = s.encode("utf-8")
    return enc_len(len(b), 0xa0, 5, ((0xd9, 1), (0xda, 2), (0xdb, 4))) + b


def enc_array(n):
    return enc_len(n, 0x90, 4, ((0xdc, 2), (0xdd, 4)))


# ---- the schema of PROTOCOL.md sections 4, 6 and 7 ----------------------------------------

WRAP = [("audience", "u"), ("subject", "b"), ("device", "b"), ("sealed", "b")]
ENTRY = [("author", "b"), ("seq", "u")]  # an ACK's entry
VV_ENTRY = ENTRY + [("tip", "b")]  # a VV's entry: the tip of the event held at seq
ANSWER = [("item", "u"), ("value", "u")]
DEVICE_SEQ = [("device", "b"), ("seq", "u")]
DEVICE_PIN = [("device", "b"), ("seq", "u"), ("hash", "b")]
HEADER = [("version", "u"), ("group", "b"), ("author", "b"), ("seq", "u"), ("prev", "b"),
          ("hlc", "u"), ("epoch", "u"), ("kind", "u"), ("audience", "u"), ("subject", "b"),
          ("ref", "b")]
ENVELOPE = [("header", ("struct", HEADER)), ("ct_hash", "b"), ("sig", "b"), ("body", "b?")]
BODIES = {
    1: [("salt", "b"), ("name", "s"), ("tz", "s"), ("start_date", "u"), ("coach", "b"),
        ("agg_pk", "b"), ("recovery", "b")],
    2: [("member", "b"), ("role", "u"), ("devices", ("list", "b"))],
    3: [("member", "b"), ("cutoffs", ("list", ("fixed", DEVICE_PIN)))],
    4: [("member", "b"), ("device", "b")],
    5: [("epoch", "u"), ("wraps", ("list", ("fixed", WRAP)))],
    6: [("epoch", "u"), ("wraps", ("list", ("fixed", WRAP)))],
    7: [("code", "s"), ("title", "s"), ("description", "s"), ("canmeds", "u"),
        ("week_from", "u"), ("week_to", "u"), ("assignment_ref", "s"), ("signoff_role", "u")],
    8: [("date", "u"), ("code", "s")],
    9: [("date", "u"), ("off", "u")],
    10: [("date", "u"), ("code", "s"), ("status", "u"), ("obstacles", "u"),
         ("obstacle_note", "s"), ("situatie", "s"), ("taak", "s"), ("actie", "s"),
         ("resultaat", "s"), ("reflectie", "s"), ("share", "u"), ("draft", "u")],
    11: [("date", "u"), ("answers", ("list", ("fixed", ANSWER)))],
    12: [("target", "b"), ("text", "s")],
    13: [("category", "u"), ("text", "s"), ("concerns", "b")],
    14: [("signal", "b"), ("state", "u"), ("note", "s")],
    15: [("member", "b"), ("code", "s"), ("date", "u"), ("level", "u"), ("note", "s")],
    16: [("member", "b")],
    17: [("target", "b")],
    18: [("hub", "b"), ("addr", "s")],
    19: [("invite", "b"), ("role", "u"), ("expires", "u")],
    20: [("invite", "b")],
    21: [("hub_at", "u"), ("peer_at", "u"), ("held", ("list", ("fixed", DEVICE_SEQ)))],
    22: [("date", "u"), ("msg", "b")],
    23: [("agg_a", "b"), ("agg_b", "b"), ("team", "s"), ("location", "s")],
    24: [("invite", "b"), ("expires", "u"), ("proof", "b")],
    25: [("member", "b"), ("device", "b"), ("invite", "b"), ("sig", "b")],
    26: [("device", "b")],
    27: [("pk", "b")],
    28: [
        ("from", "b"),
        ("cutoff", "u"),
        ("tip", "b"),
        ("others", ("list", ("fixed", DEVICE_PIN))),
        ("sig", "b"),
    ],
    29: [("member", "b"), ("alias", "s"), ("year", "u"), ("track", "u")],
}
# member.add's optional fourth field (6.2): present when written, then before any ext.
MEMBER_ADD_FULL = BODIES[2] + [("invite", "b")]
REDEEM = [("invite", "b"), ("profile", "b"), ("sig", "b")]
FRAMES = {
    1: [("version", "u"), ("caps", "u"), ("eph", "b")],
    2: [("version", "u"), ("caps", "u"), ("eph", "b"), ("static_pk", "b"), ("sig", "b")],
    3: [("static_pk", "b"), ("sig", "b")],
    4: [("group", "b"), ("entries", ("list", ("fixed", VV_ENTRY)))],
    5: [("group", "b"), ("events", ("list", "b")), ("more", "u")],
    6: [("group", "b"), ("entries", ("list", ("fixed", ENTRY)))],
    7: [("code", "u"), ("text", "s")],
    8: [("nonce", "u")],
    9: [("nonce", "u")],
    11: REDEEM,
    12: [("group", "b"), ("invite", "b"), ("state", "u"), ("aggs", "b")],
    13: [("group", "b"), ("device", "b")] + REDEEM,
    14: [("after", "u"), ("upto", "u")],
    15: [("upto", "u"), ("setup", "b"), ("msgs", ("list", "b")), ("more", "u")],
    16: [("upto", "u"), ("skip", "b"), ("gate", "b")],
    17: [("gate", "b"), ("release", "b")],
}


def expect(cond, why):
    if not cond:
        raise Reject(why)


def to_json(v, t):
    """A decoded value of type t as vectors.json writes it."""
    if t == "u":
        expect(isinstance(v, int) and not isinstance(v, bool) and v >= 0, "want uint")
        return v
    if t == "s":
        expect(isinstance(v, str), "want str")
        return v
    if t == "b" or t == "b?":
        if t == "b?" and v is None:
            return None
        expect(isinstance(v, bytes), "want bin")
        return v.hex()
    kind, inner = t
    expect(isinstance(v, tuple) and v[0] == "array", "want array")
    items = v[1]
    if kind == "list":
        return [to_json(x, inner) for x in items]
    if kind == "fixed":
        expect(len(items) == len(inner), "fixed arity")
        return {name: to_json(x, ft) for (name, ft), x in zip(inner, items)}
    return struct_json(items, inner, None)


def struct_json(items, fields, raw_ext):
    expect(len(items) >= len(fields), "fewer fields than known")
    out = {name: to_json(x, ft) for (name, ft), x in zip(fields, items)}
    n_ext = len(items) - len(fields)
    expect(n_ext <= 16, "too many unknown fields")
    if n_ext:
        out["ext"] = {"n": n_ext, "raw": raw_ext}
    return out


def ext_raw(data, top_fields_skip):
    """Hex of the bytes after the first top_fields_skip elements of the top-level array."""
    r = Reader(data)
    b = data[0]
    r.i = 1 if b <= 0x9f else (3 if b == 0xdc else 5)
    for _ in range(top_fields_skip):
        r.value(1)
    return bytes(data[r.i:]).hex()


def decode(vec, data):
    r = Reader(data)
    if vec["type"] == "header":
        top = r.value(1)  # a header always counts as nested in an envelope
    else:
        top = r.value(0)
    expect(r.i == len(data), "trailing bytes")
    expect(isinstance(top, tuple) and top[0] == "array", "want array")
    items = top[1]
    if vec["type"] == "header":
        expect(len(items) >= 1 and items[0] == 1, "version")
        return struct_json(items, HEADER, ext_raw(data, len(HEADER)))
    if vec["type"] == "envelope":
        return struct_json(items, ENVELOPE, ext_raw(data, len(ENVELOPE)))
    if vec["type"] == "body":
        fields = BODIES[vec["kind"]]
        if vec["kind"] == 2 and len(items) > len(fields):
            fields = MEMBER_ADD_FULL
            expect(len(items[3][1] if isinstance(items[3], tuple) else items[3]) in (0, 32),
                   "invite is bin 0 or 32")
        return struct_json(items, fields, ext_raw(data, len(fields)))
    expect(len(items) >= 1 and items[0] in FRAMES, "frame type")
    fields = FRAMES[items[0]]
    out = {"type": items[0]}
    out.update(struct_json(items[1:], fields, ext_raw(data, 1 + len(fields))))
    return out


def from_json(v, t):
    if t == "u":
        return enc_uint(v)
    if t == "s":
        return enc_str(v)
    if t in ("b", "b?"):
        return b"\xc0" if v is None else enc_bin(bytes.fromhex(v))
    kind, inner = t
    if kind == "list":
        return enc_array(len(v)) + b"".join(from_json(x, inner) for x in v)
    if kind == "fixed":
        return enc_array(len(inner)) + b"".join(from_json(v[n], ft) for n, ft in inner)
    return struct_bytes(v, inner, b"")


def struct_bytes(v, fields, prefix):
    ext = v.get("ext")
    n = len(fields) + (1 if prefix else 0) + (ext["n"] if ext else 0)
    body = prefix + b"".join(from_json(v[name], ft) for name, ft in fields)
    return enc_array(n) + body + (bytes.fromhex(ext["raw"]) if ext else b"")


def encode(vec):
    v = vec["value"]
    if vec["type"] == "header":
        return struct_bytes(v, HEADER, b"")
    if vec["type"] == "envelope":
        return struct_bytes(v, ENVELOPE, b"")
    if vec["type"] == "body":
        fields = BODIES[vec["kind"]]
        if vec["kind"] == 2 and "invite" in v:
            fields = MEMBER_ADD_FULL
        return struct_bytes(v, fields, b"")
    return struct_bytes(v, FRAMES[v["type"]], enc_uint(v["type"]))


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else "tests/vectors/vectors.json"
    with open(path, encoding="utf-8") as f:
        doc = json.load(f)
    bad = 0
    for vec in doc["vectors"]:
        data = bytes.fromhex(vec["hex"])
        try:
            got = decode(vec, data)
        except Reject as e:
            print("FAIL %s: rejected: %s" % (vec["name"], e))
            bad += 1
            continue
        if got != vec["value"]:
            print("FAIL %s: decoded value differs" % vec["name"])
            bad += 1
        if encode(vec) != data:
            print("FAIL %s: encoding differs" % vec["name"])
            bad += 1
        for cut in range(len(data)):
            try:
                decode(vec, data[:cut])
                print("FAIL %s: prefix of %d bytes accepted" % (vec["name"], cut))
                bad += 1
            except Reject:
                pass
        try:
            decode(vec, data + b"\xc0")
            print("FAIL %s: trailing byte accepted" % vec["name"])
            bad += 1
        except Reject:
            pass
    print("%d vectors, %d failures" % (len(doc["vectors"]), bad))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
