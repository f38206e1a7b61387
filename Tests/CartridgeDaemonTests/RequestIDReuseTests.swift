import CartridgeTestSupport
import CartridgeWire
import Testing

/// Issue 13, defect 1: an id is free once its final frame has been sent, so a host may reuse it
/// the moment it has read that frame (PROTOCOL.md 4).
@Suite("Request ids are free after their final frame", .timeLimit(.minutes(2)))
struct RequestIDReuseTests {
    @Test func reusingAnIdRightAfterItsReplyIsNeverRefused() async throws {
        let server = try InProcessServer()
        var connection = try await server.connect()
        let text = String(repeating: "abc ", count: 1024)  // 4 KiB: the reply leaves late in the task
        var refusals = 0
        for _ in 0..<300 {
            try await connection.send(TokenizeRequest(text: text).frame(requestID: 5))
            let reply = try #require(try await connection.frames(of: 5).last)
            if reply.type == .error { refusals += 1 } else { #expect(reply.type == .tokens) }
        }
        for _ in 0..<300 {
            try await connection.send(PowerRequest().frame(requestID: 6))
            let reply = try #require(try await connection.frames(of: 6).last)
            if reply.type == .error { refusals += 1 } else { #expect(reply.type == .powerStatus) }
        }
        for _ in 0..<40 {
            try await connection.send(GenerateRequest(prompt: .tokens([1]), maximumTokens: 8).frame(requestID: 7))
            let reply = try #require(try await connection.frames(of: 7).last)
            if reply.type == .error { refusals += 1 } else { #expect(reply.type == .done) }
        }
        #expect(refusals == 0, "\(refusals) reuses refused")
        connection.close()
        try await server.stop()
    }
}
