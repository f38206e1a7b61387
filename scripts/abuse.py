#!/usr/bin/env python3
"""Abuse run against a live cartridged (issue 13): floods of idle connections, hosts that never
read, cancelled EMBEDs. Prints the daemon's thread count and resident memory before, at the peak
and after each phase, for docs/PERFORMANCE.md. Needs only the Python standard library.

    scripts/abuse.py --socket /tmp/c.sock --pid PID idle [--connections 10000]
    scripts/abuse.py --socket /tmp/c.sock --pid PID slow-readers [--readers 4]
    scripts/abuse.py --socket /tmp/c.sock --pid PID cancel-embed      # an embedding cartridge

The frames are built from docs/PROTOCOL.md alone (16-byte little-endian header, magic CRTG).
"""
import argparse
import socket
import struct
import sys
import time

MAGIC = b"CRTG"


def frame(kind, request_id, payload=b"", flags=0):
    return MAGIC + struct.pack("<BBHII", 1, kind, flags, request_id, len(payload)) + payload


def string(text):
    data = text.encode()
    return struct.pack("<I", len(data)) + data


def hello():
    return frame(0x01, 1, struct.pack("<HHII", 1, 1, 1 << 20, 0) + string("abuse"))


def generate(request_id, maximum_tokens):
    payload = struct.pack("<IffIQI", maximum_tokens, 0.0, 0.0, 0, 0, 0) + b"\x01" + struct.pack("<II", 1, 1)
    return frame(0x05, request_id, payload + struct.pack("<I", 0))


def embed(request_id, sentences):
    return frame(0x06, request_id, struct.pack("<I", len(sentences)) + b"".join(string(s) for s in sentences))


def read_frame(sock):
    header = b""
    while len(header) < 16:
        chunk = sock.recv(16 - len(header))
        if not chunk:
            return None
        header += chunk
    _, _, kind, _, request_id, length = struct.unpack("<4sBBHII", header)
    payload = b""
    while len(payload) < length:
        chunk = sock.recv(length - len(payload))
        if not chunk:
            return None
        payload += chunk
    return kind, request_id, payload


def figures(pid):
    values = {}
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            key, _, value = line.partition(":")
            if key in ("Threads", "VmRSS"):
                values[key] = value.strip()
    return f"threads {values['Threads']}, RSS {values['VmRSS']}"


def connect(path):
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.connect(path)
    return sock


def idle(args):
    print("before:", figures(args.pid))
    sockets, failed = [], 0
    started = time.monotonic()
    for _ in range(args.connections):
        try:
            sockets.append(connect(args.socket))
        except OSError:
            failed += 1
    print(f"opened {len(sockets)} of {args.connections} connections ({failed} connect() failures) in {time.monotonic() - started:.1f} s")
    time.sleep(1)
    print("peak:", figures(args.pid))
    refused = 0
    for sock in sockets:
        sock.settimeout(0.001)
        try:
            reply = read_frame(sock)
            if reply and reply[0] == 0xFF:
                refused += 1
        except (socket.timeout, OSError):
            pass
    print(f"refused with ERROR(BUSY) id 0: {refused}")
    time.sleep(args.wait)
    print(f"after {args.wait} s (handshake timeout):", figures(args.pid))
    for sock in sockets:
        sock.close()
    time.sleep(1)
    print("after closing:", figures(args.pid))


def slow_readers(args):
    print("before:", figures(args.pid))
    readers = []
    for index in range(args.readers):
        sock = connect(args.socket)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.sendall(hello())
        read_frame(sock)
        sock.sendall(generate(2, 1_000_000))
        readers.append(sock)  # never read again
    time.sleep(0.5)
    print(f"{args.readers} hosts generating, not reading:", figures(args.pid))
    other = connect(args.socket)
    other.sendall(hello())
    read_frame(other)
    started = time.monotonic()
    request_id, busy = 10, 0
    while True:
        other.sendall(generate(request_id, 4))
        while True:
            kind, rid, _ = read_frame(other)
            if rid == request_id and kind in (0x8E, 0xFF):
                break
        if kind == 0x8E:
            break
        busy += 1
        request_id += 1
        time.sleep(0.1)
    print(f"another host was served after {time.monotonic() - started:.1f} s ({busy} BUSY answers)")
    print("then:", figures(args.pid))
    for sock in readers:
        sock.close()
    other.close()
    time.sleep(1)
    print("after closing:", figures(args.pid))


def cancel_embed(args):
    print("before:", figures(args.pid))
    sock = connect(args.socket)
    sock.sendall(hello())
    read_frame(sock)
    sentences = [("word%d " % i) * 500 for i in range(256)]  # about 1 MiB (under the 1 MiB payload limit)
    started = time.monotonic()
    sock.sendall(embed(3, sentences))
    time.sleep(0.5)
    sock.sendall(frame(0x07, 3))
    kind, _, payload = read_frame(sock)
    name = {0x86: "EMBEDDINGS", 0x8E: "DONE", 0xFF: "ERROR"}.get(kind, hex(kind))
    detail = f" stop_reason {payload[0]}" if kind == 0x8E else ""
    if kind == 0xFF:
        detail = " " + payload[6:].decode(errors="replace")
    print(f"CANCEL 0.5 s into a 1 MiB EMBED: {name}{detail} {time.monotonic() - started:.2f} s after the EMBED")
    print("after:", figures(args.pid))
    sock.close()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--socket", required=True)
    parser.add_argument("--pid", required=True, type=int)
    parser.add_argument("phase", choices=["idle", "slow-readers", "cancel-embed"])
    parser.add_argument("--connections", type=int, default=10000)
    parser.add_argument("--readers", type=int, default=4)
    parser.add_argument("--wait", type=float, default=11)
    args = parser.parse_args()
    {"idle": idle, "slow-readers": slow_readers, "cancel-embed": cancel_embed}[args.phase](args)


if __name__ == "__main__":
    sys.exit(main())
