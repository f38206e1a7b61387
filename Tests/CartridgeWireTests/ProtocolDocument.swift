import CartridgeSystem
import CartridgeWire

/// The hex vectors of docs/PROTOCOL.md, read from the document itself so that the spec and the
/// code cannot drift apart.
enum ProtocolDocument {
    struct Vector: CustomStringConvertible {
        var kind: String  // "vector" (one frame) or "stream" (receiver behaviour)
        var name: String
        var bytes: [UInt8]
        var description: String { name }
    }

    static let path: String = {
        // Tests/CartridgeWireTests/ProtocolDocument.swift -> repository root.
        var components = #filePath.split(separator: "/", omittingEmptySubsequences: false)
        components.removeLast(3)
        return components.joined(separator: "/") + "/docs/PROTOCOL.md"
    }()

    static let vectors: [Vector] = {
        guard let bytes = try? FileBytes.read(path) else { return [] }
        let text = String(decoding: bytes, as: UTF8.self)
        var vectors: [Vector] = []
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        var index = 0
        while index < lines.count {
            let line = lines[index]
            if line.hasPrefix("<!-- vector ") || line.hasPrefix("<!-- stream ") {
                let parts = line.split(separator: " ")
                let kind = String(parts[1])
                let name = String(parts[2])
                index += 2  // skip the ```hex fence
                var bytes: [UInt8] = []
                while index < lines.count && !lines[index].hasPrefix("```") {
                    for token in lines[index].split(separator: " ") { bytes.append(UInt8(token, radix: 16)!) }
                    index += 1
                }
                vectors.append(Vector(kind: kind, name: name, bytes: bytes))
            }
            index += 1
        }
        return vectors
    }()

    static func frame(named name: String) -> [UInt8] {
        vectors.first { $0.name == name }!.bytes
    }
}
