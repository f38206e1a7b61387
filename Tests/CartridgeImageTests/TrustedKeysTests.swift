import Testing

@testable import CartridgeImage

@Suite struct TrustedKeysTests {
    @Test func parsesKeysCommentsAndBlankLines() throws {
        let key = try ImageSigningKey(seed: Array(repeating: 9, count: 32), name: "Acme Models")
        let text = "# devices trust these publishers\n\n\(key.trustedKey.line)\r\n  ed25519 \(String(repeating: "AB", count: 32))   second key  \n"
        let keys = try TrustedKeys(parsing: text)
        try #require(keys.keys.count == 2)
        #expect(keys.keys[0] == key.trustedKey)
        #expect(keys.keys[1].name == "second key")
        #expect(keys.keys[1].publicKey == Array(repeating: 0xAB, count: 32))
        #expect(keys.key(matching: key.publicKey)?.name == "Acme Models")
    }

    @Test(arguments: [
        "", "# only a comment\n", "rsa \(String(repeating: "00", count: 32)) name", "ed25519 \(String(repeating: "00", count: 31)) short",
        "ed25519 \(String(repeating: "zz", count: 32)) nothex", "ed25519 \(String(repeating: "00", count: 32))",
    ])
    func refusesMalformedFiles(text: String) {
        let error = #expect(throws: ImageError.self) { try TrustedKeys(parsing: text) }
        #expect(error?.code == .malformedTrustedKeys)
    }

    @Test func signingKeyFileRoundTrips() throws {
        let key = ImageSigningKey(generatingWithName: "fresh publisher")
        let reloaded = try ImageSigningKey(parsing: key.fileText)
        #expect(reloaded.publicKey == key.publicKey)
        #expect(reloaded.name == "fresh publisher")
        #expect(throws: ImageError.self) { try ImageSigningKey(parsing: "ed25519-private 00 x") }
    }
}
