/// Bytes as lowercase hex, two digits each (`[0x0a, 0xff]` → `"0aff"`): how image digests, serial
/// numbers and raw payloads are shown by the CLI, the conformance runner and the daemon.
public func lowercaseHex(_ bytes: some Sequence<UInt8>) -> String {
    let digits = Array("0123456789abcdef".utf8)
    var text: [UInt8] = []
    text.reserveCapacity(bytes.underestimatedCount * 2)
    for byte in bytes {
        text.append(digits[Int(byte >> 4)])
        text.append(digits[Int(byte & 0x0F)])
    }
    return String(decoding: text, as: UTF8.self)
}
