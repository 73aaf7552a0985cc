/* sendonly.c - the receive side of a send-only link (tw_link.h): a program
 * that feeds the stack with tw_stack_input() itself and only collects what
 * the stack sends needs a send() and nothing else. */
#include <tcpwave/tw_link.h>

int tw_link_nop_recv(tw_link *l, uint8_t *buf, size_t cap, uint64_t now) {
    (void)l, (void)buf, (void)cap, (void)now;
    return 0;
}

uint64_t tw_link_nop_next_arrival(tw_link *l) {
    (void)l;
    return UINT64_MAX;
}

int tw_link_nop_poll_fd(tw_link *l) {
    (void)l;
    return -1;
}

void tw_link_nop_close(tw_link *l) {
    (void)l;
}
