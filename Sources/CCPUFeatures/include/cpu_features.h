#ifndef CARTRIDGE_CPU_FEATURES_H
#define CARTRIDGE_CPU_FEATURES_H

/// 1 if this CPU (and the kernel, which must save the AVX-512 register state) runs the
/// AVX-512 VNNI kernels of CartridgeGGMLVNNI: AVX-512 F, CD, BW, DQ, VL and VNNI, plus the
/// AVX2 / FMA / F16C / BMI2 level the package's x86-64 code needs anyway. 0 otherwise, and
/// always 0 off x86-64. Swift cannot ask cpuid itself (`__builtin_cpu_supports` is a C builtin).
int cartridge_cpu_runs_avx512_vnni(void);

#endif
