#include "cpu_features.h"

int cartridge_cpu_runs_avx512_vnni(void) {
#if defined(__x86_64__)
    // __builtin_cpu_supports reports an AVX-512 feature only when XGETBV says the OS saves the
    // opmask and ZMM state, so a kernel without AVX-512 support gets 0 here.
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c")
        && __builtin_cpu_supports("bmi2") && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512cd")
        && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl")
        && __builtin_cpu_supports("avx512vnni");
#else
    return 0;
#endif
}
