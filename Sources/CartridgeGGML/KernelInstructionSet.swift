#if canImport(Glibc)
import Glibc
#endif
import CCPUFeatures

/// Which of the kernel families runs the 16-bit activation dots of the quantized types, chosen
/// once per process at run time:
/// - `avx512VNNI`: CartridgeGGMLVNNI's kernels (`vpdpwssd`), for Q8_0, Q4_0, Q4_1 and Q5_0
///   rows, where the CPU has AVX-512 F/CD/BW/DQ/VL and VNNI; the other types keep the AVX2
///   kernels.
/// - `avx2`: the package's x86-64 baseline (haswell: AVX2, FMA, F16C).
/// - `portable`: the Swift SIMD kernels of other architectures.
///
/// `CARTRIDGE_KERNELS=avx2` in the environment keeps an AVX-512 machine on the AVX2 kernels (to
/// compare the two, or to rule the newer ones out); a family the CPU cannot run is never chosen,
/// nor the portable one on x86-64 (those builds do not carry it as a run-time choice).
public enum KernelInstructionSet: String, Sendable, CaseIterable, CustomStringConvertible {
    case portable
    case avx2
    case avx512VNNI = "avx512-vnni"

    public var description: String { rawValue }

    /// The best family this CPU runs.
    public static let detected: KernelInstructionSet = {
        #if arch(x86_64)
        return cartridge_cpu_runs_avx512_vnni() != 0 ? .avx512VNNI : .avx2
        #else
        return .portable
        #endif
    }()

    /// The family the kernels use: `detected`, or a lower one named by CARTRIDGE_KERNELS.
    public static let active: KernelInstructionSet = {
        guard let value = getenv("CARTRIDGE_KERNELS"), let requested = KernelInstructionSet(rawValue: String(cString: value)),
            requested != .portable, requested.rank <= detected.rank
        else { return detected }
        return requested
    }()

    var rank: Int {
        switch self {
        case .portable: 0
        case .avx2: 1
        case .avx512VNNI: 2
        }
    }
}
