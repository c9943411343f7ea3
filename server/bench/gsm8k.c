/* GSM8K (openai/gsm8k, main), 5-shot, as lm-eval's gsm8k.yaml (version
 * 3): doc_to_text "Question: {{question}}\nAnswer:", a shot's answer the
 * whole `answer` field (its steps and "#### N"), generation until
 * "Question:", "</s>" or "<|im_end|>", then the strict and flexible
 * extractions and exact_match (bench/extract.h). */
#include "bench/task.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int gsm8k_parse(json_t *o, struct bench_doc *d, char *err,
                       size_t errlen) {
  char *question = NULL;
  int rc = -1;
  if (bench_field_str(o, "question", &question, err, errlen) ||
      bench_field_str(o, "answer", &d->target, err, errlen))
    goto out;
  if (!strstr(d->target, "#### ")) {
    snprintf(err, errlen, "'answer' has no final \"#### N\" line");
    goto out;
  }
  size_t len = strlen(question) + sizeof "Question: \nAnswer:";
  d->query = malloc(len);
  if (!d->query) {
    snprintf(err, errlen, "out of memory");
    goto out;
  }
  snprintf(d->query, len, "Question: %s\nAnswer:", question);
  d->question = question;
  question = NULL;
  rc = 0;
out:
  free(question);
  return rc;
}

const struct bench_task bench_task_gsm8k = {
    .name = "gsm8k",
    .title = "GSM8K",
    .fields = "question, answer (ending in \"#### N\")",
    .shots = 5,
    .kind = BENCH_GENERATE,
    .sampler = BENCH_SAMPLER_RANDOM,
    .generate = 1,
    .parse = gsm8k_parse,
};
