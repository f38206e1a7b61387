/*
 * llama-logits: writes llama.cpp's logits for every position of a teacher-forced token sequence,
 * so they can be compared with the float64 reference (scripts/reference/gguf-forward.py) by
 * scripts/reference/compare-logits.py. Written for the Cartridge project against the public
 * llama.h API only; it contains no llama.cpp code.
 *
 * Usage:
 *   llama-logits -m MODEL.gguf -f TOKENS -o OUT.f32 [-t THREADS] [--no-flash] [--flash]
 *                [-ctk f16|f32|q8_0] [-ctv f16|f32|q8_0] [--one-by-one]
 *
 *   TOKENS    a file of token ids separated by commas, whitespace or brackets (a JSON list works)
 *   OUT.f32   little-endian float32, row-major [positions x vocab], no header; row p holds the
 *             logits predicting the token after position p
 *   defaults  llama.cpp's own: flash attention "auto" (on for the CPU backend), K/V cache f16,
 *             all tokens in one llama_decode call (prompt-processing path); --one-by-one decodes one
 *             token per call (the generation path). Threads default to 2.
 *
 * Build (llama.cpp built as shared libraries in $LLAMA/build, see docs/PERFORMANCE.md):
 *   LLAMA=/work/llama.cpp/llama_cpp_python-0.3.36/vendor/llama.cpp
 *   gcc -O2 -o llama-logits llama-logits.c -I$LLAMA/include -I$LLAMA/ggml/include \
 *       -L$LLAMA/build/bin -lllama -lggml -lggml-base -Wl,-rpath,$LLAMA/build/bin
 */
#include <llama.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void quiet_log(enum ggml_log_level level, const char *text, void *user_data) {
    (void)user_data;
    if (level == GGML_LOG_LEVEL_ERROR) {
        fputs(text, stderr);
    }
}

static int parse_cache_type(const char *name, enum ggml_type *type) {
    if (strcmp(name, "f16") == 0) { *type = GGML_TYPE_F16; return 1; }
    if (strcmp(name, "f32") == 0) { *type = GGML_TYPE_F32; return 1; }
    if (strcmp(name, "q8_0") == 0) { *type = GGML_TYPE_Q8_0; return 1; }
    return 0;
}

/* Reads every decimal integer of the file; anything else separates them. */
static llama_token *read_tokens(const char *path, int *count) {
    FILE *file = fopen(path, "rb");
    if (!file) {
        fprintf(stderr, "llama-logits: cannot open %s: %s\n", path, strerror(errno));
        return NULL;
    }
    size_t capacity = 256, used = 0;
    llama_token *tokens = malloc(capacity * sizeof *tokens);
    long value = 0;
    int in_number = 0, c;
    while (tokens) {
        c = fgetc(file);
        if (c >= '0' && c <= '9') {
            value = value * 10 + (c - '0');
            if (value > 0x7fffffff) { fprintf(stderr, "llama-logits: token id too large\n"); free(tokens); tokens = NULL; break; }
            in_number = 1;
            continue;
        }
        if (c == '-') { fprintf(stderr, "llama-logits: negative token id\n"); free(tokens); tokens = NULL; break; }
        if (in_number) {
            if (used == capacity) {
                capacity *= 2;
                llama_token *grown = realloc(tokens, capacity * sizeof *tokens);
                if (!grown) { free(tokens); tokens = NULL; break; }
                tokens = grown;
            }
            tokens[used++] = (llama_token)value;
            value = 0;
            in_number = 0;
        }
        if (c == EOF) break;
    }
    fclose(file);
    *count = (int)used;
    return tokens;
}

int main(int argc, char **argv) {
    const char *model_path = NULL, *tokens_path = NULL, *out_path = NULL;
    int threads = 2, one_by_one = 0;
    enum llama_flash_attn_type flash = LLAMA_FLASH_ATTN_TYPE_AUTO;
    enum ggml_type type_k = GGML_TYPE_F16, type_v = GGML_TYPE_F16;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        const char *next = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(arg, "-m") == 0 && next) { model_path = next; i++; }
        else if (strcmp(arg, "-f") == 0 && next) { tokens_path = next; i++; }
        else if (strcmp(arg, "-o") == 0 && next) { out_path = next; i++; }
        else if (strcmp(arg, "-t") == 0 && next) { threads = atoi(next); i++; }
        else if (strcmp(arg, "--no-flash") == 0) { flash = LLAMA_FLASH_ATTN_TYPE_DISABLED; }
        else if (strcmp(arg, "--flash") == 0) { flash = LLAMA_FLASH_ATTN_TYPE_ENABLED; }
        else if (strcmp(arg, "--one-by-one") == 0) { one_by_one = 1; }
        else if (strcmp(arg, "-ctk") == 0 && next && parse_cache_type(next, &type_k)) { i++; }
        else if (strcmp(arg, "-ctv") == 0 && next && parse_cache_type(next, &type_v)) { i++; }
        else {
            fprintf(stderr, "usage: llama-logits -m MODEL -f TOKENS -o OUT.f32 [-t N] [--no-flash|--flash]"
                            " [-ctk f16|f32|q8_0] [-ctv f16|f32|q8_0] [--one-by-one]\n");
            return 2;
        }
    }
    if (!model_path || !tokens_path || !out_path || threads < 1) {
        fprintf(stderr, "llama-logits: -m, -f and -o are required (and -t must be positive)\n");
        return 2;
    }
    int count = 0;
    llama_token *tokens = read_tokens(tokens_path, &count);
    if (!tokens) return 2;
    if (count == 0) { fprintf(stderr, "llama-logits: no tokens in %s\n", tokens_path); return 2; }

    llama_log_set(quiet_log, NULL);
    llama_backend_init();
    struct llama_model_params model_params = llama_model_default_params();
    struct llama_model *model = llama_model_load_from_file(model_path, model_params);
    if (!model) { fprintf(stderr, "llama-logits: cannot load %s\n", model_path); return 1; }
    const struct llama_vocab *vocab = llama_model_get_vocab(model);
    const int n_vocab = llama_vocab_n_tokens(vocab);
    for (int i = 0; i < count; i++) {
        if (tokens[i] >= n_vocab) {
            fprintf(stderr, "llama-logits: token id %d outside the vocabulary of %d\n", tokens[i], n_vocab);
            return 2;
        }
    }

    struct llama_context_params context_params = llama_context_default_params();
    context_params.n_ctx = (uint32_t)count;
    if (context_params.n_batch < (uint32_t)count) context_params.n_batch = (uint32_t)count;
    context_params.n_threads = threads;
    context_params.n_threads_batch = threads;
    context_params.flash_attn_type = flash;
    context_params.type_k = type_k;
    context_params.type_v = type_v;
    struct llama_context *context = llama_init_from_model(model, context_params);
    if (!context) { fprintf(stderr, "llama-logits: cannot create a context\n"); return 1; }

    float *logits = malloc((size_t)count * (size_t)n_vocab * sizeof *logits);
    const int step = one_by_one ? 1 : count;
    struct llama_batch batch = llama_batch_init(step, 0, 1);
    if (!logits) { fprintf(stderr, "llama-logits: out of memory\n"); return 1; }
    for (int start = 0; start < count; start += step) {
        const int n = count - start < step ? count - start : step;
        batch.n_tokens = n;
        for (int j = 0; j < n; j++) {
            batch.token[j] = tokens[start + j];
            batch.pos[j] = start + j;
            batch.n_seq_id[j] = 1;
            batch.seq_id[j][0] = 0;
            batch.logits[j] = 1;
        }
        int status = llama_decode(context, batch);
        if (status != 0) { fprintf(stderr, "llama-logits: llama_decode returned %d\n", status); return 1; }
        for (int j = 0; j < n; j++) {
            const float *row = llama_get_logits_ith(context, j);
            if (!row) { fprintf(stderr, "llama-logits: no logits for position %d\n", start + j); return 1; }
            memcpy(logits + (size_t)(start + j) * n_vocab, row, (size_t)n_vocab * sizeof *row);
        }
    }
    FILE *out = fopen(out_path, "wb");
    if (!out || fwrite(logits, sizeof *logits, (size_t)count * n_vocab, out) != (size_t)count * n_vocab
        || fclose(out) != 0) {
        fprintf(stderr, "llama-logits: cannot write %s\n", out_path);
        return 1;
    }
    fprintf(stderr, "llama-logits: %d positions x %d vocab, flash %s, K %s, V %s, %s -> %s\n", count, n_vocab,
            llama_flash_attn_type_name(flash), ggml_type_name(type_k), ggml_type_name(type_v),
            one_by_one ? "one token per decode" : "one batch", out_path);
    llama_batch_free(batch);
    free(logits);
    free(tokens);
    llama_free(context);
    llama_model_free(model);
    llama_backend_free();
    return 0;
}
