#!/usr/bin/env python3
"""make-corpus.py - (re)writes the seed corpus of the fuzz harnesses,
test/fuzz/corpus/NAME/, from the repository's captures and configs.

  packet    single frames of pcaps/*.pcap, re-wrapped in every link type
  tcp       the TCP segments of each capture in the harness's segment format
  http1     each HTTP/1 connection's payload as stream records
  http2     each HTTP/2 connection's payload as stream records
  config    config/*.yaml
  identity  hand-made header sets (HS256 JWTs signed with the harness's test
            secret, Basic, API keys, cookies, forwarding headers)

Formats: see the comment at the top of each test/fuzz/fuzz_NAME.c. Seeds are
cut short (frames per capture, bytes per record) to keep the committed corpus
small. Python only, no packages: pcap files are read here directly.
Usage: python3 test/fuzz/make-corpus.py  (from anywhere)
"""
import base64, glob, hashlib, hmac, json, os, struct, sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT = os.path.join(ROOT, "test", "fuzz", "corpus")
MAX_SEED = 24 * 1024  # bytes per seed file


def pcap_frames(path):
    """(linktype, ts_us, frame) of a classic pcap file."""
    with open(path, "rb") as f:
        data = f.read()
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        e = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        e = ">"
    else:
        return
    nano = magic in (b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d")
    link = struct.unpack(e + "I", data[20:24])[0] & 0xFFFF
    off = 24
    while off + 16 <= len(data):
        sec, frac, incl, _ = struct.unpack(e + "IIII", data[off:off + 16])
        off += 16
        us = sec * 1000000 + (frac // 1000 if nano else frac)
        yield link, us, data[off:off + incl]
        off += incl


def ip_of(link, frame):
    """The IP packet inside a frame (Ethernet with VLANs, or DLT_NULL), or None."""
    if link == 1:
        off, et = 14, frame[12:14]
        while et in (b"\x81\x00", b"\x88\xa8") and len(frame) >= off + 4:
            et, off = frame[off + 2:off + 4], off + 4
        return frame[off:] if et in (b"\x08\x00", b"\x86\xdd") else None
    if link == 0:
        return frame[4:]
    return None


def tcp_of(ip):
    """(src, dst, sport, dport, seq, flags, payload) of an unfragmented TCP packet."""
    if len(ip) < 20:
        return None
    if ip[0] >> 4 == 4:
        hl = (ip[0] & 15) * 4
        if ip[9] != 6 or struct.unpack(">H", ip[6:8])[0] & 0x3FFF:
            return None
        tot = struct.unpack(">H", ip[2:4])[0]
        src, dst, seg = ip[12:16], ip[16:20], ip[hl:tot]
    elif ip[0] >> 4 == 6 and len(ip) >= 40:
        if ip[6] != 6:
            return None
        plen = struct.unpack(">H", ip[4:6])[0]
        src, dst, seg = ip[8:24], ip[24:40], ip[40:40 + plen]
    else:
        return None
    if len(seg) < 20:
        return None
    sport, dport, seq = struct.unpack(">HHI", seg[:8])
    doff = (seg[12] >> 4) * 4
    return src, dst, sport, dport, seq, seg[13], seg[doff:]


def write(name, label, blob):
    d = os.path.join(OUT, name)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, label), "wb") as f:
        f.write(blob[:MAX_SEED])


def connections(path):
    """Per TCP connection, in capture order: list of (client_side?, flags, seq, payload)."""
    conns = {}
    for link, _, frame in pcap_frames(path):
        ip = ip_of(link, frame)
        t = ip and tcp_of(ip)
        if not t:
            continue
        src, dst, sport, dport, seq, flags, payload = t
        a, b = (src, sport), (dst, dport)
        key = (min(a, b), max(a, b))
        if key not in conns:
            # the first packet's sender is the client unless it is a SYN-ACK
            client = a if (flags & 0x12) != 0x12 else b
            conns[key] = (client, [])
        client, segs = conns[key]
        segs.append((a == client, flags, seq, payload))
    return [v[1] for v in conns.values()]


def stream_records(segs, limit):
    """Stream records (fuzz_input.h) of a connection's payload, retransmissions dropped."""
    out, nxt = bytearray(), {}
    for from_client, flags, seq, payload in segs:
        side = 0 if from_client else 1
        if flags & 0x02:
            nxt[side] = (seq + 1) & 0xFFFFFFFF
            continue
        if side in nxt and ((seq - nxt[side]) & 0xFFFFFFFF) >= 0x80000000:
            continue  # old data
        if payload:
            out += bytes([side]) + struct.pack(">H", len(payload)) + payload
            nxt[side] = (seq + len(payload)) & 0xFFFFFFFF
        if flags & 0x01:
            out += bytes([side | 4, 0, 0])
        if len(out) > limit:
            break
    return bytes(out)


def tcp_records(segs, limit):
    """Segments in fuzz_tcp's format: offsets relative to the next unsent byte."""
    out, nxt = bytearray([0]), {}
    for from_client, flags, seq, payload in segs:
        side = 0 if from_client else 1
        if side not in nxt:
            nxt[side] = seq  # the harness's own ISN takes the place of this one
        off = (seq - nxt[side]) & 0xFFFFFFFF
        off = off - (1 << 32) if off >= 0x80000000 else off
        off = max(-32768, min(32767, off))
        out += bytes([side, flags]) + struct.pack(">hBH", off, 1, len(payload)) + payload
        end = (seq + len(payload) + (1 if flags & 3 else 0)) & 0xFFFFFFFF
        if ((end - nxt[side]) & 0xFFFFFFFF) < 0x80000000:
            nxt[side] = end
        if len(out) > limit:
            break
    return bytes(out)


def relink(link, frame):
    """An Ethernet frame re-wrapped for fuzz_packet's link types (enum pkt_link order)."""
    ip = ip_of(1, frame)
    if ip is None:
        return None
    v6 = ip[0] >> 4 == 6
    et = b"\x86\xdd" if v6 else b"\x08\x00"
    return {
        0: frame,
        1: b"\x00\x00\x00\x01\x00\x06" + frame[6:12] + b"\x00\x00" + et + ip,  # SLL
        2: et + b"\x00\x00\x00\x00\x00\x01\x00\x01\x00\x06" + frame[6:12] + b"\x00\x00" + ip,
        3: ip, 4: ip if not v6 else None, 5: ip if v6 else None,
        6: struct.pack("<I", 30 if v6 else 2) + ip,  # DLT_NULL, little-endian host
        7: struct.pack(">I", 24 if v6 else 2) + ip,  # DLT_LOOP
    }[link]


def seeds_from_pcaps():
    pcaps = sorted(glob.glob(os.path.join(ROOT, "pcaps", "*.pcap")))
    pub = os.path.join(ROOT, "..", "shared", "pcaps", "public")
    for sub in ("suricata-verify/http-chunked.pcap", "suricata-verify/http2-continuation.pcap",
                "arkime/v6-http.pcap", "zeek/http-qinq-0.pcap", "zeek/http-vlan-0.pcap",
                "zeek/get_nosyn.pcap", "suricata-verify/http-gap-simple.pcap"):
        if os.path.exists(os.path.join(pub, sub)):
            pcaps.append(os.path.join(pub, sub))
    for path in pcaps:
        base = os.path.basename(path).rsplit(".", 1)[0]
        frames = [(l, f) for l, _, f in pcap_frames(path)]
        # packet: a few frames per capture, each alone, in every link type
        for i, (l, f) in enumerate(frames[:6]):
            for link in range(8):
                g = relink(link, f) if l == 1 else (f if link == 6 and l == 0 else None)
                if g is not None:
                    write("packet", "%s-%d-link%d" % (base, i, link),
                          bytes([link]) + b"\x00" + struct.pack(">H", len(g)) + g)
        conns = connections(path)
        for j, segs in enumerate(conns[:3]):
            write("tcp", "%s-%d" % (base, j), tcp_records(segs, MAX_SEED))
            blob = stream_records(segs, MAX_SEED)
            if not blob:
                continue
            is_h2 = b"PRI * HTTP/2.0" in blob[:64] or base.startswith("h2")
            # option byte: http1 handshake seen (0x01), http2 start seen (0x00)
            write("http2" if is_h2 else "http1", "%s-%d" % (base, j),
                  (b"\x00" if is_h2 else b"\x01") + blob)
            # the differential mode: whole vs byte by byte (http1: handshake seen)
            write("http2" if is_h2 else "http1", "%s-%d-diff" % (base, j),
                  (b"\x10" if is_h2 else b"\x11") + blob)
            if is_h2 and "h2c" in base:
                write("http1", "%s-%d" % (base, j), b"\x01" + blob)


def b64u(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def jwt(header, claims, key=b"fuzz-hmac-secret"):
    h = b64u(json.dumps(header).encode()) + "." + b64u(json.dumps(claims).encode())
    alg = {"HS256": hashlib.sha256, "HS384": hashlib.sha384, "HS512": hashlib.sha512}
    sig = hmac.new(key, h.encode(), alg.get(header.get("alg"), hashlib.sha256)).digest()
    return h + "." + b64u(sig)


def seeds_identity():
    # names index fuzz_identity.c's table: 0 Authorization, 2 X-API-Key,
    # 4 Cookie, 6 X-Forwarded-For, 7 Forwarded, 8 Host, 9 User-Agent
    claims = {"sub": "alice", "iss": "https://idp.example", "aud": ["api", "web"],
              "scope": "read write", "roles": ["admin", "ops"], "iat": 1700000000,
              "exp": 1700003600, "nbf": 1699999000, "jti": "j-1"}
    sets = {
        "jwt-hs256": [(0, "Bearer " + jwt({"alg": "HS256", "typ": "JWT"}, claims))],
        "jwt-kid-k2": [(0, "Bearer " + jwt({"alg": "HS256", "kid": "k2"}, claims, b"secret-two"))],
        "jwt-hs512": [(0, "Bearer " + jwt({"alg": "HS512"}, {"sub": "bob", "scp": ["a", "b"]}))],
        "jwt-none": [(0, "Bearer " + b64u(b'{"alg":"none"}') + "." + b64u(b'{"sub":"eve"}') + ".")],
        "jwt-es256": [(0, "Bearer " + jwt({"alg": "ES256", "kid": "ec1"}, claims)[:-10] + "AAAA")],
        "jwt-eddsa": [(0, "Bearer " + jwt({"alg": "EdDSA"}, {"sub": "x", "groups": ["g"]}))],
        "jwt-rs256": [(0, "Bearer " + jwt({"alg": "RS256", "kid": "rsa1"}, claims))],
        "basic": [(0, "Basic " + base64.b64encode(b"carol:pw").decode()), (9, "curl/8")],
        "bearer-opaque": [(1, "bearer abcdefghijklmnop")],
        "api-key": [(2, "k-123"), (4, "session=s1; theme=dark")],
        "cookie": [(5, "a=b; JSESSIONID=xyz; sid=2")],
        "forwarded": [(6, "203.0.113.9, 10.1.2.3"), (7, 'for="[2001:db8::1]:4711";proto=https'),
                      (8, "api.example:8443")],
    }
    for label, fields in sets.items():
        blob = bytearray([0]) + struct.pack(">I", 1700000100)
        for sel, value in fields:
            v = value.encode()
            blob += bytes([sel]) + struct.pack(">H", len(v)) + v
        write("identity", label, bytes(blob))
    jwks = {"keys": [{"kty": "oct", "kid": "k", "k": b64u(b"s")},
                     {"kty": "OKP", "crv": "Ed25519", "x": b64u(bytes(32))},
                     {"kty": "EC", "crv": "P-256", "x": b64u(bytes(32)), "y": b64u(bytes(32))},
                     {"kty": "RSA", "n": b64u(b"\xc1" * 256), "e": "AQAB", "alg": "RS256"}]}
    write("identity", "jwks", b"\x06" + json.dumps(jwks).encode())
    pem = os.path.join(ROOT, "test", "fuzz", "fuzz_identity.c")
    text = open(pem).read()
    start = text.find("-----BEGIN PUBLIC KEY-----")
    end = text.find("-----END PUBLIC KEY-----", start) + 24
    body = "".join(l.strip().strip('"').replace("\\n", "\n") for l in text[start:end].splitlines())
    write("identity", "pem", b"\x07" + body.encode())


def seeds_config():
    for path in sorted(glob.glob(os.path.join(ROOT, "config", "*.yaml"))):
        with open(path, "rb") as f:
            write("config", os.path.basename(path), f.read())


if __name__ == "__main__":
    seeds_from_pcaps()
    seeds_identity()
    seeds_config()
    total = sum(os.path.getsize(p) for p in glob.glob(os.path.join(OUT, "*", "*")))
    print("corpus: %d files, %d bytes" % (len(glob.glob(os.path.join(OUT, "*", "*"))), total))
    sys.exit(0)
