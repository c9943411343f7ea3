/* Reading a /v1/completions answer (bench tasks). Pure.
 *
 * A likelihood request sends prompt = context + continuation with echo,
 * logprobs 1 and max_tokens 1 (lm-eval's local-completions payload);
 * the answer's choices[0].logprobs has token_logprobs and text_offset
 * for every token of the prompt (the first one's log-probability null)
 * and of the one generated. Without a tokenizer, the continuation is
 * found by text_offset, in characters (code points) of the prompt: its
 * tokens are the prompt's tokens from the one that holds the
 * continuation's first character (at the context's length) to the
 * prompt's end; the generated tokens (offset at or past the prompt's
 * length) are left out, as lm-eval's [ctxlen:-1] leaves out the last.
 * When the boundary falls inside a token (a tokenizer that joins the
 * context's last characters with the continuation's first), that token
 * counts for the continuation, and *straddles says so. */
#ifndef AGON_BENCH_LOGPROBS_H
#define AGON_BENCH_LOGPROBS_H

#include <stddef.h>

/* What went wrong reading an answer. */
enum bench_read {
  BENCH_READ_OK,
  BENCH_READ_MALFORMED,    /* not the JSON of a completion */
  BENCH_READ_NO_LOGPROBS,  /* no prompt log-probabilities in it: the
                              server cannot do likelihood mode */
};

/* The continuation's log-likelihood from the completion answer body
 * (len bytes), for a prompt of prompt_chars characters whose
 * continuation starts at character cont_from. *ll gets the sum,
 * *n_tokens its tokens, *straddles 1 when the first one began in the
 * context. On failure why (whylen bytes) says what was wrong. */
enum bench_read bench_read_loglikelihood(const char *body, size_t len,
                                         size_t cont_from,
                                         size_t prompt_chars, double *ll,
                                         size_t *n_tokens, int *straddles,
                                         char *why, size_t whylen);

/* The generated text of a completion answer (choices[0].text) or of a
 * chat completion answer (choices[0].message.content), as a new string
 * in *text. */
enum bench_read bench_read_text(const char *body, size_t len, int chat,
                                char **text, char *why, size_t whylen);

#endif
