/* counters.c - owns the name and description tables of the counters declared
 * by TW_COUNTERS in tw_stats.h. Both tables expand the same X-macro as the
 * enum, so index i always names enum value i. */
#include <stddef.h>

#include <tcpwave/tw_stats.h>

static const char *const counter_names[TW_C__COUNT] = {
#define TW_X_NAME(name, desc) #name,
    TW_COUNTERS(TW_X_NAME)
#undef TW_X_NAME
};

static const char *const counter_descs[TW_C__COUNT] = {
#define TW_X_DESC(name, desc) desc,
    TW_COUNTERS(TW_X_DESC)
#undef TW_X_DESC
};

const char *tw_counter_name(int c) {
    if (c < 0 || c >= TW_C__COUNT) return NULL;
    return counter_names[c];
}

const char *tw_counter_desc(int c) {
    if (c < 0 || c >= TW_C__COUNT) return NULL;
    return counter_descs[c];
}
