import CartridgeDaemon
import CartridgeGGML
import CartridgeInference
import CartridgeTestSupport
import Foundation
import Logging
import Testing

/// `cartridged --kv-cache-type` reaches the served model: its cache type, and the default
/// KV budget (four full contexts) in bytes of that type. (The synthetic model's 16-wide heads
/// cannot take q16: asking for it is refused, and its default is f32.)
@Suite("KV cache type through the model loader")
struct KVCacheTypeLoaderTests {
    @Test("a GGUF model loads with the asked cache type; f16 halves the default budget's bytes, not its positions", arguments: [KVCacheType.f32, .f16, nil])
    func loaderHonoursTheCacheType(type: KVCacheType?) throws {
        let directory = try TemporaryDirectory("kv-cache-type")
        let path = directory.file("synthetic.gguf")
        try Data(try SyntheticGGUFModel.fileBytes(matrixType: .q8_0)).write(to: URL(fileURLWithPath: path))
        let served = try ServedModelLoader.loadGGUF(
            path: path, tuning: ServedModelLoader.DecoderTuning(threads: 1, kvCacheType: type), logger: Logger(label: "test"))
        let llama = try #require(served as? LlamaServedModel)
        let config = llama.model.config
        #expect(config.kvCacheType == type ?? .f32)
        let perPosition = 2 * config.layers * config.kvDim * (type == .f16 ? 2 : 4)
        #expect(llama.scheduler.kvBudgetBytes == 4 * config.seqLen * perPosition)
        // It generates either way.
        let session = llama.model.makeSession()
        let logits = try session.logitsOfEveryPosition(forPrompt: [1, 2, 3])
        #expect(logits.count == 3 * config.vocab && logits.allSatisfy(\.isFinite))
    }

    @Test("q16 on heads that are not whole blocks of 32 is refused with a clear error")
    func q16NeedsWholeBlocks() throws {
        let directory = try TemporaryDirectory("kv-cache-type")
        let path = directory.file("synthetic.gguf")
        try Data(try SyntheticGGUFModel.fileBytes(matrixType: .q8_0)).write(to: URL(fileURLWithPath: path))
        do {
            _ = try ServedModelLoader.loadGGUF(path: path, tuning: ServedModelLoader.DecoderTuning(threads: 1, kvCacheType: .q16), logger: Logger(label: "test"))
            Issue.record("a q16 cache on 16-wide heads was accepted")
        } catch {
            #expect("\(error)".contains("multiple of 32"), "\(error)")
        }
    }
}
