/* replay_main.c - a standalone driver for libFuzzer-style targets.
 *
 * Linked with one fuzz/fuzz_<t>.c (which defines LLVMFuzzerTestOneInput) it
 * becomes replay_<t>: every file named on the command line, and every file
 * found (recursively, in sorted order) under every directory named there, is
 * read and passed to the target once. Used by ctest to regression-test the
 * saved corpus in every build, with any compiler; crashes show up through the
 * sanitizers of the build (asan flavour) or as a signal.
 *
 * Usage: replay_<t> [-v] PATH...     (exit 0 when all inputs ran) */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
/* Optional in a target; weak so that targets without it still link. */
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

static unsigned long n_inputs;
static int verbose;

static int run_file(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "replay: cannot open %s: %s\n", path, strerror(errno));
        return -1;
    }
    size_t cap = 4096, len = 0;
    uint8_t *buf = malloc(cap);
    if (!buf) {
        fclose(f);
        fprintf(stderr, "replay: out of memory\n");
        return -1;
    }
    for (;;) {
        if (len == cap) {
            uint8_t *nb = realloc(buf, cap * 2);
            if (!nb) {
                free(buf);
                fclose(f);
                fprintf(stderr, "replay: out of memory\n");
                return -1;
            }
            buf = nb;
            cap *= 2;
        }
        size_t got = fread(buf + len, 1, cap - len, f);
        len += got;
        if (got == 0) break;
    }
    int err = ferror(f);
    fclose(f);
    if (err) {
        free(buf);
        fprintf(stderr, "replay: read error on %s\n", path);
        return -1;
    }
    if (verbose) fprintf(stderr, "replay: %s (%zu bytes)\n", path, len);
    /* Hand the target an exactly sized copy so that ASan catches over-reads. */
    uint8_t *exact = malloc(len ? len : 1);
    if (!exact) {
        free(buf);
        fprintf(stderr, "replay: out of memory\n");
        return -1;
    }
    if (len) memcpy(exact, buf, len);
    free(buf);
    LLVMFuzzerTestOneInput(exact, len);
    free(exact);
    n_inputs++;
    return 0;
}

static int skip_entry(const struct dirent *e) {
    return e->d_name[0] != '.'; /* hidden files, "." and ".." */
}

static int run_path(const char *path) {
    struct stat st;
    if (stat(path, &st) != 0) {
        fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
        return -1;
    }
    if (!S_ISDIR(st.st_mode)) return run_file(path);

    struct dirent **list;
    int n = scandir(path, &list, skip_entry, alphasort);
    if (n < 0) {
        fprintf(stderr, "replay: cannot list %s: %s\n", path, strerror(errno));
        return -1;
    }
    int rc = 0;
    for (int i = 0; i < n; i++) {
        if (rc == 0) {
            size_t need = strlen(path) + strlen(list[i]->d_name) + 2;
            char *child = malloc(need);
            if (!child) {
                rc = -1;
            } else {
                snprintf(child, need, "%s/%s", path, list[i]->d_name);
                rc = run_path(child);
                free(child);
            }
        }
        free(list[i]);
    }
    free(list);
    return rc;
}

int main(int argc, char **argv) {
    int first = 1;
    if (argc > 1 && strcmp(argv[1], "-v") == 0) {
        verbose = 1;
        first = 2;
    }
    if (first >= argc) {
        fprintf(stderr, "usage: %s [-v] FILE_OR_DIR...\n", argv[0]);
        return 2;
    }
    if (LLVMFuzzerInitialize) {
        int iargc = argc; /* the target may edit its copy of the arguments */
        char **iargv = argv;
        LLVMFuzzerInitialize(&iargc, &iargv);
    }
    int rc = 0;
    for (int i = first; i < argc && rc == 0; i++) rc = run_path(argv[i]);
    printf("replay: %lu inputs ran\n", n_inputs);
    return rc == 0 ? 0 : 1;
}
