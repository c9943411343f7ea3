#include "rating/history_board.h"

#include <stdlib.h>

void history_board_unref(struct history_board *b) {
  if (!b || atomic_fetch_sub(&b->refs, 1) != 1)
    return;
  rating_table_release(&b->elo);
  bt_snapshot_unref(b->snap);
  free(b);
}
