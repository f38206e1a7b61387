#!/usr/bin/env python3
"""A second, independent client of the cartridge protocol, written from docs/PROTOCOL.md alone
(no code shared with the Swift implementation). The end-to-end tests run it against cartridged.

usage: protocol-client.py SOCKET_PATH [PROMPT_TOKEN_IDS] [MAX_TOKENS]
prints:  hello version=1 max_payload=N
         card name=... family=...
         pong ok
         tokens 1,2,3
         done stop_reason=N generated=N
"""
import socket
import struct
import sys

MAGIC = b"CRTG"


def frame(frame_type, request_id, payload=b"", flags=0):
    return MAGIC + struct.pack("<BBHII", 1, frame_type, flags, request_id, len(payload)) + payload


def string(text):
    data = text.encode("utf-8")
    return struct.pack("<I", len(data)) + data


class Reader:
    def __init__(self, sock):
        self.sock, self.buffer = sock, b""

    def exactly(self, count):
        while len(self.buffer) < count:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("connection closed")
            self.buffer += chunk
        data, self.buffer = self.buffer[:count], self.buffer[count:]
        return data

    def frame(self):
        header = self.exactly(16)
        if header[:4] != MAGIC:
            raise ValueError("bad magic")
        version, frame_type, flags, request_id, length = struct.unpack("<BBHII", header[4:])
        return frame_type, request_id, self.exactly(length)


class Payload:
    def __init__(self, data):
        self.data, self.offset = data, 0

    def take(self, fmt):
        values = struct.unpack_from("<" + fmt, self.data, self.offset)
        self.offset += struct.calcsize("<" + fmt)
        return values[0] if len(values) == 1 else values

    def string(self):
        length = self.take("I")
        text = self.data[self.offset:self.offset + length].decode("utf-8")
        self.offset += length
        return text


def main():
    path = sys.argv[1]
    prompt = [int(x) for x in sys.argv[2].split(",")] if len(sys.argv) > 2 else [1]
    max_tokens = int(sys.argv[3]) if len(sys.argv) > 3 else 8
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.connect(path)
    reader = Reader(sock)

    sock.sendall(frame(0x01, 1, struct.pack("<HHII", 1, 1, 65536, 0) + string("python")))
    frame_type, request_id, payload = reader.frame()
    assert frame_type == 0x81 and request_id == 1, (frame_type, request_id)
    version, max_payload = Payload(payload).take("HI")
    print(f"hello version={version} max_payload={max_payload}")

    sock.sendall(frame(0x02, 2))
    frame_type, _, payload = reader.frame()
    assert frame_type == 0x82
    card = Payload(payload)
    name, family = card.string(), card.string()
    print(f"card name={name} family={family}")

    sock.sendall(frame(0x09, 3, b"\x01\x02\x03"))
    frame_type, request_id, payload = reader.frame()
    assert (frame_type, request_id, payload) == (0x89, 3, b"\x01\x02\x03")
    print("pong ok")

    request = struct.pack("<IffIQI", max_tokens, 0.0, 0.0, 0, 0, 0) + b"\x01"
    request += struct.pack("<I", len(prompt)) + b"".join(struct.pack("<I", t) for t in prompt)
    request += struct.pack("<I", 0)  # no stop sequences
    sock.sendall(frame(0x05, 4, request))
    tokens = []
    while True:
        frame_type, request_id, payload = reader.frame()
        assert request_id == 4
        if frame_type == 0x85:
            index, token_id = Payload(payload).take("II")
            assert index == len(tokens)
            tokens.append(token_id)
        elif frame_type == 0x8E:
            done = Payload(payload)
            stop_reason, _, _, generated = done.take("BIII")
            break
        else:
            raise ValueError(f"unexpected frame type {frame_type:#x}")
    print("tokens " + ",".join(map(str, tokens)))
    print(f"done stop_reason={stop_reason} generated={generated}")
    sock.close()


if __name__ == "__main__":
    main()
