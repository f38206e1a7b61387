#if arch(x86_64)
import CartridgeGGMLVNNI

/// The hand-over to CartridgeGGMLVNNI's AVX-512 VNNI kernels (`KernelInstructionSet.avx512VNNI`)
/// for the types it has: Q8_0, Q4_0, Q4_1, Q5_0. Callers ask `KernelInstructionSet.active` first.
extension GGMLKernels {
    @inline(__always)
    static func wideColumn(_ a: WideQuantizedActivation) -> WideColumn {
        WideColumn(quants: UnsafeRawPointer(a.quants), scales: a.scales, sums: a.sums, planes: UnsafeRawPointer(a.planes))
    }

    /// Row · activation by the VNNI kernel of `type`, or nil when it has none (the AVX2 kernel
    /// runs then). count is within the activation's capacity (checked by the caller).
    @inline(__always)
    static func vnniDot(_ type: GGMLType, _ row: UnsafeRawPointer, _ a: WideQuantizedActivation, count: Int) -> Float? {
        switch type.rawValue {
        case 8: VNNIKernels.dotQ8_0(row, wideColumn(a), blocks: checkedBlocks(count, 32, type))
        case 2: VNNIKernels.dotQ4_0(row, wideColumn(a), blocks: checkedBlocks(count, 32, type))
        case 3: VNNIKernels.dotQ4_1(row, wideColumn(a), blocks: checkedBlocks(count, 32, type))
        case 6: VNNIKernels.dotQ5_0(row, wideColumn(a), blocks: checkedBlocks(count, 32, type))
        default: nil
        }
    }

    /// One row against `columns` (1...4) activations by the VNNI kernel of `type`, results to
    /// out[c · stride]; false (nothing written) when `type` has none. Checks every activation's
    /// capacity.
    static func vnniColumns(
        _ type: GGMLType, _ row: UnsafeRawPointer, _ a: UnsafePointer<WideQuantizedActivation>, columns: Int, count: Int,
        into out: UnsafeMutablePointer<Float>, stride: Int
    ) -> Bool {
        let kernel: (UnsafeRawPointer, WideColumnGroup, Int, UnsafeMutablePointer<Float>, Int) -> Void
        switch type.rawValue {
        case 8: kernel = VNNIKernels.columnsQ8_0
        case 2: kernel = VNNIKernels.columnsQ4_0
        case 3: kernel = VNNIKernels.columnsQ4_1
        case 6: kernel = VNNIKernels.columnsQ5_0
        default: return false
        }
        let blocks = checkedBlocks(count, 32, type)
        let group = WideColumnGroup(count: columns) { c in
            precondition(count <= a[c].capacity, "GGMLKernels.dot: count \(count) exceeds the wide activation capacity \(a[c].capacity)")
            return wideColumn(a[c])
        }
        kernel(row, group, blocks, out, stride)
        return true
    }
}
#endif
