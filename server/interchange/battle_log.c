#include "interchange/battle_log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/buf.h"

void battle_log_init(struct battle_log *log) { memset(log, 0, sizeof *log); }

void battle_log_release(struct battle_log *log) {
  for (size_t i = 0; i < log->n_models; i++)
    free(log->models[i]);
  free(log->models);
  for (size_t i = 0; i < log->n; i++)
    json_decref(log->battles[i].record);
  free(log->battles);
  free(log->slots);
  memset(log, 0, sizeof *log);
}

int fastchat_winner_parse(const char *s, enum winner *w) {
  if (!strcmp(s, "model_a"))
    *w = WINNER_A;
  else if (!strcmp(s, "model_b"))
    *w = WINNER_B;
  else if (!strcmp(s, "tie"))
    *w = WINNER_TIE;
  else if (!strcmp(s, "tie (bothbad)") || !strcmp(s, "both_bad"))
    *w = WINNER_BOTHBAD;
  else
    return -1;
  return 0;
}

const char *fastchat_winner_name(enum winner w) {
  static const char *const names[] = {"model_a", "model_b", "tie",
                                      "tie (bothbad)"};
  return names[w];
}

static uint64_t hash_str(const char *s) {
  uint64_t h = 14695981039346656037ull;
  for (; *s; s++)
    h = (h ^ (unsigned char)*s) * 1099511628211ull;
  return h;
}

static int grow_slots(struct battle_log *log) {
  size_t n = log->n_slots ? log->n_slots * 2 : 64;
  int *slots = malloc(n * sizeof *slots);
  if (!slots)
    return -1;
  for (size_t i = 0; i < n; i++)
    slots[i] = -1;
  for (size_t m = 0; m < log->n_models; m++) {
    size_t s = hash_str(log->models[m]) & (n - 1);
    while (slots[s] >= 0)
      s = (s + 1) & (n - 1);
    slots[s] = (int)m;
  }
  free(log->slots);
  log->slots = slots;
  log->n_slots = n;
  return 0;
}

int battle_log_model(struct battle_log *log, const char *name) {
  if ((log->n_models + 1) * 2 > log->n_slots && grow_slots(log))
    return -1;
  size_t s = hash_str(name) & (log->n_slots - 1);
  while (log->slots[s] >= 0) {
    if (!strcmp(log->models[log->slots[s]], name))
      return log->slots[s];
    s = (s + 1) & (log->n_slots - 1);
  }
  char **models = realloc(log->models, (log->n_models + 1) * sizeof *models);
  if (!models)
    return -1;
  log->models = models;
  models[log->n_models] = strdup(name);
  if (!models[log->n_models])
    return -1;
  log->slots[s] = (int)log->n_models;
  return (int)log->n_models++;
}

/* One record; returns 0 (kept), 1 (malformed, reported), -1 (no memory). */
static int add_record(struct battle_log *log, json_t *rec, const char *file,
                      size_t index, int keep, log_problem_fn problem,
                      void *cls) {
  const char *why = NULL;
  const char *ma = NULL, *mb = NULL, *ws = NULL;
  enum winner w = WINNER_TIE;
  if (!json_is_object(rec)) {
    why = "not a JSON object";
  } else {
    ma = json_string_value(json_object_get(rec, "model_a"));
    mb = json_string_value(json_object_get(rec, "model_b"));
    ws = json_string_value(json_object_get(rec, "winner"));
    json_t *ts = json_object_get(rec, "tstamp");
    json_t *an = json_object_get(rec, "anony");
    if (!ma || !*ma)
      why = "\"model_a\" is missing or not a non-empty string";
    else if (!mb || !*mb)
      why = "\"model_b\" is missing or not a non-empty string";
    else if (!strcmp(ma, mb))
      why = "\"model_a\" and \"model_b\" are the same model";
    else if (!ws || fastchat_winner_parse(ws, &w))
      why = "\"winner\" is not one of model_a, model_b, tie, tie (bothbad), "
            "both_bad";
    else if (ts && !json_is_null(ts) && !json_is_number(ts))
      why = "\"tstamp\" is not a number";
    else if (an && !json_is_null(an) && !json_is_boolean(an))
      why = "\"anony\" is not a boolean";
  }
  if (why) {
    log->malformed++;
    if (problem)
      problem(cls, file, index, why);
    return 1;
  }
  if (log->n % 4096 == 0) {
    struct log_battle *b =
        realloc(log->battles, (log->n + 4096) * sizeof *b);
    if (!b)
      return -1;
    log->battles = b;
  }
  int a = battle_log_model(log, ma), b = battle_log_model(log, mb);
  if (a < 0 || b < 0)
    return -1;
  struct log_battle *lb = &log->battles[log->n];
  lb->a = a;
  lb->b = b;
  lb->w = w;
  lb->anony = json_is_true(json_object_get(rec, "anony"));
  lb->tstamp = json_number_value(json_object_get(rec, "tstamp"));
  lb->seq = log->n;
  lb->record = keep ? json_incref(rec) : NULL;
  log->n++;
  return 0;
}

static size_t skip_space(const char *p, size_t i, size_t n) {
  while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\n' || p[i] == '\r'))
    i++;
  return i;
}

int battle_log_read(struct battle_log *log, const char *path, int keep_records,
                    log_problem_fn problem, void *cls, char *err,
                    size_t errlen) {
  int rc = -1;
  struct buf whole;
  buf_init(&whole, (size_t)1 << 40);
  const char *data = NULL;
  size_t n = 0;
  void *map = MAP_FAILED;
  int fd = -1;
  if (!strcmp(path, "-")) {
    char chunk[65536];
    size_t got;
    while ((got = fread(chunk, 1, sizeof chunk, stdin)) > 0)
      if (buf_append(&whole, chunk, got)) {
        snprintf(err, errlen, "%s: out of memory", path);
        goto out;
      }
    data = whole.data ? whole.data : "";
    n = whole.len;
  } else {
    fd = open(path, O_RDONLY);
    struct stat st;
    if (fd < 0 || fstat(fd, &st)) {
      snprintf(err, errlen, "cannot open '%s': %s", path, strerror(errno));
      goto out;
    }
    n = (size_t)st.st_size;
    if (n) {
      map = mmap(NULL, n, PROT_READ, MAP_PRIVATE, fd, 0);
      if (map == MAP_FAILED) {
        snprintf(err, errlen, "cannot read '%s': %s", path, strerror(errno));
        goto out;
      }
      data = map;
    } else {
      data = "";
    }
  }
  size_t i = skip_space(data, 0, n);
  int array = i < n && data[i] == '[';
  if (array)
    i = skip_space(data, i + 1, n);
  size_t index = 0;
  while (i < n) {
    if (array && data[i] == ']') {
      i = skip_space(data, i + 1, n);
      if (i < n) {
        snprintf(err, errlen, "%s: unexpected text after the closing ']'", path);
        goto out;
      }
      array = 0; /* closed */
      break;
    }
    json_error_t jerr;
    json_t *rec = json_loadb(data + i, n - i,
                             JSON_DISABLE_EOF_CHECK | JSON_DECODE_ANY, &jerr);
    if (!rec) {
      /* one bad line of JSON lines is a malformed record; in an array the
       * structure is lost, so the file is rejected */
      if (array) {
        snprintf(err, errlen, "%s: record %zu: invalid JSON: %s", path, index,
                 jerr.text);
        goto out;
      }
      log->malformed++;
      if (problem)
        problem(cls, path, index, "invalid JSON");
      const char *nl = memchr(data + i, '\n', n - i);
      i = nl ? (size_t)(nl - data) + 1 : n;
      i = skip_space(data, i, n);
      index++;
      continue;
    }
    i += jerr.position;
    int r = add_record(log, rec, path, index, keep_records, problem, cls);
    json_decref(rec);
    if (r < 0) {
      snprintf(err, errlen, "%s: out of memory", path);
      goto out;
    }
    index++;
    i = skip_space(data, i, n);
    if (array) {
      if (i < n && data[i] == ',')
        i = skip_space(data, i + 1, n);
      else if (i >= n || data[i] != ']') {
        snprintf(err, errlen, "%s: record %zu: expected ',' or ']'", path,
                 index - 1);
        goto out;
      }
    }
  }
  if (array) {
    snprintf(err, errlen, "%s: the JSON array is not closed", path);
    goto out;
  }
  rc = 0;
out:
  if (map != MAP_FAILED)
    munmap(map, n);
  if (fd >= 0)
    close(fd);
  buf_release(&whole);
  return rc;
}

static int by_tstamp(const void *x, const void *y) {
  const struct log_battle *a = x, *b = y;
  if (a->tstamp != b->tstamp)
    return a->tstamp < b->tstamp ? -1 : 1;
  return a->seq < b->seq ? -1 : a->seq > b->seq;
}

void battle_log_sort(struct battle_log *log) {
  if (log->n < 2)
    return;
  qsort(log->battles, log->n, sizeof *log->battles, by_tstamp);
}
