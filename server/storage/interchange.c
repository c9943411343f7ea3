/* Battle logs in and out of storage, the same for every engine: which
 * records are imported and how, how an export is written (FastChat JSON,
 * JSON lines, CSV), the database's secret, the rebuilt ratings. What is
 * read and written is the engine's (storage/ops.h). */
#include "storage/ops.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fastchat/fields.h"
#include "rating/dedup.h"
#include "storage/tags.h"
#include "util/array.h"
#include "util/digest.h"
#include "util/log.h"
#include "util/random.h"

/* ---- the secret ---- */

static int secret_locked(struct store *st, char out[65]) {
  int r = STORE_OPS(st)->meta_get(st->impl, "secret", out, 65);
  if (r <= 0)
    return r;
  char fresh[65];
  if (random_hex(fresh, 32))
    return -1;
  /* another node starting beside this one may have stored one first
   * (SQLite refuses a second add, PostgreSQL keeps the first): the one
   * stored is every node's */
  st->ops->meta_add(st->impl, "secret", fresh);
  return st->ops->meta_get(st->impl, "secret", out, 65) == 0 ? 0 : -1;
}

int store_secret(struct store *st, char out[65]) {
  pthread_mutex_lock(&st->lock);
  int rc = secret_locked(st, out);
  pthread_mutex_unlock(&st->lock);
  return rc;
}

/* ---- rebuilding the live ratings ---- */

static int rebuild_locked(struct store *st, double k) {
  struct rating_table t = {0};
  struct pair_table p = {0};
  long n = 0;
  int rc = -1;
  if (store_replay_locked(st, k, &t, &p, &n) ||
      STORE_OPS(st)->ratings_replace(st->impl, &t, &p))
    goto out;
  rc = 0;
out:
  if (rc)
    log_error("msg=\"cannot rebuild ratings\" err=\"%s\"",
              log_q(store_error(st)));
  rating_table_release(&t);
  pair_table_release(&p);
  return rc;
}

int store_rebuild_ratings(struct store *st, double k, int in_tx) {
  if (in_tx)
    return rebuild_locked(st, k);
  pthread_mutex_lock(&st->lock);
  int rc = -1;
  if (store_tx_begin(st) == 0) {
    rc = rebuild_locked(st, k);
    if (rc || store_tx_commit(st)) {
      store_tx_rollback(st);
      rc = -1;
    }
  }
  pthread_mutex_unlock(&st->lock);
  return rc;
}

/* ---- import ---- */

/* What a record says of its battle (fastchat/fields.h), in the forms the
 * store keeps: the texts owned here, the verdicts borrowing from ff. */
struct import_tags {
  struct fastchat_fields ff;
  char tags[BATTLE_TAGS_TEXT_MAX];
  char *conv_metadata;
  struct category_verdict verdicts[FASTCHAT_MAX_CATEGORIES];
};

static int import_tags_read(json_t *rec, struct import_tags *t) {
  t->conv_metadata = NULL;
  if (fastchat_fields_read(rec, &t->ff))
    return -1;
  battle_tags_text(t->ff.mask, t->tags);
  json_t *own = t->ff.conv_metadata ? json_incref(t->ff.conv_metadata)
                : t->ff.counted_style ? store_conv_metadata(&t->ff.style)
                                      : NULL;
  if (own) {
    t->conv_metadata = json_dumps(own, JSON_COMPACT);
    json_decref(own);
    if (!t->conv_metadata)
      return -1;
  } else if (t->ff.counted_style) {
    return -1; /* store_conv_metadata: out of memory */
  }
  for (size_t i = 0; i < t->ff.n_categories; i++)
    t->verdicts[i] = (struct category_verdict){t->ff.categories[i].name,
                                               t->ff.categories[i].value};
  return 0;
}

static void import_tags_release(struct import_tags *t) {
  fastchat_fields_release(&t->ff);
  free(t->conv_metadata);
  t->conv_metadata = NULL;
}

/* Agon's own fields of what the voter said: agon_vote_reasons_v0.1, an
 * array whose strings are kept (as a compact JSON array: *reasons, for
 * the caller to free; NULL without any), and agon_vote_comment_v0.1, a
 * string (*comment borrows it; NULL without one). A record's other values
 * there are not Agon's: ignored. 0, or -1 when out of memory. */
static int vote_extras_read(json_t *rec, char **reasons,
                            const char **comment) {
  *reasons = NULL;
  *comment = NULL;
  json_t *r = json_object_get(rec, FASTCHAT_VOTE_REASONS);
  if (json_is_array(r) && json_array_size(r)) {
    json_t *keep = json_array();
    size_t i;
    json_t *v;
    json_array_foreach(r, i, v) {
      if (json_is_string(v))
        json_array_append(keep, v);
    }
    if (json_array_size(keep))
      *reasons = json_dumps(keep, JSON_COMPACT);
    int ok = !json_array_size(keep) || *reasons;
    json_decref(keep);
    if (!ok)
      return -1;
  }
  json_t *c = json_object_get(rec, FASTCHAT_VOTE_COMMENT);
  if (json_is_string(c) && json_string_length(c) &&
      strlen(json_string_value(c)) == json_string_length(c))
    *comment = json_string_value(c);
  return 0;
}

int store_import(struct store *st, const struct battle_log *log, double k,
                 struct import_stats *stats, char *err, size_t errlen) {
  int rc = -1;
  memset(stats, 0, sizeof *stats);
  pthread_mutex_lock(&st->lock);
  if (store_tx_begin(st))
    goto fail;
  for (size_t i = 0; i < log->n; i++) {
    const struct log_battle *lb = &log->battles[i];
    const char *src =
        json_string_value(json_object_get(lb->record, "agon_source"));
    if (src && !strcmp(src, "judge")) {
      stats->judge_records++; /* an LLM judge's verdict, not a battle */
      continue;
    }
    char *text = json_dumps(lb->record, JSON_COMPACT | JSON_SORT_KEYS);
    if (!text)
      goto fail;
    char digest[65], id[40];
    const char *qid =
        json_string_value(json_object_get(lb->record, "question_id"));
    int present = qid ? STORE_OPS(st)->battle_exists(st->impl, qid) : 0;
    sha256_hex(text, strlen(text), digest);
    snprintf(id, sizeof id, "imp-%.32s", digest);
    if (present == 0)
      present = STORE_OPS(st)->battle_exists(st->impl, id);
    if (present) {
      free(text);
      if (present < 0)
        goto fail;
      stats->present++;
      continue;
    }
    struct import_tags tags;
    if (import_tags_read(lb->record, &tags)) {
      import_tags_release(&tags);
      free(text);
      goto fail;
    }
    char *reasons = NULL;
    const char *comment = NULL;
    if (vote_extras_read(lb->record, &reasons, &comment)) {
      import_tags_release(&tags);
      free(text);
      goto fail;
    }
    json_t *marked = json_object_get(lb->record, "agon_counted");
    int counted = lb->anony && !json_is_false(marked);
    struct store_import_row row = {
        .id = id,
        .created_at = (int64_t)llround(lb->tstamp * 1000.0),
        .model_a = log->models[lb->a],
        .model_b = log->models[lb->b],
        .record = text,
        .tstamp = lb->tstamp,
        .anony = lb->anony,
        .w = lb->w,
        .counted = counted,
        .reason = counted      ? NULL
                  : !lb->anony ? "not anonymous"
                               : "not counted where it came from",
        .k = k,
        .language = tags.ff.language[0] ? tags.ff.language : NULL,
        .tags = tags.ff.tagged ? tags.tags : NULL,
        .conv_metadata = tags.conv_metadata,
        .categories = tags.verdicts,
        .n_categories = tags.ff.n_categories,
        .reasons = reasons,
        .comment = comment};
    int r = STORE_OPS(st)->import_battle(st->impl, &row);
    free(reasons);
    import_tags_release(&tags);
    free(text);
    if (r)
      goto fail;
    stats->imported++;
    if (!counted)
      stats->not_counted++;
  }
  if (rebuild_locked(st, k) || store_tx_commit(st))
    goto fail;
  rc = 0;
  goto out;
fail:
  snprintf(err, errlen, "import failed: %s", store_error(st));
  store_tx_rollback(st);
out:
  pthread_mutex_unlock(&st->lock);
  return rc;
}

/* ---- export ---- */

/* One side's conversation: each turn's prompt and that side's answer. */
static json_t *conversation(const struct store_export_vote *v, int side) {
  json_t *conv = json_array();
  for (size_t i = 0; v->turns && i < v->n_texts; i++) {
    const char *prompt = v->turns[i].prompt;
    const char *answer = v->turns[i].answer[side];
    json_array_append_new(conv, json_pack("{s:s, s:s}", "role", "user",
                                          "content", prompt ? prompt : ""));
    json_array_append_new(conv, json_pack("{s:s, s:s}", "role", "assistant",
                                          "content", answer ? answer : ""));
  }
  return conv;
}

static void csv_field(FILE *out, const char *s) {
  if (!strpbrk(s, ",\"\r\n")) {
    fputs(s, out);
    return;
  }
  fputc('"', out);
  for (; *s; s++) {
    if (*s == '"')
      fputc('"', out);
    fputc(*s, out);
  }
  fputc('"', out);
}

static void csv_row(FILE *out, json_t *rec) {
  static const char *const cols[] = {"question_id", "model_a", "model_b",
                                     "winner", "judge", "turn", "anony",
                                     "language", "tstamp"};
  for (size_t i = 0; i < sizeof cols / sizeof cols[0]; i++) {
    if (i)
      fputc(',', out);
    json_t *v = json_object_get(rec, cols[i]);
    char tmp[64];
    if (json_is_string(v)) {
      csv_field(out, json_string_value(v));
    } else if (json_is_boolean(v)) {
      fputs(json_is_true(v) ? "true" : "false", out);
    } else if (json_is_integer(v)) {
      fprintf(out, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
    } else if (json_is_real(v)) {
      /* the shortest text that reads back as the same number */
      double x = json_real_value(v);
      for (int prec = 15; prec <= 17; prec++) {
        snprintf(tmp, sizeof tmp, "%.*g", prec, x);
        if (strtod(tmp, NULL) == x)
          break;
      }
      fputs(tmp, out);
    }
  }
  fputc('\n', out);
}

/* Write record number n (0-based) of an export and drop it. */
static void write_record(FILE *out, enum export_format fmt, json_t *rec,
                         long n) {
  if (fmt == EXPORT_CSV) {
    csv_row(out, rec);
  } else {
    if (fmt == EXPORT_FASTCHAT)
      fputs(n ? ",\n" : "\n", out);
    json_dumpf(rec, out, JSON_COMPACT | JSON_REAL_PRECISION(17));
    if (fmt == EXPORT_JSONL)
      fputc('\n', out);
  }
  json_decref(rec);
}

/* ---- the de-duplication of an export (rating/dedup.h) ---- */

/* A first walk over the votes, in the order the export writes them: each
 * battle's prompt (a live battle's stored prompts; an imported one's
 * user turns of conversation_a, as FastChat's dedup reads them), so that
 * the battles with one are de-duplicated together and each live battle's
 * record gets its dedup_tag. */
struct export_vote_slot {
  uint64_t id;              /* the vote's battle id hash */
  long slot;                /* its index in export_dedup.b, or -1 without a
                               prompt */
};

struct export_dedup {
  struct dedup_battle *b;   /* the battles with a prompt */
  size_t n, cap;
  struct export_vote_slot *votes; /* every vote, in vote order */
  size_t n_votes, cap_votes;
  unsigned char *flags;     /* of b[i], by dedup_compute */
};

static void export_dedup_release(struct export_dedup *d) {
  free(d->b);
  free(d->votes);
  free(d->flags);
  memset(d, 0, sizeof *d);
}

static int dedup_vote(void *ctx, const struct store_export_vote *v) {
  struct export_dedup *d = ctx;
  struct dedup_prompt p;
  dedup_prompt_init(&p);
  if (v->record) {
    json_t *rec = json_loads(v->record, 0, NULL);
    log_record_prompt(rec, &p);
    json_decref(rec);
  } else {
    for (size_t i = 0; i < v->n_texts; i++) {
      const char *t = v->turns[i].prompt ? v->turns[i].prompt : "";
      dedup_prompt_add_turn(&p, t, strlen(t));
    }
  }
  struct export_vote_slot *votes =
      array_grow(d->votes, d->n_votes, &d->cap_votes, sizeof *votes, 1024);
  if (!votes)
    return -1;
  d->votes = votes;
  if (p.turns) {
    struct dedup_battle *b = array_grow(d->b, d->n, &d->cap, sizeof *b, 1024);
    if (!b)
      return -1;
    d->b = b;
  }
  uint64_t id = dedup_battle_id(v->id);
  d->votes[d->n_votes++] =
      (struct export_vote_slot){id, p.turns ? (long)d->n : -1};
  if (p.turns)
    d->b[d->n++] = (struct dedup_battle){p.hash, id};
  return 0;
}

/* The first walk and the de-duplication. 0 or -1. */
static int export_dedup_compute(struct store *st, void *cls,
                                struct export_dedup *d) {
  if (STORE_OPS(st)->export_votes(cls, 1, dedup_vote, d))
    return -1;
  d->flags = malloc(d->n + 1);
  return d->flags && dedup_compute(d->b, d->n, DEDUP_PERCENTILE, DEDUP_SEED,
                                   d->flags, NULL) == 0
             ? 0
             : -1;
}

/* The dedup flags of vote number i (battle id) of the second walk, or -1
 * when it has none: no prompt, or a vote stored by another process
 * between the two walks. */
static int export_dedup_flags(const struct export_dedup *d, size_t i,
                              const char *id) {
  if (!d->flags || i >= d->n_votes || d->votes[i].slot < 0 ||
      d->votes[i].id != dedup_battle_id(id))
    return -1;
  return d->flags[d->votes[i].slot];
}

/* ---- writing ---- */

struct export {
  FILE *out;
  enum export_format fmt;
  const char *secret;
  long n;                 /* records written */
  size_t votes;           /* votes seen */
  const struct export_dedup *dedup;
};

/* A live battle's tags on its record (fastchat/fields.h). 0 or -1. */
static int set_tags(json_t *rec, const struct store_export_vote *v,
                    int dedup) {
  struct fastchat_fields f;
  fastchat_fields_init(&f);
  if (v->language)
    snprintf(f.language, sizeof f.language, "%s", v->language);
  f.tagged = v->tags != NULL;
  f.mask = battle_tags_parse(v->tags);
  for (size_t i = 0; i < v->n_categories && i < FASTCHAT_MAX_CATEGORIES;
       i++) {
    struct fastchat_category *c = &f.categories[f.n_categories++];
    snprintf(c->name, sizeof c->name, "%s", v->categories[i].category);
    c->value = v->categories[i].value;
  }
  if (v->conv_metadata)
    f.conv_metadata = json_loads(v->conv_metadata, 0, NULL);
  f.dedup = dedup;
  int rc = fastchat_fields_write(rec, &f);
  fastchat_fields_release(&f);
  return rc;
}

static int export_vote(void *ctx, const struct store_export_vote *v) {
  struct export *x = ctx;
  json_t *rec = NULL;
  int dedup = x->dedup ? export_dedup_flags(x->dedup, x->votes, v->id) : -1;
  x->votes++;
  if (v->record)
    rec = json_loads(v->record, 0, NULL); /* an imported battle: as it came */
  if (!rec) {
    enum winner w = WINNER_TIE;
    winner_parse(v->winner, &w);
    char judge[80], hash[65];
    hmac_sha256_hex(x->secret, strlen(x->secret), v->session,
                    strlen(v->session), hash);
    snprintf(judge, sizeof judge, "arena_user_%.16s", hash);
    rec = json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:b, s:s, s:f}",
                    "question_id", v->id, "model_a", v->model_a, "model_b",
                    v->model_b, "winner", fastchat_winner_name(w), "judge",
                    judge, "turn", (json_int_t)v->n_turns, "anony",
                    v->anony != 0, "language", "unknown", "tstamp",
                    (double)v->voted_at / 1000.0);
    if (!rec || set_tags(rec, v, dedup)) {
      json_decref(rec);
      return -1;
    }
    if (x->fmt != EXPORT_CSV) {
      json_object_set_new(rec, "conversation_a", conversation(v, 0));
      json_object_set_new(rec, "conversation_b", conversation(v, 1));
    }
    json_t *reasons = v->reasons ? json_loads(v->reasons, 0, NULL) : NULL;
    if (reasons)
      json_object_set_new(rec, FASTCHAT_VOTE_REASONS, reasons);
    if (v->comment)
      json_object_set_new(rec, FASTCHAT_VOTE_COMMENT,
                          json_string(v->comment));
    /* what regenerates and retries replaced (fastchat/fields.h) */
    const char *own[2][2] = {{FASTCHAT_REPLACED, v->replaced},
                             {FASTCHAT_REPLACEMENTS, v->replacements}};
    for (int i = 0; i < 2; i++) {
      json_t *list = own[i][1] ? json_loads(own[i][1], 0, NULL) : NULL;
      if (list)
        json_object_set_new(rec, own[i][0], list);
    }
    if (!v->counted) {
      /* stored but not counted: say so, so a re-import keeps it out */
      json_object_set_new(rec, "agon_counted", json_false());
      if (v->reason)
        json_object_set_new(rec, "agon_reason", json_string(v->reason));
    }
  }
  write_record(x->out, x->fmt, rec, x->n++);
  return 0;
}

/* LLM judges' verdicts: FastChat's "judge" field names who voted; they are
 * marked so that no analysis mistakes them for people, and an import
 * skips them. */
static int export_judgment(void *ctx, const struct store_export_judgment *j) {
  struct export *x = ctx;
  enum winner w = WINNER_TIE;
  winner_parse(j->verdict, &w);
  char judge[160];
  snprintf(judge, sizeof judge, "llm_judge/%s", j->judge);
  json_t *rec = json_pack(
      "{s:s, s:s, s:s, s:s, s:s, s:I, s:b, s:s, s:f, s:s, s:b, s:b}",
      "question_id", j->id, "model_a", j->model_a, "model_b", j->model_b,
      "winner", fastchat_winner_name(w), "judge", judge, "turn",
      (json_int_t)j->n_turns, "anony", 1, "language", "unknown", "tstamp",
      (double)j->created_at / 1000.0, "agon_source", "judge", "agon_counted",
      0, "agon_inconsistent", j->inconsistent);
  write_record(x->out, x->fmt, rec, x->n++);
  return 0;
}

long store_export(struct store *st, enum export_format fmt, FILE *out,
                  char *err, size_t errlen) {
  char secret[65];
  struct export_dedup dedup = {0};
  struct export x = {.out = out, .fmt = fmt, .secret = secret};
  long n = -1;
  void *snap = NULL, *cls = st->impl;
  pthread_mutex_lock(&st->lock);
  int locked = 1;
  if (secret_locked(st, secret))
    goto fail;
  /* the rest from a snapshot of its own, when the engine has one, so that
   * votes are stored meanwhile; else under the lock, as one read */
  if (STORE_OPS(st)->snapshot_open && (snap = st->ops->snapshot_open(st->impl)))
    cls = snap;
  if (snap) {
    pthread_mutex_unlock(&st->lock);
    locked = 0;
  }
  /* FastChat's dedup_tag needs every battle's prompt before the first
   * record is written (CSV has no field for it) */
  if (fmt != EXPORT_CSV) {
    if (export_dedup_compute(st, cls, &dedup))
      goto fail_snap;
    x.dedup = &dedup;
  }
  if (fmt == EXPORT_FASTCHAT)
    fputs("[", out);
  else if (fmt == EXPORT_CSV)
    fputs("question_id,model_a,model_b,winner,judge,turn,anony,language,"
          "tstamp\n",
          out);
  if (STORE_OPS(st)->export_votes(cls, fmt != EXPORT_CSV, export_vote, &x) ||
      STORE_OPS(st)->export_judgments(cls, export_judgment, &x))
    goto fail_snap;
  if (fmt == EXPORT_FASTCHAT)
    fputs(x.n ? "\n]\n" : "]\n", out);
  n = x.n;
  goto out;
fail_snap:
  snprintf(err, errlen, "export failed: %s", st->ops->error(cls));
  goto out;
fail:
  snprintf(err, errlen, "export failed: %s", store_error(st));
out:
  if (snap)
    st->ops->snapshot_close(snap);
  if (locked)
    pthread_mutex_unlock(&st->lock);
  export_dedup_release(&dedup);
  return n;
}
