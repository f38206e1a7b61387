import CartridgeErrors
import Testing

@Suite("ModuleError")
struct ModuleErrorTests {
    struct SampleError: ModuleError {
        struct Code: Hashable, Sendable, CustomStringConvertible {
            var description: String
        }
        var code = Code(description: "broken")
        var message = "the widget broke"
        var cause: (any Error & Sendable)?
        var location = CartridgeErrors.SourceLocation(fileID: "Sample/Widget.swift", line: 7)
        var details: [String] = []
    }

    @Test func theDescriptionIsTypeCodeMessageDetailsAndLocation() {
        var error = SampleError()
        #expect(error.description == "SampleError.broken: the widget broke [Sample/Widget.swift:7]")
        error.details = ["at byte 12"]
        #expect(error.description == "SampleError.broken: the widget broke [at byte 12] [Sample/Widget.swift:7]")
    }

    @Test func causesPrintAsATree() {
        var inner = SampleError()
        inner.message = "inner"
        inner.cause = SampleError(message: "innermost")
        let outer = SampleError(message: "outer", cause: inner)
        #expect(
            outer.description == """
                SampleError.broken: outer [Sample/Widget.swift:7]
                └─ Cause: SampleError.broken: inner [Sample/Widget.swift:7]
                   └─ Cause: SampleError.broken: innermost [Sample/Widget.swift:7]
                """)
    }
}
