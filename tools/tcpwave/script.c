/* script.c - `tcpwave script`: run packetdrill-language scripts against
 * tcpwave in-process, on a virtual clock (src/drive/pkt_script.h). Each file
 * gets a fresh stack; the first mismatch of a file is printed with its line,
 * the expected and the actual segment or result. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "drive/pkt_script.h"

#define MAX_SCRIPT_BYTES (4u << 20)

static void usage(FILE *f) {
    fprintf(f,
            "usage: tcpwave script [--verbose] [--so-flags FLAGS] [--tolerance-usecs N] FILE...\n"
            "\n"
            "Runs packetdrill scripts against tcpwave in this process: a fresh stack per file\n"
            "(tcpwave is 198.18.0.2, the script's side 198.18.0.1) on a virtual clock, so a\n"
            "60 s TIME_WAIT takes no time. Segments tcpwave sends ('>' lines) must match flags,\n"
            "seq, len and ack, and the window and <options> when the script gives them; times\n"
            "must match within the tolerance; socket calls must return what the script says.\n"
            "Outbound seq numbers are relative to tcpwave's ISN, as packetdrill has them.\n"
            "Times: 0.100 absolute, +0.1 after the previous statement's start, * any time\n"
            "(outbound only), A~B an outbound segment between A and B, A...B a blocking\n"
            "call started at A that returns at B. bind() takes port 8080, connect() goes\n"
            "to 198.18.0.1:8080, the script's segments to a listener come from port 40000.\n"
            "\n"
            "  --verbose            print every statement, segment and state change\n"
            "  --so-flags FLAGS     stack settings, key=value separated by commas or blanks,\n"
            "                       applied after the script's own `// tcpwave-flags:` lines:\n"
            "%s"
            "  --tolerance-usecs N  timing tolerance for every script (default 10000, or the\n"
            "                       script's --tolerance_usecs=N / tolerance= setting)\n"
            "\n"
            "Exit status: 0 every script passed, 1 a script failed (tcpwave did not behave as\n"
            "it says), 2 bad usage, or a script that cannot be read, parsed or run.\n"
            "\n"
            "example: tcpwave script tests/packetdrill/*.pkt\n",
            pd_settings_help());
}

static int bad_usage(const char *msg, const char *arg) {
    fprintf(stderr, "tcpwave script: %s%s (see tcpwave script --help)\n", msg, arg ? arg : "");
    return 2;
}

static char *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "%s: cannot open: %s\n", path, strerror(errno));
        return NULL;
    }
    size_t cap = 65536, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        if (n == cap) {
            if (cap >= MAX_SCRIPT_BYTES) {
                fprintf(stderr, "%s: larger than %u bytes\n", path, MAX_SCRIPT_BYTES);
                free(buf);
                buf = NULL;
                break;
            }
            char *nb = realloc(buf, cap * 2);
            if (!nb) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
            cap *= 2;
        }
        size_t k = fread(buf + n, 1, cap - n, f);
        n += k;
        if (k == 0) break;
    }
    if (buf && ferror(f)) {
        fprintf(stderr, "%s: read error\n", path);
        free(buf);
        buf = NULL;
    }
    fclose(f);
    *len = n;
    return buf;
}

static int run_file(const char *path, const pd_run_opts *o) {
    size_t len;
    char *text = read_file(path, &len);
    if (!text) return PD_ERROR;
    pd_script s;
    char err[512];
    int rc = pd_parse(path, text, len, &s, err, sizeof err);
    free(text);
    if (rc) {
        fprintf(stdout, "%s\nERROR %s\n", err, path);
        return PD_ERROR;
    }
    rc = pd_run(&s, o);
    fprintf(stdout, "%s %s\n", rc == PD_PASS ? "ok   " : rc == PD_FAIL ? "FAIL " : "ERROR", path);
    pd_script_free(&s);
    return rc;
}

int tw_cli_script(int argc, char **argv) {
    pd_run_opts o;
    memset(&o, 0, sizeof o);
    o.out = stdout;
    int first = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(a, "--verbose") || !strcmp(a, "-v")) {
            o.verbose = true;
        } else if (!strcmp(a, "--so-flags") || !strcmp(a, "--so_flags")) {
            if (++i == argc) return bad_usage("--so-flags needs a value", NULL);
            o.flags = argv[i];
        } else if (!strncmp(a, "--so-flags=", 11) || !strncmp(a, "--so_flags=", 11)) {
            o.flags = a + 11;
        } else if (!strcmp(a, "--tolerance-usecs") || !strcmp(a, "--tolerance_usecs")) {
            if (++i == argc) return bad_usage("--tolerance-usecs needs a value", NULL);
            char *end;
            errno = 0;
            unsigned long long v = strtoull(argv[i], &end, 10);
            if (errno || *end || end == argv[i] || v > 60000000ull)
                return bad_usage("--tolerance-usecs needs microseconds (0..60000000), not ",
                                 argv[i]);
            o.has_tolerance = true;
            o.tolerance_ns = v * 1000ull;
        } else if (a[0] == '-' && a[1]) {
            return bad_usage("unknown option ", a);
        } else if (!first) {
            first = i;
        }
    }
    if (!first) return bad_usage("no script given", NULL);
    if (o.flags) { /* check the flags once, before any script runs */
        pd_settings set;
        char err[256];
        pd_settings_default(&set);
        if (pd_settings_apply(&set, o.flags, err, sizeof err))
            return bad_usage("--so-flags: ", err);
    }
    int pass = 0, fail = 0, error = 0;
    for (int i = first; i < argc; i++) {
        const char *a = argv[i];
        if (a[0] == '-' && a[1]) { /* an option already taken */
            if (!strcmp(a, "--so-flags") || !strcmp(a, "--so_flags") ||
                !strcmp(a, "--tolerance-usecs") || !strcmp(a, "--tolerance_usecs"))
                i++;
            continue;
        }
        int rc = run_file(a, &o);
        if (rc == PD_PASS)
            pass++;
        else if (rc == PD_FAIL)
            fail++;
        else
            error++;
    }
    if (pass + fail + error > 1)
        printf("scripts: %d passed, %d failed, %d errors\n", pass, fail, error);
    return error ? 2 : fail ? 1 : 0;
}
