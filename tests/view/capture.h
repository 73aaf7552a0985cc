/* capture.h - runs a demo scenario in-process and keeps every trace event,
 * with the simulated link's losses as link_lost events, exactly as
 * `tcpwave demo --trace` records them (tools/tcpwave/demo.c). */
#ifndef TW_TESTS_VIEW_CAPTURE_H
#define TW_TESTS_VIEW_CAPTURE_H

#include "drive/scenario.h"
#include "view/report.h"

/* Runs scenario `id` with the default options and seed `seed`, appending
 * its events to `out` with host indices shifted by `host_base`. Returns 0. */
int capture_scenario(int id, uint64_t seed, int host_base, tw_vev_list *out, tw_scn_result *res);
/* The text report (ladder + lifecycle) of the events, as `tcpwave ladder`
 * prints it; malloc'd, NULL on error. */
char *report_text(const tw_vev_list *evs, tw_seqmode mode);
/* Reads a whole file (NULL if missing); *len gets its size. */
char *slurp(const char *path, size_t *len);
/* Path of a file in the repo: $TW_SOURCE_DIR/rel, or ../../rel from the
 * test's directory. */
void repo_path(const char *rel, char *buf, size_t cap);

#endif
