import CartridgeClient
@testable import CartridgeGateway
import CartridgeTestSupport
import CartridgeWire
import Foundation
import Synchronization
import Testing

/// Plugged-in cartridges told apart by bus/port path (two sticks burned from the same image share
/// a serial) and model ids: the `usb@BUS-PORT` URI, the pool following a bus scanner (in memory
/// here, over real daemons on Unix sockets, so no USB hardware is needed), and `ModelID`.
@Suite("gateway scanner and model ids", .serialized, .timeLimit(.minutes(3)))
struct GatewayScannerTests {
    // MARK: usb@BUS-PORT

    @Test func usbPortURIsParseAndPrintBack() throws {
        for text in ["usb@1-1", "usb@1-1.2", "usb@3-0", "usb@255-4.3.2.1"] {
            let uri = try CartridgeURI(parsing: text)
            #expect(uri == .usbPort(path: String(text.dropFirst(4))))
            #expect(uri.description == text)
        }
        #expect(try CartridgeURI(parsing: "usb:ab12") == .usb(serial: "ab12"))
        #expect(try CartridgeURI(parsing: "usb") == .usb(serial: nil))
    }

    @Test(arguments: ["usb@", "usb@1", "usb@1-", "usb@-1", "usb@1-1..2", "usb@x-1", "usb@1-1.", "usb@256-1", "usb@1-2-3"])
    func malformedPortPathsAreRefused(_ text: String) {
        #expect(throws: CartridgeClientError.self) { try CartridgeURI(parsing: text) }
    }

    // MARK: Two sticks, one serial

    /// A bus with cartridges that tests plug in and unplug.
    final class InMemoryBus: CartridgeScanner {
        private let plugged = Mutex<[ScannedCartridge]>([])
        private let stream = AsyncStream.makeStream(of: String.self)

        func plug(_ cartridge: ScannedCartridge) { plugged.withLock { $0.append(cartridge) } }

        func unplug(_ location: String) {
            plugged.withLock { $0.removeAll { $0.location == location } }
            stream.continuation.yield(location)
        }

        func scan() async -> [ScannedCartridge] { plugged.withLock { $0 } }
        func departures() -> AsyncStream<String>? { stream.stream }
    }

    static func health(_ gateway: GatewayHarness) async throws -> Int {
        try #require(try await gateway.get("/health").json?["cartridges"] as? Int)
    }

    /// Polls until /health reports `count` cartridges (5 s at most).
    static func waitForHealth(_ gateway: GatewayHarness, _ count: Int) async throws -> Bool {
        let deadline = ContinuousClock.now + .seconds(5)
        while ContinuousClock.now < deadline {
            if try await health(gateway) == count { return true }
            try await Task.sleep(for: .milliseconds(25))
        }
        return false
    }

    @Test func twoSticksWithTheSameSerialAreBothServedAndLeaveOneByOne() async throws {
        // Same checkpoint, same image digest: on USB both sticks would report the same serial.
        let first = try await RunningDaemon()
        let second = try await RunningDaemon()
        let card = try await first.connect().info()
        #expect(try await second.connect().info().imageDigest == card.imageDigest)
        let serial = String(lowercaseHex(card.imageDigest).prefix(16))
        let bus = InMemoryBus()
        bus.plug(ScannedCartridge(location: "1-1", serial: serial, uri: first.uri))
        bus.plug(ScannedCartridge(location: "1-2", serial: serial, uri: second.uri))
        var configuration = GatewayConfiguration()
        configuration.scanner = bus
        try await GatewayHarness.run(configuration, expectedCartridges: 2) { gateway in
            let models = try #require(try await gateway.get("/v1/models").json?["data"] as? [[String: Any]])
            #expect(models.count == 1)
            #expect(models.first?["cartridges"] as? Int == 2)
            // Both take requests.
            let model = try #require(models.first?["id"] as? String)
            let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                for index in 0..<8 {
                    group.addTask {
                        try await gateway.post("/v1/completions", json: ["model": model, "prompt": [1, 100 + index], "max_tokens": 24]).status
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(statuses == Array(repeating: 200, count: 8))
            let onFirst = try await gateway.metric("cartridge_gateway_cartridge_requests_total", containing: first.socketPath) ?? 0
            let onSecond = try await gateway.metric("cartridge_gateway_cartridge_requests_total", containing: second.socketPath) ?? 0
            #expect(onFirst >= 1 && onSecond >= 1 && onFirst + onSecond == 8, "spread \(onFirst) / \(onSecond)")

            // Unplug the stick at 1-2: only it leaves (its daemon still runs, so the departure did it).
            bus.unplug("1-2")
            #expect(try await Self.waitForHealth(gateway, 1))
            try await Task.sleep(for: .milliseconds(700))  // more than one scan: it does not come back
            #expect(try await Self.health(gateway) == 1)
            #expect(try await gateway.post("/v1/completions", json: ["model": model, "prompt": [1, 7], "max_tokens": 4]).status == 200)
            let servedBySecond = try await gateway.metric("cartridge_gateway_cartridge_requests_total", containing: second.socketPath) ?? 0
            #expect(servedBySecond == onSecond, "the unplugged stick takes no more requests")

            // Plugged back in at another port: it joins again.
            bus.plug(ScannedCartridge(location: "1-3", serial: serial, uri: second.uri))
            #expect(try await Self.waitForHealth(gateway, 2))
        }
        _ = await first.stop()
        _ = await second.stop()
    }

    // MARK: Model ids

    @Test(arguments: [
        ("SmolLM2 135M Instruct", "SmolLM2-135M-Instruct"), ("all-MiniLM-L6-v2", "all-MiniLM-L6-v2"), ("stories260K", "stories260K"),
        ("  Llama 3.2 1B / Instruct (Q4_K_M) ", "Llama-3.2-1B-Instruct-Q4_K_M"), ("a--b", "a-b"), ("日本語", ""), ("Qwen2.5 0.5B", "Qwen2.5-0.5B"),
    ])
    func slugs(_ name: String, _ slug: String) {
        #expect(ModelID.slug(name) == slug)
    }

    @Test func idsAreSlugsUnlessTwoNamesShareOne() {
        let ids = ModelID.ids(for: ["SmolLM2 135M Instruct", "all-MiniLM-L6-v2", "A B", "a-b", "日本語"])
        #expect(ids["SmolLM2 135M Instruct"] == "SmolLM2-135M-Instruct")
        #expect(ids["all-MiniLM-L6-v2"] == "all-MiniLM-L6-v2")
        #expect(ids["A B"] == "A B" && ids["a-b"] == "a-b", "a shared slug: each keeps its exact name")
        #expect(ids["日本語"] == "日本語", "no slug: the exact name")
    }

    @Test func percentEscapesInModelPathsAreDecoded() {
        #expect(ModelID.percentDecoded("SmolLM2%20135M%20Instruct") == "SmolLM2 135M Instruct")
        #expect(ModelID.percentDecoded("a%2Fb%e6%97%a5") == "a/b日")
        #expect(ModelID.percentDecoded("100%") == "100%" && ModelID.percentDecoded("%zz%4") == "%zz%4", "malformed escapes stay")
        #expect(ModelID.percentDecoded("%ff%fe") == "%ff%fe", "invalid UTF-8 stays as written")
    }

    @Test func resolvingNamesAndIds() {
        let names = ["SmolLM2 135M Instruct", "all-MiniLM-L6-v2", "A B", "a-b"]
        #expect(ModelID.resolve("SmolLM2 135M Instruct", among: names) == .name("SmolLM2 135M Instruct"))
        #expect(ModelID.resolve("SmolLM2-135M-Instruct", among: names) == .name("SmolLM2 135M Instruct"))
        #expect(ModelID.resolve("smollm2-135m-instruct", among: names) == .name("SmolLM2 135M Instruct"))
        #expect(ModelID.resolve("a-b", among: names) == .name("a-b"), "an exact name wins")
        #expect(ModelID.resolve("A-B", among: names) == .ambiguous(["A B", "a-b"]))
        #expect(ModelID.resolve("smollm", among: names) == .unknown)
        #expect(ModelID.resolve("", among: names) == .unknown)
        #expect(ModelID.resolve("???", among: names) == .unknown)
    }
}
