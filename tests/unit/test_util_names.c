/* test_util_names.c - unit tests for src/util/strerror.c and
 * src/util/counters.c: every code and counter has a name and text. */
#include "test.h"

#include <limits.h>

#include <tcpwave/tw_errno.h>
#include <tcpwave/tw_stats.h>

TEST(strerror_known_codes) {
    ASSERT_STREQ(tw_strerror(-TW_EINVAL), "invalid argument");
    ASSERT_STREQ(tw_strerror(TW_EINVAL), "invalid argument");
    ASSERT_STREQ(tw_strerror(-TW_ECONNRESET), "connection reset by peer");
    ASSERT_STREQ(tw_strerror(-TW_ETIMEDOUT), "connection timed out");
    ASSERT_STREQ(tw_strerror(0), "success");
    const int codes[] = {TW_EINVAL,     TW_ENOMEM,        TW_EAGAIN,       TW_EBADF,
                         TW_EADDRINUSE, TW_EADDRNOTAVAIL, TW_ECONNREFUSED, TW_ECONNRESET,
                         TW_ETIMEDOUT,  TW_ENOTCONN,      TW_EISCONN,      TW_EPIPE,
                         TW_EOPNOTSUPP, TW_EALREADY,      TW_EINPROGRESS,  TW_ECONNABORTED,
                         TW_ENOPROTOOPT};
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
        tw_test_context("code=%d", codes[i]);
        const char *s = tw_strerror(-codes[i]);
        ASSERT_TRUE(s != NULL);
        ASSERT_TRUE(strcmp(s, "unknown error") != 0);
        ASSERT_STREQ(tw_strerror(codes[i]), s);
        /* Distinct codes get distinct texts. */
        for (size_t j = 0; j < i; j++) ASSERT_TRUE(strcmp(s, tw_strerror(codes[j])) != 0);
    }
}

TEST(strerror_unknown) {
    ASSERT_STREQ(tw_strerror(99999), "unknown error");
    ASSERT_STREQ(tw_strerror(-99999), "unknown error");
    ASSERT_STREQ(tw_strerror(INT_MIN), "unknown error");
    ASSERT_STREQ(tw_strerror(INT_MAX), "unknown error");
}

TEST(counter_names_and_descs) {
    ASSERT_STREQ(tw_counter_name(TW_C_DROP_TCP_CKSUM), "DROP_TCP_CKSUM");
    ASSERT_STREQ(tw_counter_desc(TW_C_DROP_TCP_CKSUM), "drop: bad TCP checksum");
    ASSERT_STREQ(tw_counter_name(TW_C_IP_IN), "IP_IN");
    ASSERT_STREQ(tw_counter_name(TW_C_RST_RECEIVED), "RST_RECEIVED");
    ASSERT_TRUE(tw_counter_name(TW_C__COUNT) == NULL);
    for (int c = 0; c < TW_C__COUNT; c++) {
        tw_test_context("counter=%d", c);
        ASSERT_TRUE(tw_counter_name(c) != NULL && tw_counter_name(c)[0] != '\0');
        ASSERT_TRUE(tw_counter_desc(c) != NULL && tw_counter_desc(c)[0] != '\0');
    }
    ASSERT_TRUE(tw_counter_name(-1) == NULL);
    ASSERT_TRUE(tw_counter_name(TW_C__COUNT) == NULL);
    ASSERT_TRUE(tw_counter_desc(-1) == NULL);
    ASSERT_TRUE(tw_counter_desc(TW_C__COUNT) == NULL);
}

TEST_MAIN()
