import ArgumentParser
import CartridgeImage

struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Verify a cartridge image offline and print its manifest and tensors.",
        discussion: "Exits non-zero, naming the problem, when the image is refused (corrupted, truncated, unsigned or untrusted).")

    @Argument(help: "The image file.") var image: String
    @Option(help: "Trusted-keys file: require a signature by one of these keys.") var trustedKeys: String?
    @Flag(help: "List every tensor (name, type, shape, offset, bytes).") var tensors = false

    func run() throws {
        let keys = try trustedKeys.map { path throws(ImageError) in try TrustedKeys(contentsOf: path) }
        let verified = try CartridgeImage.open(path: image, trustedKeys: keys)
        let megabytes = Double(verified.hashedByteCount) / 1_048_576
        let seconds = Double(verified.hashingDuration.components.attoseconds) / 1e18 + Double(verified.hashingDuration.components.seconds)
        print("image        \(image)")
        print("verified     digest sha256:\(verified.digest.hex)")
        print("             hashed \(String(format1: megabytes)) MiB in \(String(format1: seconds * 1000)) ms")
        if let signature = verified.signature {
            let who = verified.signer.map { "trusted key '\($0.name)'" } ?? "not checked against trusted keys"
            print("signature    Ed25519 by \(signature.publicKeyHex) (\(who))")
        } else {
            print("signature    none")
        }
        print("format       version \(verified.header.formatVersion), sections aligned to \(verified.header.sectionAlignment), tensors to \(verified.header.tensorAlignment)")
        print("manifest")
        for (key, value) in verified.manifest.entries { print("  \(key) = \(value)") }
        print("tokenizer    \(verified.tokenizerBlob.count) bytes")
        let tensorBytes = verified.tensors.reduce(0) { $0 + $1.length }
        print("tensors      \(verified.tensors.count), \(tensorBytes) bytes")
        if tensors {
            for tensor in verified.tensors {
                print("  \(tensor.name)  \(tensor.type)  \(tensor.shape)  @\(tensor.offset)  \(tensor.length) B")
            }
        }
    }
}

extension String {
    /// One decimal place, without Foundation.
    init(format1 value: Double) {
        let tenths = Int((value * 10).rounded())
        self = "\(tenths / 10).\(abs(tenths % 10))"
    }
}
