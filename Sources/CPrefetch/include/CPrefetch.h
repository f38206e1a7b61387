#ifndef CARTRIDGE_PREFETCH_H
#define CARTRIDGE_PREFETCH_H
/* Software prefetch for the inference kernels: Swift has no prefetch builtin, and the intrinsic
 * headers' _mm_prefetch is a macro, which Swift cannot import. Inlined into the Swift caller. */
static inline __attribute__((always_inline)) void cartridge_prefetch(const void *address) {
    __builtin_prefetch(address, 0, 3);
}
#endif
