/* agon bench's pure parts: Python's random as lm-eval uses it, the text
 * operations of the task files, the answer extraction, the metrics and
 * the reading of completion answers. The expected values were computed
 * with CPython 3.11 (random, re) on the same inputs. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "bench/body.h"
#include "bench/extract.h"
#include "bench/logprobs.h"
#include "bench/metrics.h"
#include "bench/prompt.h"
#include "bench/pyrandom.h"
#include "bench/text.h"
#include "check.h"

static void test_pyrandom(void) {
  struct pyrandom r;
  pyrandom_seed(&r, 1234); /* [random.Random(1234).getrandbits(32) x3] */
  CHECK(pyrandom_u32(&r) == 4150886329u);
  CHECK(pyrandom_u32(&r) == 3342196574u);
  CHECK(pyrandom_u32(&r) == 1892932127u);
  /* r = Random(1234); r.sample(range(30), 25); r.sample(range(30), 26) */
  static const size_t a[25] = {24, 14, 3,  0,  2,  18, 1,  21, 25,
                               27, 11, 7,  26, 17, 16, 5,  10, 9,
                               29, 12, 19, 22, 23, 13, 28};
  static const size_t b[26] = {3,  27, 0,  16, 15, 7,  2,  21, 17,
                               14, 23, 19, 26, 1,  8,  13, 25, 22,
                               10, 4,  24, 5,  11, 12, 20, 6};
  size_t out[26];
  pyrandom_seed(&r, 1234);
  CHECK(pyrandom_sample(&r, 30, 25, out) == 0);
  CHECK(!memcmp(out, a, sizeof a));
  CHECK(pyrandom_sample(&r, 30, 26, out) == 0);
  CHECK(!memcmp(out, b, sizeof b));
  /* the set algorithm: Random(1234).sample(range(1000), 25) */
  static const size_t c[25] = {989, 796, 451, 119, 7,   92,  932, 965, 961,
                               826, 596, 35,  687, 709, 85,  100, 784, 363,
                               242, 17,  31,  807, 16,  354, 663};
  pyrandom_seed(&r, 1234);
  CHECK(pyrandom_sample(&r, 1000, 25, out) == 0);
  CHECK(!memcmp(out, c, sizeof c));
  CHECK(pyrandom_sample(&r, 3, 4, out) == -1);
  pyrandom_seed(&r, 0); /* Random(0).random() */
  CHECK_NEAR(pyrandom_double(&r), 0.8444218515250481, 1e-16);
  pyrandom_seed(&r, (1ull << 40) + 5); /* two key words */
  CHECK(pyrandom_u32(&r) == 2166296868u);
}

static void test_text(void) {
  char *s;
  CHECK_STR(s = py_strip(" \t x y \n"), "x y");
  free(s);
  CHECK_STR(s = py_strip("\xc2\xa0z\xe3\x80\x80"), "z"); /* NBSP, U+3000 */
  free(s);
  CHECK_STR(s = py_strip("   "), "");
  free(s);
  CHECK_STR(s = py_capitalize_ascii("hello World"), "Hello world");
  free(s);
  CHECK_STR(s = py_drop_brackets("a [b] c [d\ne] f [g"), "a  c [d\ne] f [g");
  free(s);
  CHECK_STR(s = py_replace("a   b", "  ", " "), "a  b");
  free(s);
  CHECK(py_len("h\xc3\xa9llo") == 5);
  CHECK(py_offset("h\xc3\xa9llo", 2) == 3);
  CHECK(py_index_char("\xc3\xa9t_e", '_') == 2);
}

static void gsm(const char *text, const char *strict, const char *flex) {
  char *a = gsm8k_strict(text), *b = gsm8k_flexible(text);
  CHECK_STR(a, strict);
  CHECK_STR(b, flex);
  free(a);
  free(b);
}

static void test_extract(void) {
  gsm("So 3+4 = 7.\n#### 7", "7", "7");
  gsm("#### -1,234.5 dollars", "-1,234.5", "-1,234.5");
  gsm("#### - 5 and #### 8", "8", "8");
  gsm("The answer is $18.", "[invalid]", "$18.");
  gsm("x 5 y -3 z", "[invalid]", "-3");
  gsm("no digits", "[invalid]", "[invalid]");
  gsm("costs $1,000. Then 12 - 4", "[invalid]", "4");
  gsm("#### 1.\n", "1.", "1.");
  gsm("-7", "[invalid]", "-7");
  char *n;
  CHECK_STR(n = gsm8k_normalize("$1,000."), "1000");
  free(n);
  CHECK_STR(n = gsm8k_normalize("x\n#### 72"), "72");
  free(n);
  CHECK_STR(n = gsm8k_normalize("5.\n"), "5\n");
  free(n);
  CHECK_STR(n = gsm8k_normalize("a.b."), "a.b");
  free(n);
  CHECK(gsm8k_match("$18.", "Janet...\n#### 18") == 1);
  CHECK(gsm8k_match("[invalid]", "#### 18") == 0);
  CHECK_STR(n = gsm8k_until("7\n#### 7\n\nQuestion: next"), "7\n#### 7\n\n");
  free(n);
  char l;
  CHECK(mc_letter("blah\nAnswer: B", 4, &l) == 1 && l == 'B');
  CHECK(mc_letter("answer: c", 4, &l) == -1 && l == 'c');
  CHECK(mc_letter("Answer:$D$", 4, &l) == 3);
  CHECK(mc_letter("ANSWER :\tA then Answer: B", 4, &l) == 0);
  CHECK(mc_letter("Answer: $LETTER", 4, &l) == -1 && l == '\0');
  CHECK(mc_letter("Answer: E", 4, &l) == -1);
  CHECK(mc_letter("Answer: E", 5, &l) == 4);
  CHECK(mc_letter("Answer: B", 2, &l) == 1);
}

static void test_metrics(void) {
  double ll[] = {-3.0, -2.0, -6.0};
  size_t chars[] = {1, 10, 40};
  CHECK(bench_acc(ll, 3, 1));
  CHECK(bench_acc_norm(ll, chars, 3, 2)); /* -6/40 is the largest */
  double tie[] = {-1.0, -1.0};
  CHECK(bench_argmax(tie, 2) == 0);
  int labels[] = {1, 0, 1};
  /* (e^-3 + e^-6) / (e^-3 + e^-2 + e^-6) */
  CHECK_NEAR(bench_mc2(ll, labels, 3), 0.2786008157, 1e-9);
  double big[] = {-2000.0, -2001.0};
  int l2[] = {1, 0};
  CHECK_NEAR(bench_mc2(big, l2, 2), 1 / (1 + exp(-1.0)), 1e-12);
  double lo, hi;
  bench_wilson(7, 10, &lo, &hi); /* statsmodels proportion_confint wilson */
  CHECK_NEAR(lo, 0.3967781475, 1e-9);
  CHECK_NEAR(hi, 0.8922087326, 1e-9);
  bench_wilson(0, 0, &lo, &hi);
  CHECK(lo == 0 && hi == 1);
}

static void test_logprobs(void) {
  /* "Q: a" + " B": tokens "Q:", " a", " B", generated " the" */
  const char *body =
      "{\"choices\":[{\"text\":\"Q: a B the\",\"logprobs\":{\"tokens\":[\"Q:\","
      "\" a\",\" B\",\" the\"],\"token_logprobs\":[null,-1.5,-0.25,-9],"
      "\"text_offset\":[0,2,4,6]}}]}";
  double ll;
  size_t n;
  int straddles;
  char why[200];
  CHECK(bench_read_loglikelihood(body, strlen(body), 4, 6, &ll, &n,
                                 &straddles, why, sizeof why) ==
        BENCH_READ_OK);
  CHECK_NEAR(ll, -0.25, 1e-12);
  CHECK(n == 1 && !straddles);
  /* the continuation from character 3, inside " a": that token counts */
  CHECK(bench_read_loglikelihood(body, strlen(body), 3, 6, &ll, &n,
                                 &straddles, why, sizeof why) ==
        BENCH_READ_OK);
  CHECK_NEAR(ll, -1.75, 1e-12);
  CHECK(n == 2 && straddles);
  const char *none = "{\"choices\":[{\"text\":\"x\",\"logprobs\":null}]}";
  CHECK(bench_read_loglikelihood(none, strlen(none), 1, 2, &ll, &n,
                                 &straddles, why, sizeof why) ==
        BENCH_READ_NO_LOGPROBS);
  CHECK(bench_read_loglikelihood("{", 1, 1, 2, &ll, &n, &straddles, why,
                                 sizeof why) == BENCH_READ_MALFORMED);
  /* a server that did not echo: only the generated token, at the end */
  const char *noecho =
      "{\"choices\":[{\"text\":\" the\",\"logprobs\":{\"tokens\":[\" the\"],"
      "\"token_logprobs\":[-1],\"text_offset\":[6]}}]}";
  CHECK(bench_read_loglikelihood(noecho, strlen(noecho), 4, 6, &ll, &n,
                                 &straddles, why, sizeof why) ==
        BENCH_READ_NO_LOGPROBS);
  char *text = NULL;
  const char *chat =
      "{\"choices\":[{\"message\":{\"role\":\"assistant\",\"content\":\"hi\"}}]}";
  CHECK(bench_read_text(chat, strlen(chat), 1, &text, why, sizeof why) ==
        BENCH_READ_OK);
  CHECK_STR(text, "hi");
  free(text);
}


/* The bodies built from escaped parts (bench/body.h) are the bodies
 * json_pack would make: the same prompt (bench_prefix, then the parts
 * given) and lm-eval's other fields, for texts JSON must escape. */
static void check_body(const char *body, const char *prompt, int loglik) {
  json_error_t e;
  json_t *o = json_loads(body, 0, &e);
  CHECK(o != NULL);
  if (!o)
    return;
  CHECK_STR(json_string_value(json_object_get(o, "model")), "m\"\\\xc3\xb6");
  CHECK_STR(json_string_value(json_object_get(o, "prompt")), prompt);
  CHECK(json_integer_value(json_object_get(o, "seed")) == 1234);
  CHECK(json_integer_value(json_object_get(o, "temperature")) == 0);
  if (loglik) {
    CHECK(json_object_size(o) == 7);
    CHECK(json_integer_value(json_object_get(o, "max_tokens")) == 1);
    CHECK(json_integer_value(json_object_get(o, "logprobs")) == 1);
    CHECK(json_is_true(json_object_get(o, "echo")));
  } else {
    CHECK(json_object_size(o) == 6);
    CHECK(json_integer_value(json_object_get(o, "max_tokens")) == 256);
    CHECK_STR(json_string_value(json_array_get(json_object_get(o, "stop"), 2)),
              "<|im_end|>");
  }
  json_decref(o);
}

static void test_bodies(void) {
  static const char *const texts[] = {
      "Q: \"quoted\" \\ back\tslash\n\x01 ctl \xe2\x82\xac </s> /",
      "second\r\nshot \xf0\x9f\x98\x80", "third: \x1f\x7f"};
  char *choices[] = {"A \"one\"", "B\n\\two"};
  struct bench_doc pool[3], item;
  memset(pool, 0, sizeof pool);
  memset(&item, 0, sizeof item);
  for (size_t i = 0; i < 3; i++) {
    pool[i].query = (char *)texts[i];
    pool[i].target = (char *)texts[(i + 1) % 3];
    pool[i].choices = choices;
    pool[i].n_choices = 2;
    pool[i].gold = (int)(i % 2);
    pool[i].group = "high_school_\"x\"";
  }
  item = pool[0];
  item.query = "the item's \"own\"\n";
  const struct bench_doc *shots[] = {&pool[2], &pool[0], &pool[2]};
  struct model_config m = {.upstream = "m\"\\\xc3\xb6"};
  const struct bench_task *tasks[] = {&bench_task_gsm8k, &bench_task_arc_challenge,
                                      &bench_task_mmlu, &bench_task_winogrande};
  for (size_t t = 0; t < sizeof tasks / sizeof *tasks; t++) {
    struct bench_bodies b;
    CHECK(bench_bodies_init(&b, tasks[t], &m, pool, 3) == 0);
    for (int round = 0; round < 2; round++) { /* the shots' texts kept */
      struct buf esc;
      buf_init(&esc, (size_t)-1);
      char *prefix = bench_prefix(tasks[t], &item, shots, 3);
      CHECK(prefix != NULL);
      CHECK(bench_bodies_prefix(&b, &item, shots, 3, &esc) == 0);
      char *until = bench_body_new(&b, BENCH_BODY_UNTIL, &esc, NULL, NULL);
      check_body(until, prefix, 0);
      char *ll = bench_body_new(&b, BENCH_BODY_LOGLIK, &esc, choices[1],
                                " \"more\"");
      size_t n = strlen(prefix);
      char *want = malloc(n + 64);
      snprintf(want, n + 64, "%s%s%s", prefix, choices[1], " \"more\"");
      check_body(ll, want, 1);
      free(want);
      free(ll);
      free(until);
      free(prefix);
      buf_release(&esc);
    }
    /* a shot that is not the pool's */
    struct buf esc;
    buf_init(&esc, (size_t)-1);
    const struct bench_doc *stray[] = {&item};
    CHECK(bench_bodies_prefix(&b, &item, stray, 1, &esc) == -1);
    buf_release(&esc);
    bench_bodies_release(&b);
  }
}

int main(void) {
  test_pyrandom();
  test_text();
  test_extract();
  test_metrics();
  test_logprobs();
  test_bodies();
  return check_done("test_bench");
}
