/* The writer thread's group commit (storage/writer.c) on a real SQLite
 * file: writes queued together share one transaction, a write that fails
 * leaves the others of its group alone, votes from many threads move the
 * live ratings exactly as a replay of the stored votes does. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "check.h"
#include "storage/writer.h"

#define N_BATTLES 96
#define N_THREADS 8

static atomic_int done_ok, done_failed;

static void count_done(void *cls, int ok) {
  (void)cls;
  atomic_fetch_add(ok ? &done_ok : &done_failed, 1);
}

struct voter {
  struct store_writer *w;
  int first, n;
  int ok, other;
};

static const char *const models[4] = {"m-one", "m-two", "m-three", "m-four"};

static void battle_id(int i, char out[40]) { snprintf(out, 40, "battle-%04d", i); }

static void *vote_some(void *arg) {
  struct voter *v = arg;
  for (int i = v->first; i < v->first + v->n; i++) {
    char id[40];
    battle_id(i, id);
    struct vote_request vr = {.id = id,
                              .session = "s",
                              .w = (enum winner)(i % 4),
                              .k = 4,
                              .counted = i % 7 != 0,
                              .reason = i % 7 ? NULL : "too fast"};
    struct vote_outcome out;
    if (store_writer_vote(v->w, &vr, &out) == VOTE_OK)
      v->ok++;
    else
      v->other++;
    vote_outcome_release(&out);
  }
  return NULL;
}

/* The test's own look at the file: the store's connections are the
 * engine's (storage/sqlite/), behind the store's operations. */
static sqlite3 *peek;

static long count_rows(struct store *st, const char *sql) {
  sqlite3_stmt *s = NULL;
  long n = -1;
  pthread_mutex_lock(&st->lock);
  if (sqlite3_prepare_v2(peek, sql, -1, &s, NULL) == SQLITE_OK &&
      sqlite3_step(s) == SQLITE_ROW)
    n = (long)sqlite3_column_int64(s, 0);
  sqlite3_finalize(s);
  pthread_mutex_unlock(&st->lock);
  return n;
}

int main(void) {
  char dir[] = "/tmp/agon-writer-XXXXXX";
  if (!mkdtemp(dir)) {
    perror("mkdtemp");
    return 1;
  }
  char path[128], err[256];
  snprintf(path, sizeof path, "%s/w.db", dir);
  struct store st;
  if (store_open(&st, path, err, sizeof err)) {
    fprintf(stderr, "%s\n", err);
    return 1;
  }
  if (sqlite3_open_v2(path, &peek, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
    fprintf(stderr, "cannot open %s\n", path);
    return 1;
  }
  struct live_ratings live;
  memset(&live, 0, sizeof live);
  pthread_mutex_init(&live.lock, NULL);
  struct store_writer *w = store_writer_new(&st, &live);
  CHECK(w != NULL);
  if (!w)
    return 1;

  /* Battles and their first turns' ends, queued while the database is
   * held: they pile up and are written in (at most) two groups. */
  long groups0, jobs0, groups1, jobs1;
  store_writer_counts(w, &groups0, &jobs0);
  pthread_mutex_lock(&st.lock);
  for (int i = 0; i < N_BATTLES; i++) {
    char id[40];
    battle_id(i, id);
    CHECK(store_writer_battle_create(w, id, 1000 + i, models[i % 4],
                                     models[(i + 1) % 4], "s", "a prompt",
                                     count_done, NULL) == 0);
    /* side b of every other battle reasoned before it answered */
    struct turn_answer ans[2] = {{"answer a", NULL, NULL},
                                 {"answer b", i % 2 ? "thought b" : NULL, NULL}};
    /* every other battle with its tags (copied: tags lives on the stack) */
    struct battle_tags tags = {.language = "ko",
                               .mask = TAG_CODING | TAG_NO_SHORT,
                               .user_tokens = 7, .turns = 1};
    tags.style[1].headers[1] = 2;
    CHECK(store_writer_turn_finish(w, id, 1, ans, 2000 + i, "ready", NULL,
                                   i % 2 ? NULL : &tags, count_done,
                                   NULL) == 0);
  }
  /* the end of a turn that was never started fails alone */
  struct turn_answer xy[2] = {{"x", NULL, NULL}, {"y", NULL, NULL}};
  CHECK(store_writer_turn_finish(w, "no-such-battle", 1, xy, 3000, "ready", NULL,
                                 NULL, count_done, NULL) == 0);
  pthread_mutex_unlock(&st.lock);
  store_writer_flush(w);
  store_writer_counts(w, &groups1, &jobs1);
  CHECK(atomic_load(&done_ok) == 2 * N_BATTLES);
  CHECK(atomic_load(&done_failed) == 1);
  CHECK(jobs1 - jobs0 == 2 * N_BATTLES + 1 + 1 /* the flush */);
  CHECK(groups1 - groups0 <= 3);
  CHECK(count_rows(&st, "SELECT count(*) FROM battles WHERE status = 'ready'") ==
        N_BATTLES);
  CHECK(count_rows(&st, "SELECT count(*) FROM turns WHERE answer_a = "
                        "'answer a' AND finished_at IS NOT NULL") == N_BATTLES);
  /* the reasoning is stored apart from the answer, NULL when none */
  CHECK(count_rows(&st, "SELECT count(*) FROM turns WHERE answer_b = "
                        "'answer b' AND reasoning_b = 'thought b' AND "
                        "reasoning_a IS NULL") == N_BATTLES / 2);
  CHECK(count_rows(&st, "SELECT count(*) FROM turns WHERE answer_b = "
                        "'answer b' AND reasoning_b IS NULL") ==
        N_BATTLES - N_BATTLES / 2);

  /* the tags are stored with the battle, the style counts as FastChat's
   * conv_metadata; NULL where none were given */
  CHECK(count_rows(&st, "SELECT count(*) FROM battles WHERE language = 'ko' "
                        "AND tags = 'coding,no_short' AND "
                        "json_extract(conv_metadata, '$.sum_user_tokens') = 7 "
                        "AND json_extract(conv_metadata, "
                        "'$.header_count_b.h2') = 2 AND json_extract("
                        "conv_metadata, '$.bold_count_a.**') = 0") ==
        (N_BATTLES + 1) / 2);
  CHECK(count_rows(&st, "SELECT count(*) FROM battles WHERE language IS NULL "
                        "AND tags IS NULL AND conv_metadata IS NULL") ==
        N_BATTLES / 2);

  /* A turn added to a ready battle; not to one that is streaming. */
  CHECK(store_writer_turn_add(w, "battle-0000", 2, "more", 4000) == 0);
  CHECK(store_writer_turn_add(w, "battle-0000", 3, "again", 4001) == 1);
  struct turn_answer cut[2] = {{"a2", NULL, NULL}, {"b2", NULL, "cut"}};
  CHECK(store_writer_turn_finish(w, "battle-0000", 2, cut, 4002, "failed", NULL,
                                 NULL, NULL, NULL) == 0);

  /* Votes from many threads at once, each battle voted once; the failed
   * battle and an unknown one are refused without harming the rest. */
  pthread_t th[N_THREADS];
  struct voter v[N_THREADS];
  int per = N_BATTLES / N_THREADS;
  for (int t = 0; t < N_THREADS; t++) {
    v[t] = (struct voter){.w = w, .first = t * per, .n = per};
    CHECK(pthread_create(&th[t], NULL, vote_some, &v[t]) == 0);
  }
  struct vote_request bad = {.id = "nope", .session = "s", .w = WINNER_A,
                             .k = 4, .counted = 1};
  struct vote_outcome out;
  CHECK(store_writer_vote(w, &bad, &out) == VOTE_NOT_FOUND);
  int ok = 0, other = 0;
  for (int t = 0; t < N_THREADS; t++) {
    pthread_join(th[t], NULL);
    ok += v[t].ok;
    other += v[t].other;
  }
  CHECK(ok == N_BATTLES - 1);  /* battle-0000 failed in its second turn */
  CHECK(other == 1);
  struct vote_request again = {.id = "battle-0001", .session = "s",
                               .w = WINNER_B, .k = 4, .counted = 1};
  CHECK(store_writer_vote(w, &again, &out) == VOTE_ALREADY_VOTED);
  struct vote_request stranger = {.id = "battle-0002", .session = "t",
                                  .w = WINNER_B, .k = 4, .counted = 1};
  CHECK(store_writer_vote(w, &stranger, &out) == VOTE_FORBIDDEN);
  CHECK(count_rows(&st, "SELECT count(*) FROM votes") == N_BATTLES - 1);

  /* The live ratings are the replay of the stored votes, bit for bit. */
  struct rating_table replay = {0};
  struct pair_table pairs = {0};
  long n_votes = 0;
  CHECK(store_ratings_replay(&st, 4, &replay, &pairs, &n_votes) == 0);
  long counted = 0;
  for (int i = 1; i < N_BATTLES; i++)
    counted += i % 7 != 0;
  CHECK(n_votes == counted);
  CHECK(replay.n == live.elo.n);
  for (size_t i = 0; i < replay.n; i++) {
    const struct rating_row *r = rating_table_find(&live.elo, replay.rows[i].model);
    CHECK(r != NULL);
    if (r) {
      CHECK(r->elo == replay.rows[i].elo);
      CHECK(r->battles == replay.rows[i].battles && r->wins == replay.rows[i].wins &&
            r->ties == replay.rows[i].ties);
    }
  }
  CHECK(pairs.n == live.pairs.n);
  /* and what is stored in the ratings table */
  struct rating_table stored = {0};
  struct pair_table stored_pairs = {0};
  CHECK(store_ratings_load(&st, &stored, &stored_pairs) == 0);
  for (size_t i = 0; i < replay.n; i++) {
    const struct rating_row *r = rating_table_find(&stored, replay.rows[i].model);
    CHECK(r && r->elo == replay.rows[i].elo);
  }

  store_writer_free(w);
  rating_table_release(&replay);
  rating_table_release(&stored);
  pair_table_release(&pairs);
  pair_table_release(&stored_pairs);
  rating_table_release(&live.elo);
  pair_table_release(&live.pairs);
  slice_table_release(&live.slices);
  pthread_mutex_destroy(&live.lock);
  sqlite3_close(peek);
  store_close(&st);
  char cmd[160];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  if (system(cmd) != 0)
    fprintf(stderr, "cannot remove %s\n", dir);
  printf("%d checks, %d failed\n", check_count, check_failures);
  return check_failures != 0;
}
