import ArgumentParser
import CartridgeSystem

#if canImport(Glibc)
import Glibc
#endif

/// A minimal blocking HTTP/1.1 client for a server on 127.0.0.1 (llama-server): one request per
/// connection (`Connection: close`), body sent with Content-Length, the response read to the end
/// of the stream (Content-Length or chunked bodies). Blocking: call it from a dedicated thread.
struct LoopbackHTTPClient {
    var port: UInt16
    /// Seconds a single send or receive may block.
    var timeoutSeconds: Int = 600

    struct Response {
        var status: Int
        var body: [UInt8]
        var text: String { String(decoding: body, as: UTF8.self) }
    }

    func get(_ path: String) throws -> Response { try exchange(method: "GET", path: path, body: []) }

    func post(_ path: String, json body: [UInt8]) throws -> Response {
        try exchange(method: "POST", path: path, body: body, contentType: "application/json")
    }

    func exchange(method: String, path: String, body: [UInt8], contentType: String? = nil) throws -> Response {
        let rawSocket = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard rawSocket >= 0 else { throw ValidationError("\(SystemCallError.current("socket").message)") }
        let owned = OwnedDescriptor(adopting: rawSocket)
        defer { withExtendedLifetime(owned) {} }  // closed when this call returns or throws, not before
        let socketDescriptor = owned.rawValue
        var timeout = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        setsockopt(socketDescriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(socketDescriptor, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = UInt32(0x7f00_0001).bigEndian
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(socketDescriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw ValidationError("connect 127.0.0.1:\(port): \(String(cString: strerror(errno)))") }

        var head = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nConnection: close\r\nContent-Length: \(body.count)\r\n"
        if let contentType { head += "Content-Type: \(contentType)\r\n" }
        head += "\r\n"
        try sendAll(socketDescriptor, Array(head.utf8) + body)

        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count: Int
            do throws(SystemCallError) {
                count = try SystemCall.retryingInterrupts("recv") { recv(socketDescriptor, &buffer, buffer.count, 0) }
            } catch {
                throw ValidationError("recv from 127.0.0.1:\(port): \(error.message)")
            }
            if count == 0 { break }
            received += buffer[0..<count]
        }
        return try Self.parse(received)
    }

    private func sendAll(_ descriptor: Int32, _ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            do throws(SystemCallError) {
                offset += try SystemCall.retryingInterrupts("send") {
                    bytes[offset...].withUnsafeBytes { send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                }
            } catch {
                throw ValidationError("send to 127.0.0.1:\(port): \(error.message)")
            }
        }
    }

    /// Status line, headers and body of a complete response.
    static func parse(_ bytes: [UInt8]) throws -> Response {
        let separator: [UInt8] = [13, 10, 13, 10]
        guard let headerEnd = (0..<max(0, bytes.count - 3)).first(where: { bytes[$0..<($0 + 4)].elementsEqual(separator) }) else {
            throw ValidationError("incomplete HTTP response (\(bytes.count) bytes)")
        }
        let headerLines = String(decoding: bytes[..<headerEnd], as: UTF8.self).split(separator: "\r\n")
        let statusFields = headerLines.first?.split(separator: " ") ?? []
        guard statusFields.count >= 2, statusFields[0].hasPrefix("HTTP/1."), let status = Int(statusFields[1]) else {
            throw ValidationError("bad HTTP status line: \(headerLines.first ?? "")")
        }
        var contentLength: Int?
        var chunked = false
        for line in headerLines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let name = line[..<colon].lowercased()
            let value = line[line.index(after: colon)...].trimmed(of: " \t")
            if name == "content-length" { contentLength = Int(value) }
            if name == "transfer-encoding", value.lowercased().contains("chunked") { chunked = true }
        }
        var body = Array(bytes[(headerEnd + 4)...])
        if chunked {
            body = try dechunk(body)
        } else if let contentLength {
            guard body.count >= contentLength else { throw ValidationError("HTTP body shorter than its Content-Length") }
            body = Array(body[..<contentLength])
        }
        return Response(status: status, body: body)
    }

    /// The payload of a chunked body.
    static func dechunk(_ bytes: [UInt8]) throws -> [UInt8] {
        var out: [UInt8] = []
        var index = 0
        while index < bytes.count {
            guard let lineEnd = (index..<max(index, bytes.count - 1)).first(where: { bytes[$0] == 13 && bytes[$0 + 1] == 10 }) else {
                throw ValidationError("bad chunked HTTP body")
            }
            let sizeText = String(decoding: bytes[index..<lineEnd], as: UTF8.self).split(separator: ";").first ?? ""
            guard let size = Int(sizeText.trimmed(of: " "), radix: 16), size >= 0 else { throw ValidationError("bad chunk size '\(sizeText)'") }
            if size == 0 { break }
            let start = lineEnd + 2
            guard start + size <= bytes.count else { throw ValidationError("truncated HTTP chunk") }
            out += bytes[start..<(start + size)]
            index = start + size + 2
        }
        return out
    }
}

extension StringProtocol {
    /// The text without leading and trailing characters in `characters` (Foundation-free trim).
    fileprivate func trimmed(of characters: String) -> String {
        var slice = Substring(self)
        while let first = slice.first, characters.contains(first) { slice.removeFirst() }
        while let last = slice.last, characters.contains(last) { slice.removeLast() }
        return String(slice)
    }
}
