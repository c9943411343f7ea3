/* Completion answers read (logprobs.h). */
#include "bench/logprobs.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static json_t *first_choice(json_t *root) {
  return json_array_get(json_object_get(root, "choices"), 0);
}

enum bench_read bench_read_loglikelihood(const char *body, size_t len,
                                         size_t cont_from,
                                         size_t prompt_chars, double *ll,
                                         size_t *n_tokens, int *straddles,
                                         char *why, size_t whylen) {
  enum bench_read rc = BENCH_READ_MALFORMED;
  json_t *root = json_loadb(body, len, 0, NULL);
  json_t *c = first_choice(root);
  if (!json_is_object(c)) {
    snprintf(why, whylen, "the answer is not a completion with choices");
    goto out;
  }
  json_t *lp = json_object_get(c, "logprobs");
  json_t *tl = json_object_get(lp, "token_logprobs");
  json_t *off = json_object_get(lp, "text_offset");
  if (!json_is_array(tl) || !json_is_array(off) || !json_array_size(tl)) {
    snprintf(why, whylen,
             "the answer has no token_logprobs and text_offset (no prompt "
             "log-probabilities)");
    rc = BENCH_READ_NO_LOGPROBS;
    goto out;
  }
  size_t n = json_array_size(tl);
  if (json_array_size(off) != n) {
    snprintf(why, whylen, "token_logprobs and text_offset differ in length");
    goto out;
  }
  /* the prompt's tokens: those before prompt_chars; the first of the
   * continuation: the last that starts at or before cont_from */
  size_t first = n, end = 0;
  long prev = -1;
  for (size_t i = 0; i < n; i++) {
    json_t *o = json_array_get(off, i);
    if (!json_is_integer(o) || json_integer_value(o) < prev) {
      snprintf(why, whylen, "text_offset is not a rising list of numbers");
      goto out;
    }
    prev = (long)json_integer_value(o);
    if ((size_t)prev >= prompt_chars)
      break;
    end = i + 1;
    if ((size_t)prev <= cont_from)
      first = i;
  }
  if (!end || first >= end || prompt_chars <= cont_from) {
    snprintf(why, whylen,
             "the answer's tokens do not cover the prompt (the server did not "
             "echo it)");
    rc = BENCH_READ_NO_LOGPROBS;
    goto out;
  }
  double sum = 0;
  for (size_t i = first; i < end; i++) {
    json_t *v = json_array_get(tl, i);
    if (!json_is_number(v)) {
      snprintf(why, whylen,
               i == 0 ? "the continuation starts with the prompt's first "
                        "token, which has no log-probability"
                      : "a token of the continuation has no log-probability");
      rc = json_is_null(v) && i > 0 ? BENCH_READ_NO_LOGPROBS
                                    : BENCH_READ_MALFORMED;
      goto out;
    }
    sum += json_number_value(v);
  }
  *ll = sum;
  *n_tokens = end - first;
  *straddles =
      (size_t)json_integer_value(json_array_get(off, first)) < cont_from;
  rc = BENCH_READ_OK;
out:
  json_decref(root);
  return rc;
}

enum bench_read bench_read_text(const char *body, size_t len, int chat,
                                char **text, char *why, size_t whylen) {
  enum bench_read rc = BENCH_READ_MALFORMED;
  json_t *root = json_loadb(body, len, 0, NULL);
  json_t *c = first_choice(root);
  json_t *t = chat ? json_object_get(json_object_get(c, "message"), "content")
                   : json_object_get(c, "text");
  if (!json_is_object(c) || !(json_is_string(t) || json_is_null(t))) {
    snprintf(why, whylen, "the answer is not a %s with choices",
             chat ? "chat completion" : "completion");
    goto out;
  }
  *text = strdup(json_is_string(t) ? json_string_value(t) : "");
  if (!*text) {
    snprintf(why, whylen, "out of memory");
    goto out;
  }
  rc = BENCH_READ_OK;
out:
  json_decref(root);
  return rc;
}
