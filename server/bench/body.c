/* Request bodies from escaped parts (body.h). */
#include "bench/body.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "bench/prompt.h"

#define GSM8K_MAX_TOKENS 256 /* lm-eval's max_gen_toks */
#define BENCH_SEED 1234      /* the request seed lm-eval sends */
#define MAX_SHOT_TEXT (16u << 20)

/* Append s (len bytes of UTF-8) to out as jansson escapes it inside a
 * JSON string, without the quotes. 0, or -1: invalid UTF-8, out of
 * memory, or past out's bound. */
static int escape_append(struct buf *out, const char *s, size_t len) {
  json_t *j = json_stringn(s, len);
  char *text = j ? json_dumps(j, JSON_ENCODE_ANY | JSON_COMPACT) : NULL;
  int rc = -1;
  json_decref(j);
  if (text) {
    size_t n = strlen(text); /* "…": n >= 2 */
    rc = buf_append(out, text + 1, n - 2);
  }
  free(text);
  return rc;
}

/* The text of o dumped, with its first skip_front and last skip_back
 * bytes left off and put between before and after. NULL when out of
 * memory. */
static char *dump_between(json_t *o, size_t skip_front, size_t skip_back,
                          const char *before, const char *after) {
  char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
  char *out = NULL;
  json_decref(o);
  if (!text)
    return NULL;
  size_t n = strlen(text);
  if (n >= skip_front + skip_back) {
    size_t lb = strlen(before), la = strlen(after),
           mid = n - skip_front - skip_back;
    out = malloc(lb + mid + la + 1);
    if (out) {
      memcpy(out, before, lb);
      memcpy(out + lb, text + skip_front, mid);
      memcpy(out + lb + mid, after, la + 1);
    }
  }
  free(text);
  return out;
}

int bench_bodies_init(struct bench_bodies *b, const struct bench_task *t,
                      const struct model_config *m,
                      const struct bench_doc *pool, size_t n_pool) {
  memset(b, 0, sizeof *b);
  b->task = t;
  b->pool = pool;
  b->n_pool = n_pool;
  /* {"model":"M"} becomes {"model":"M","prompt":"   and the rest of
   * lm-eval's payload {"max_tokens":1,…} becomes ","max_tokens":1,…} */
  b->head = dump_between(json_pack("{s:s}", "model", m->upstream), 0, 1, "",
                         ",\"prompt\":\"");
  b->tail[BENCH_BODY_LOGLIK] = dump_between(
      json_pack("{s:i, s:i, s:i, s:b, s:i}", "max_tokens", 1, "temperature",
                0, "logprobs", 1, "echo", 1, "seed", BENCH_SEED),
      1, 0, "\",", "");
  b->tail[BENCH_BODY_UNTIL] = dump_between(
      json_pack("{s:i, s:i, s:[s,s,s], s:i}", "max_tokens", GSM8K_MAX_TOKENS,
                "temperature", 0, "stop", "Question:", "</s>", "<|im_end|>",
                "seed", BENCH_SEED),
      1, 0, "\",", "");
  b->shot = calloc(n_pool ? n_pool : 1, sizeof *b->shot);
  if (!b->head || !b->tail[0] || !b->tail[1] || !b->shot) {
    bench_bodies_release(b);
    return -1;
  }
  return 0;
}

void bench_bodies_release(struct bench_bodies *b) {
  free(b->head);
  free(b->tail[0]);
  free(b->tail[1]);
  for (size_t i = 0; b->shot && i < b->n_pool; i++)
    free(b->shot[i]);
  free(b->shot);
  memset(b, 0, sizeof *b);
}

/* The escaped text of the pool's shot s, made on first use. */
static const char *shot_escaped(struct bench_bodies *b,
                                const struct bench_doc *s) {
  size_t k = (size_t)(s - b->pool);
  if (s < b->pool || k >= b->n_pool)
    return NULL;
  if (!b->shot[k]) {
    struct buf plain, esc;
    buf_init(&plain, MAX_SHOT_TEXT);
    buf_init(&esc, 6 * (size_t)MAX_SHOT_TEXT); /* \u00XX at the most */
    if (!bench_shot_text(b->task, s, &plain) &&
        !escape_append(&esc, plain.data, plain.len))
      b->shot[k] = buf_steal(&esc);
    buf_release(&plain);
    buf_release(&esc);
  }
  return b->shot[k];
}

int bench_bodies_prefix(struct bench_bodies *b, const struct bench_doc *d,
                        const struct bench_doc *const *shots, size_t n_shots,
                        struct buf *out) {
  int rc = -1;
  char *desc = b->task->description ? b->task->description(d) : NULL;
  if (b->task->description && !desc)
    goto out;
  if (buf_append(out, "", 0) ||
      (desc && escape_append(out, desc, strlen(desc))))
    goto out;
  for (size_t i = 0; i < n_shots; i++) {
    const char *e = shot_escaped(b, shots[i]);
    if (!e || buf_append_str(out, e))
      goto out;
  }
  const char *query = bench_prefix_query(b->task, d);
  if (query && escape_append(out, query, strlen(query)))
    goto out;
  rc = 0;
out:
  free(desc);
  return rc;
}

char *bench_body_new(const struct bench_bodies *b, enum bench_body_kind kind,
                     const struct buf *esc_prefix, const char *more1,
                     const char *more2) {
  struct buf out;
  buf_init(&out, (size_t)-1);
  if (buf_append_str(&out, b->head) ||
      buf_append(&out, esc_prefix->data ? esc_prefix->data : "",
                 esc_prefix->len) ||
      (more1 && escape_append(&out, more1, strlen(more1))) ||
      (more2 && escape_append(&out, more2, strlen(more2))) ||
      buf_append_str(&out, b->tail[kind])) {
    buf_release(&out);
    return NULL;
  }
  return buf_steal(&out);
}
