import CartridgeClient
import CartridgeGateway
import CartridgeTestSupport
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// A gateway running in this process on a free loopback port, over the given cartridges, and an
/// HTTP client for it (SwiftNIO's HTTP/1 codec, one connection per request). `run` waits until
/// `expectedCartridges` have joined the pool.
struct GatewayHarness {
    let port: Int
    var base: String { "http://127.0.0.1:\(port)" }

    static let quietLogger = Logger(label: "gateway-test", factory: { _ in SwiftLogNoOpLogHandler() })

    static func run<Value: Sendable>(
        _ configuration: GatewayConfiguration, expectedCartridges: Int, _ body: @Sendable (GatewayHarness) async throws -> Value
    ) async throws -> Value {
        var configuration = configuration
        configuration.host = "127.0.0.1"
        configuration.port = 0
        configuration.usbDiscovery = false
        let (ports, portContinuation) = AsyncStream.makeStream(of: Int.self)
        let gateway = Gateway(configuration: configuration, logger: quietLogger) { port in portContinuation.yield(port) }
        return try await withThrowingTaskGroup(of: Value?.self) { group in
            group.addTask {
                try await gateway.run()
                return nil
            }
            var iterator = ports.makeAsyncIterator()
            guard let port = await iterator.next() else { throw DaemonFailure("the gateway did not start") }
            let harness = GatewayHarness(port: port)
            do {
                try await harness.waitForCartridges(expectedCartridges)
                let value = try await body(harness)
                group.cancelAll()
                return value
            } catch {
                group.cancelAll()
                throw error
            }
        }
    }

    /// Polls /health until `count` cartridges are in the pool (20 s at most).
    func waitForCartridges(_ count: Int) async throws {
        let deadline = ContinuousClock.now + .seconds(20)
        while ContinuousClock.now < deadline {
            if let health = try? await get("/health").json, case let cartridges as Int = health["cartridges"], cartridges >= count { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw DaemonFailure("fewer than \(count) cartridges joined the gateway within 20 s")
    }

    struct Reply: Sendable {
        var status: Int
        var headers: [(String, String)]
        var body: [UInt8]
        var text: String { String(decoding: body, as: UTF8.self) }
        var json: [String: any Sendable]? {
            (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: any Sendable]
        }
        func header(_ name: String) -> String? { headers.first { $0.0.lowercased() == name.lowercased() }?.1 }
        /// The `error` object of an OpenAI error answer.
        var error: [String: any Sendable]? { json?["error"] as? [String: any Sendable] }
    }

    func get(_ path: String, headers: [(String, String)] = []) async throws -> Reply {
        try await send("GET", path, body: nil, headers: headers)
    }

    func post(_ path: String, json: [String: any Sendable], headers: [(String, String)] = []) async throws -> Reply {
        let data = try JSONSerialization.data(withJSONObject: json)
        return try await send("POST", path, body: Array(data), headers: headers + [("Content-Type", "application/json")])
    }

    func send(_ method: String, _ path: String, body: [UInt8]?, headers: [(String, String)] = []) async throws -> Reply {
        var reply = Reply(status: 0, headers: [], body: [])
        try await exchange(method, path, body: body, headers: headers) { part in
            switch part {
            case .head(let head):
                reply.status = Int(head.status.code)
                reply.headers = head.headers.map { ($0.name, $0.value) }
            case .body(let buffer):
                reply.body.append(contentsOf: buffer.readableBytesView)
            case .end:
                break
            }
            return true
        }
        return reply
    }

    /// One request on its own connection; `onPart` sees the response as it arrives and returns
    /// false to stop reading, which closes the connection (the client goes away).
    func exchange(
        _ method: String, _ path: String, body: [UInt8]?, headers: [(String, String)],
        onPart: (HTTPClientResponsePart) async throws -> Bool
    ) async throws {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    return try NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>(wrappingChannelSynchronously: channel)
                }
            }
        try await channel.executeThenClose { inbound, outbound in
            var head = HTTPRequestHead(version: .http1_1, method: HTTPMethod(rawValue: method), uri: path)
            head.headers.add(name: "Host", value: "127.0.0.1:\(port)")
            head.headers.add(name: "Connection", value: "close")
            for (name, value) in headers { head.headers.add(name: name, value: value) }
            if let body { head.headers.add(name: "Content-Length", value: "\(body.count)") }
            // One write for the whole request: a server that answers a GET as soon as its head
            // arrives and closes (Connection: close) must not fail a separate write of the end.
            var parts: [HTTPClientRequestPart] = [.head(head)]
            if let body { parts.append(.body(.byteBuffer(ByteBuffer(bytes: body)))) }
            parts.append(.end(nil))
            try await outbound.write(contentsOf: parts)
            for try await part in inbound {
                if try await !onPart(part) { return }
                if case .end = part { return }
            }
        }
    }

    /// A streamed POST: the SSE `data:` payloads as they arrive, handed to `onEvent` (return
    /// false to stop reading and hang up). Returns the HTTP status.
    func stream(_ path: String, json: [String: any Sendable], onEvent: (String) async throws -> Bool) async throws -> Int {
        let body = Array(try JSONSerialization.data(withJSONObject: json))
        var status = 0
        var pending = ""
        try await exchange("POST", path, body: body, headers: [("Content-Type", "application/json")]) { part in
            switch part {
            case .head(let head):
                status = Int(head.status.code)
                return true
            case .body(let buffer):
                pending += String(decoding: buffer.readableBytesView, as: UTF8.self)
                while let range = pending.range(of: "\n\n") {
                    let event = String(pending[..<range.lowerBound])
                    pending = String(pending[range.upperBound...])
                    guard event.hasPrefix("data: ") else { continue }
                    if try await !onEvent(String(event.dropFirst(6))) { return false }
                }
                return true
            case .end:
                return false
            }
        }
        return status
    }

    /// The value of a Prometheus sample line `name{labels} value` whose labels contain `labelText`.
    func metric(_ name: String, containing labelText: String = "") async throws -> Double? {
        let text = try await get("/metrics").text
        for line in text.split(separator: "\n") where line.hasPrefix(name) && (labelText.isEmpty || line.contains(labelText)) {
            if let value = line.split(separator: " ").last.flatMap({ Double($0) }) { return value }
        }
        return nil
    }
}

/// Decodes an SSE data payload as a JSON object.
func eventJSON(_ data: String) -> [String: any Sendable]? {
    (try? JSONSerialization.jsonObject(with: Data(data.utf8))) as? [String: any Sendable]
}

/// The text of a completion choice (`choices[0].text` or `choices[0].delta.content`).
func choiceText(_ object: [String: any Sendable]?) -> String? {
    guard let choices = object?["choices"] as? [Any], let first = choices.first as? [String: Any] else { return nil }
    if let text = first["text"] as? String { return text }
    return (first["delta"] as? [String: Any])?["content"] as? String
}
