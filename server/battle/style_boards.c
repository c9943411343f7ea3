#include "battle/style_boards.h"

#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/clock.h"
#include "util/log.h"


static int gather(void *ctx, const struct store_style_vote *v) {
  return style_input_add(ctx, v->model_a, v->model_b, v->w, v->a, v->b);
}

/* Read and fit board key: NULL on failure (logged). */
static struct style_board *fit_board(struct style_boards *sb,
                                     const char *key) {
  char language[SLICE_LANG_MAX], category[SLICE_CAT_MAX];
  struct style_input in;
  struct style_board *b = NULL;
  long skipped = 0;
  long covers = live_ratings_slice_votes(sb->live, key);
  style_input_init(&in, STYLE_BOARD_BATTLES_MAX);
  if (slice_key_parts(key, language, category))
    goto out;
  if (store_style_votes(sb->st, *language ? language : NULL,
                        *category ? category : NULL, gather, &in, &skipped))
    goto out;
  b = style_board_fit(&in, sb->rounds, 2);
  if (b) {
    b->skipped = skipped + in.dropped;
    b->covers = covers;
  }
out:
  if (!b)
    log_error("msg=\"style control fit failed\" board=\"%s\"", log_q(key));
  style_input_release(&in);
  return b;
}

static void *boards_main(void *arg) {
  struct style_boards *sb = arg;
  struct sched_param sp = {0};
  pthread_setschedparam(pthread_self(), SCHED_IDLE, &sp);
  pthread_mutex_lock(&sb->lock);
  for (;;) {
    while (!sb->dirty && !sb->stop)
      pthread_cond_wait(&sb->cond, &sb->lock);
    if (sb->stop)
      break;
    /* debounce: let a burst of votes settle */
    struct timespec until = clock_in_ms(CLOCK_REALTIME, (long)sb->debounce_ms);
    while (!sb->stop &&
           pthread_cond_timedwait(&sb->cond, &sb->lock, &until) != ETIMEDOUT)
      ;
    if (sb->stop)
      break;
    sb->dirty = 0;
    for (size_t i = 0; i < sb->n && !sb->stop; i++) {
      char key[SLICE_KEY_MAX];
      memcpy(key, sb->e[i].key, sizeof key);
      long fitted = sb->e[i].fitted;
      pthread_mutex_unlock(&sb->lock);
      long votes = live_ratings_slice_votes(sb->live, key);
      struct style_board *b = votes != fitted ? fit_board(sb, key) : NULL;
      pthread_mutex_lock(&sb->lock);
      if (!b)
        continue;
      /* the entry may have moved or gone while the lock was released */
      size_t k = 0;
      while (k < sb->n && strcmp(sb->e[k].key, key))
        k++;
      if (k == sb->n) {
        pthread_mutex_unlock(&sb->lock);
        style_board_unref(b);
        pthread_mutex_lock(&sb->lock);
        continue;
      }
      struct style_board *old = sb->e[k].board;
      b->fit = ++sb->fits;
      sb->e[k].board = b;
      sb->e[k].fitted = b->covers;
      pthread_mutex_unlock(&sb->lock);
      style_board_unref(old);
      pthread_mutex_lock(&sb->lock);
    }
  }
  pthread_mutex_unlock(&sb->lock);
  return NULL;
}

int style_boards_start(struct style_boards *sb, struct store *st,
                       struct live_ratings *live, int rounds,
                       int debounce_ms) {
  memset(sb, 0, sizeof *sb);
  sb->st = st;
  sb->live = live;
  sb->rounds = rounds;
  sb->debounce_ms = debounce_ms;
  pthread_mutex_init(&sb->lock, NULL);
  pthread_cond_init(&sb->cond, NULL);
  if (pthread_create(&sb->thread, NULL, boards_main, sb)) {
    pthread_mutex_destroy(&sb->lock);
    pthread_cond_destroy(&sb->cond);
    return -1;
  }
  sb->started = 1;
  return 0;
}

struct style_board *style_boards_get(struct style_boards *sb,
                                     const char *key) {
  struct style_board *b = NULL, *dropped = NULL;
  pthread_mutex_lock(&sb->lock);
  size_t k = 0;
  while (k < sb->n && strcmp(sb->e[k].key, key))
    k++;
  if (k == sb->n) {
    if (sb->n == STYLE_BOARDS_MAX) {
      /* drop the board asked for least recently */
      k = 0;
      for (size_t i = 1; i < sb->n; i++)
        if (sb->e[i].asked < sb->e[k].asked)
          k = i;
      dropped = sb->e[k].board;
    } else {
      k = sb->n++;
    }
    memset(&sb->e[k], 0, sizeof sb->e[k]);
    snprintf(sb->e[k].key, sizeof sb->e[k].key, "%s", key);
    sb->e[k].fitted = -1;
    sb->dirty = 1;
    pthread_cond_signal(&sb->cond);
  }
  sb->e[k].asked = mono_ms();
  if ((b = sb->e[k].board))
    style_board_ref(b);
  pthread_mutex_unlock(&sb->lock);
  style_board_unref(dropped);
  return b;
}

void style_boards_poke(struct style_boards *sb) {
  pthread_mutex_lock(&sb->lock);
  if (sb->n) {
    sb->dirty = 1;
    pthread_cond_signal(&sb->cond);
  }
  pthread_mutex_unlock(&sb->lock);
}

void style_boards_refit(struct style_boards *sb) {
  pthread_mutex_lock(&sb->lock);
  for (size_t i = 0; i < sb->n; i++)
    sb->e[i].fitted = -1;
  if (sb->n) {
    sb->dirty = 1;
    pthread_cond_signal(&sb->cond);
  }
  pthread_mutex_unlock(&sb->lock);
}

void style_boards_stop(struct style_boards *sb) {
  if (!sb->started)
    return;
  pthread_mutex_lock(&sb->lock);
  sb->stop = 1;
  pthread_cond_signal(&sb->cond);
  pthread_mutex_unlock(&sb->lock);
  pthread_join(sb->thread, NULL);
  for (size_t i = 0; i < sb->n; i++)
    style_board_unref(sb->e[i].board);
  sb->n = 0;
  sb->started = 0;
  pthread_mutex_destroy(&sb->lock);
  pthread_cond_destroy(&sb->cond);
}
