/* bytes.h - big-endian (network order) loads and stores for the wire
 * parsers and emitters. Byte by byte, so any alignment is fine and the
 * compiler folds each into one load/store plus a byte swap. */
#ifndef TW_WIRE_BYTES_H
#define TW_WIRE_BYTES_H

#include <stdint.h>

static inline uint16_t tw_rd16(const uint8_t *p) {
    return (uint16_t)(p[0] << 8 | p[1]);
}
static inline uint32_t tw_rd32(const uint8_t *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static inline void tw_wr16(uint8_t *p, uint16_t v) {
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}
static inline void tw_wr32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

#endif
