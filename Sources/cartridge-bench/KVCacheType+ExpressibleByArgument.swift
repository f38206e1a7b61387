import ArgumentParser
import CartridgeInference

/// `--kv-cache-type f32|f16`.
extension KVCacheType: ExpressibleByArgument {}
