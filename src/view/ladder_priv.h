/* ladder_priv.h - functions shared by the ladder's files (ladder.c builds,
 * ladder_label.c numbers and labels, ladder_text.c and ladder_svg.c draw);
 * not for use outside src/view. */
#ifndef TW_VIEW_LADDER_PRIV_H
#define TW_VIEW_LADDER_PRIV_H

#include "view/ladder.h"

/* Computes marks that need the whole connection (FIN+ACK merged), the
 * legend and every segment's label for l->mode. */
void tw_ladder_label(tw_ladder *l);

#endif
