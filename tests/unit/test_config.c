/* Config: a full valid file, and errors that name file and line. */
#include <stdlib.h>
#include <unistd.h>

#include "check.h"
#include "config/config.h"
#include "config/keys.h"
#include "util/listen.h"
#include "util/utf8.h"

static char path[256];

static int load(const char *text, struct config *cfg, char *err, size_t n) {
  FILE *f = fopen(path, "w");
  fputs(text, f);
  fclose(f);
  config_init(cfg);
  return config_load(cfg, path, err, n);
}

/* The text must fail with "PATH:line: ..." containing want. */
static void expect_error(const char *text, int line, const char *want) {
  struct config cfg;
  char err[512] = "";
  CHECK(load(text, &cfg, err, sizeof err) == -1);
  char prefix[300];
  snprintf(prefix, sizeof prefix, "%s:%d: ", path, line);
  CHECK(strncmp(err, prefix, strlen(prefix)) == 0);
  CHECK(strstr(err, want) != NULL);
  if (strncmp(err, prefix, strlen(prefix)) || !strstr(err, want))
    fprintf(stderr, "  got: %s\n  want: %s...%s\n", err, prefix, want);
  config_release(&cfg);
}

/* The text must load. */
static void expect_ok(const char *text) {
  struct config cfg;
  char err[512] = "";
  int rc = load(text, &cfg, err, sizeof err);
  CHECK(rc == 0);
  if (rc)
    fprintf(stderr, "  rejected: %s\n", err);
  config_release(&cfg);
}

/* The text must fail with exactly "PATH:" followed by want. */
static void expect_exact(const char *text, const char *want) {
  struct config cfg;
  char err[1024] = "", full[1024];
  CHECK(load(text, &cfg, err, sizeof err) == -1);
  snprintf(full, sizeof full, "%s:%s", path, want);
  CHECK_STR(err, full);
  config_release(&cfg);
}

/* Every message the loader writes, word for word, at its line: the key
 * tables must not change one. */
static void exact_messages(void) {
  static const struct {
    const char *text, *want;
  } cases[] = {
      {"[server]\nlisten = x\n",
       "2: listen: expected HOST:PORT or [IPV6]:PORT with a port from 0 to "
       "65535, got 'x'"},
      {"[server]\nadmin_token_env =\n",
       "2: admin_token_env: empty variable name"},
      {"[server]\nadmin_token_env = AGON_TEST_KEY\n",
       "2: admin_token_env: environment variable 'AGON_TEST_KEY' is not set "
       "or shorter than 16 characters"},
      {"[server]\ndatabase =\n", "2: database: empty path"},
      {"[server]\ndatabase = sqlite:\n", "2: database: empty path"},
#ifndef AGON_HAVE_POSTGRES
      /* an engine this build has not: said, without the value (a URL may
       * hold a password) */
      {"[server]\ndatabase = postgresql://agon:secret@db/agon\n",
       "2: database: PostgreSQL support is not built"},
      {"[server]\ndatabase = postgres://db/agon\n",
       "2: database: PostgreSQL support is not built"},
      {"[server]\ndatabase = host=db dbname=agon\n",
       "2: database: PostgreSQL support is not built"},
#endif
      {"[server]\nbogus = 1\n", "2: unknown key 'bogus' in [server]"},
      {"[ratings]\nk = 1001\n",
       "2: k: expected a number from 0 to 1000, got '1001'"},
      {"[ratings]\nbootstrap_rounds = -1\n",
       "2: bootstrap_rounds: expected 0 to 100000, got '-1'"},
      {"[ratings]\nmin_battles = x\n",
       "2: min_battles: expected a whole number >= 0, got 'x'"},
      {"[ratings]\nbogus = 1\n", "2: unknown key 'bogus' in [ratings]"},
      {"[limits]\nmax_turns = 0\n",
       "2: max_turns: expected a whole number in range, got '0'"},
      {"[limits]\nmax_cached_battle_bytes = -1\n",
       "2: max_cached_battle_bytes: expected a whole number in range, got "
       "'-1'"},
      {"[limits]\nmax_cached_battle_bytes = 1099511627777\n",
       "2: max_cached_battle_bytes: expected a whole number in range, got "
       "'1099511627777'"},
      {"[limits]\nmin_vote_seconds = 3601\n",
       "2: min_vote_seconds: expected seconds from 0 to 3600, got '3601'"},
      {"[limits]\nbogus = 1\n", "2: unknown key 'bogus' in [limits]"},
      {"[model m]\nbase_url = ftp://x\n",
       "2: base_url: expected an http:// or https:// URL, got 'ftp://x'"},
      {"[model m]\nbase_url = http://x\nmodel =\n",
       "3: model: empty upstream model id"},
      {"[model m]\nbase_url = http://x\napi_key_env =\n",
       "3: api_key_env: empty variable name"},
      {"[model m]\nbase_url = http://x\napi_key_env = AGON_TEST_UNSET\n",
       "3: api_key_env: environment variable 'AGON_TEST_UNSET' is not set"},
      {"[model m]\nbase_url = http://x\ntemperature = 2.5\n",
       "3: temperature: expected a number from 0 to 2, got '2.5'"},
      {"[model m]\nbase_url = http://x\nmax_tokens = 0\n",
       "3: max_tokens: expected a positive whole number, got '0'"},
      {"[model m]\nbase_url = http://x\ntimeout = 86401\n",
       "3: timeout: expected seconds from 1 to 86400, got '86401'"},
      {"[model m]\nbase_url = http://x\nbenchmarks = arc:1 mmlu\n",
       "3: benchmarks: expected NAME:NUMBER items, got 'mmlu'"},
      {"[model m]\nbase_url = http://x\nenabled = 2\n",
       "3: enabled: expected true or false, got '2'"},
      {"[model m]\nbase_url = http://x\nbogus = 1\n",
       "3: unknown key 'bogus' in [model m]"},
      {"[model  m]\nbase_url = http://x\nbogus = 1\n",
       "3: unknown key 'bogus' in [model  m]"},
      {"[model m]\nbase_url = http://x\n\n[model m]\nenabled = no\n",
       "4: model 'm' is defined twice"},
      {"[model m]\nenabled = no\n", "1: model 'm' has no base_url"},
      {"[model m]\n", "1: model 'm' has no base_url"},
      {"[judge j]\nbase_url = http://x\nmode = both\n",
       "3: mode: expected pairwise or single, got 'both'"},
      {"[judge j]\nbase_url = http://x\nswap = 2\n",
       "3: swap: expected true or false, got '2'"},
      {"[judge j]\nbase_url = http://x\nauto = 2\n",
       "3: auto: expected true or false, got '2'"},
      {"[judge j]\nbase_url = http://x\nconcurrency = 1001\n",
       "3: concurrency: expected 1 to 1000, got '1001'"},
      {"[judge j]\nbase_url = http://x\nfew_shot = 51\n",
       "3: few_shot: expected 0 to 50, got '51'"},
      {"[judge j]\nbase_url = http://x\nenabled = no\n",
       "3: unknown key 'enabled' in [judge j]"},
      {"[judge j]\nbase_url = http://x\n[judge j]\nswap = no\n",
       "3: judge 'j' is defined twice"},
      {"[judge j]\nswap = no\n", "1: judge 'j' has no base_url"},
      {"[judge j]\n", "1: judge 'j' has no base_url"},
      {"[tagger t]\nretries = 1\n", "1: tagger 't' has no base_url"},
      {"[tagger t]\nbase_url = http://x\ncategories = math, legal\n",
       "1: tagger 't': unknown category 'legal' (built in: hard_prompt, "
       "math, creative_writing, instruction_following; or a [category "
       "NAME])"},
      {"[tagger t]\nbase_url = http://x\nretries = 11\n",
       "3: retries: expected 0 to 10, got '11'"},
      {"[category legal]\n", "1: category 'legal' has no question"},
      {"[category legal]\nquestion =\n", "2: question: empty question"},
      {"[category Legal]\nquestion = Is it?\n",
       "1: the category name 'Legal' must be 1 to 32 of a-z, 0-9 and '_'"},
      {"[category coding]\nquestion = Is it?\n",
       "1: category 'coding' is built in: only new categories are defined "
       "here"},
      {"[category math]\nquestion = Is it?\n",
       "1: category 'math' is built in: only new categories are defined "
       "here"},
      {"[category legal]\nquestion = a\n[category legal]\nquestion = b\n",
       "3: category 'legal' is defined twice"},
      {"[bogus]\n\nx = 1\n", "1: unknown section [bogus]"},
      {"[server]\n[bogus]\n", "2: unknown section [bogus]"},
      {"\nx = 1\n", "2: key 'x' outside of any section"},
      {"[server]\nlisten\n", "2: syntax error"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
    expect_exact(cases[i].text, cases[i].want);

  /* the file itself, and prompt_file's */
  struct config cfg;
  char err[1024], want[1024], text[1024], prompt[300];
  FILE *f = fopen(path, "w");
  fwrite("[server]\n; c\n\0\n", 1, 15, f);
  fclose(f);
  config_init(&cfg);
  CHECK(config_load(&cfg, path, err, sizeof err) == -1);
  snprintf(want, sizeof want, "%s:3: line holds a NUL byte", path);
  CHECK_STR(err, want);
  config_release(&cfg);
  config_init(&cfg);
  CHECK(config_load(&cfg, "/nonexistent/agon.ini", err, sizeof err) == -1);
  CHECK_STR(err, "/nonexistent/agon.ini: cannot open: No such file or "
                 "directory");
  config_release(&cfg);
  config_init(&cfg);
  CHECK(config_load(&cfg, "/tmp", err, sizeof err) == -1);
  CHECK_STR(err, "/tmp:1: cannot read: Is a directory");
  config_release(&cfg);
  snprintf(text, sizeof text,
           "[judge j]\nbase_url = http://x\nprompt_file = /nonexistent/p\n");
  snprintf(want, sizeof want,
           "3: prompt_file: cannot open '/nonexistent/p': No such file or "
           "directory");
  expect_exact(text, want);
  snprintf(prompt, sizeof prompt, "%s.prompt", path);
  static const struct {
    size_t size;
    char fill;
    const char *what;
  } prompts[] = {{0, 'x', "empty"},
                 {65537, 'x', "larger than 64 KiB"},
                 {3, '\xff', "not valid UTF-8"}};
  for (size_t i = 0; i < sizeof prompts / sizeof prompts[0]; i++) {
    f = fopen(prompt, "w");
    for (size_t n = 0; n < prompts[i].size; n++)
      fputc(prompts[i].fill, f);
    fclose(f);
    snprintf(text, sizeof text,
             "[judge j]\nbase_url = http://x\nprompt_file = %s\n", prompt);
    snprintf(want, sizeof want, "3: prompt_file: '%s' is %s", prompt,
             prompts[i].what);
    expect_exact(text, want);
  }
  unlink(prompt);
}

/* The keys' tables (config/keys.h), key by key: each is taken with good
 * values and stores them, refused out of its range with its message at its
 * line, and unknown in every other section. A key added to a table is
 * tested here as it is; a special one needs a line in specials below. */

/* A file with one key of section s at line 2 (and the base_url a named
 * section needs after it). Named sections' objects are named "o". */
static void key_file(char *text, size_t n, const struct config_section *s,
                     const char *key, const char *value) {
  /* what a named section needs besides: a connection, or a question */
  const char *needs = !s->find ? ""
                      : !strcmp(s->name, "category")
                          ? (strcmp(key, "question") ? "question = q\n" : "")
                      : !strcmp(s->name, "tagger")
                          /* the [category] sections its lists may name */
                          ? "base_url = http://h/v1\n[category alpha]\n"
                            "question = q\n[category d]\nquestion = q\n"
                          : "base_url = http://h/v1\n";
  snprintf(text, n, "[%s%s]\n%s = %s\n%s", s->name, s->find ? " o" : "", key,
           value, needs);
}

/* Load section s with key = value into cfg; the field of k (in table t)
 * then, or NULL when refused (cfg is released then). */
static void *key_accepts(struct config *cfg, const struct config_section *s,
                         const struct config_table *t,
                         const struct config_key *k, const char *value) {
  char text[4096], err[1024] = "";
  key_file(text, sizeof text, s, k->name, value);
  if (load(text, cfg, err, sizeof err)) {
    fprintf(stderr, "  [%s] %s = %s: refused: %s\n", s->name, k->name, value,
            err);
    config_release(cfg);
    return NULL;
  }
  char *obj = s->find ? (char *)s->find(cfg, "o") : (char *)cfg;
  if (!obj) {
    config_release(cfg);
    return NULL;
  }
  return obj + t->base + k->offset;
}

/* section s with key = value must fail at line 2 with "KEY: " and then
 * what, or when what is NULL anything. */
static void key_refuses(const struct config_section *s,
                        const struct config_key *k, const char *value,
                        const char *what) {
  char text[4096], err[1024] = "", want[1024];
  struct config cfg;
  key_file(text, sizeof text, s, k->name, value);
  int rc = load(text, &cfg, err, sizeof err);
  CHECK(rc == -1);
  snprintf(want, sizeof want, "%s:2: %s: %s", path, k->name, what ? what : "");
  int ok = what ? !strcmp(err, want) : !strncmp(err, want, strlen(want));
  CHECK(ok);
  if (rc != -1 || !ok)
    fprintf(stderr, "  [%s] %s = %s\n  got:  %s\n  want: %s%s\n", s->name,
            k->name, value, err, want, what ? "" : "...");
  config_release(&cfg);
}

/* A key's message for value: "EXPECTED, got 'VALUE'". */
static const char *got(const struct config_key *k, const char *value) {
  static char msg[1024];
  snprintf(msg, sizeof msg, "%s, got '%s'", k->error, value);
  return msg;
}

static void long_key(const struct config_section *s,
                     const struct config_table *t, const struct config_key *k) {
  long lo = (long)k->min, hi = (long)k->max;
  CHECK(lo == k->min && hi == k->max && lo <= hi);
  const long good[] = {lo, hi, lo + (hi - lo) / 2};
  for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
    char v[32];
    snprintf(v, sizeof v, "%ld", good[i]);
    struct config cfg;
    long *field = key_accepts(&cfg, s, t, k, v);
    CHECK(field != NULL);
    if (field) {
      CHECK(*field == good[i]);
      config_release(&cfg);
    }
  }
  const char *bad[] = {"", "x", "1.5", "1e3", "9223372036854775808"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    key_refuses(s, k, bad[i], got(k, bad[i]));
  char v[32];
  snprintf(v, sizeof v, "%ld", lo - 1);
  key_refuses(s, k, v, got(k, v));
  snprintf(v, sizeof v, "%ld", hi + 1);
  key_refuses(s, k, v, got(k, v));
}

static void double_key(const struct config_section *s,
                       const struct config_table *t,
                       const struct config_key *k) {
  CHECK(k->min <= k->max);
  const double good[] = {k->min, k->max, (k->min + k->max) / 3};
  for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
    char v[64];
    snprintf(v, sizeof v, "%.17g", good[i]);
    struct config cfg;
    double *field = key_accepts(&cfg, s, t, k, v);
    CHECK(field != NULL);
    if (field) {
      CHECK(*field == good[i]);
      config_release(&cfg);
    }
  }
  const char *bad[] = {"", "x", "nan", "inf", "-inf", "1,5"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    key_refuses(s, k, bad[i], got(k, bad[i]));
  double step = (k->max - k->min) * 1e-6;
  char v[64];
  snprintf(v, sizeof v, "%.17g", k->min - step);
  key_refuses(s, k, v, got(k, v));
  snprintf(v, sizeof v, "%.17g", k->max + step);
  key_refuses(s, k, v, got(k, v));
}

static void bool_key(const struct config_section *s,
                     const struct config_table *t, const struct config_key *k) {
  static const struct {
    const char *v;
    int want;
  } good[] = {{"true", 1}, {"YES", 1}, {"On", 1},  {"1", 1},
              {"false", 0}, {"no", 0}, {"OFF", 0}, {"0", 0}};
  for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
    struct config cfg;
    int *field = key_accepts(&cfg, s, t, k, good[i].v);
    CHECK(field != NULL);
    if (field) {
      CHECK(*field == good[i].want);
      config_release(&cfg);
    }
  }
  const char *bad[] = {"", "2", "maybe", "truee", "y"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    key_refuses(s, k, bad[i], got(k, bad[i]));
}

static void string_key(const struct config_section *s,
                       const struct config_table *t,
                       const struct config_key *k) {
  struct config cfg;
  char **field = key_accepts(&cfg, s, t, k, "Some/Thing 1");
  CHECK(field != NULL);
  if (field) {
    CHECK_STR(*field, "Some/Thing 1");
    config_release(&cfg);
  }
  key_refuses(s, k, "", k->error);
}

static void list_key(const struct config_section *s,
                     const struct config_table *t, const struct config_key *k) {
  struct config cfg;
  /* a tagger's categories must exist: a built-in one in the middle */
  int tagger = !strcmp(s->name, "tagger");
  const char *second = tagger ? "math" : "b c";
  char ***field = key_accepts(&cfg, s, t, k,
                              tagger ? "Alpha, Math ,,\tD\t"
                                     : "Alpha, b c ,,\tD\t");
  CHECK(field != NULL);
  if (field) {
    size_t n = *(size_t *)((char *)field - k->offset + k->count);
    CHECK(n == 3);
    if (n == 3) {
      CHECK_STR((*field)[0], "alpha");
      CHECK_STR((*field)[1], second);
      CHECK_STR((*field)[2], "d");
    }
    config_release(&cfg);
  }
  field = key_accepts(&cfg, s, t, k, ", ,");
  CHECK(field != NULL);
  if (field) {
    CHECK(*(size_t *)((char *)field - k->offset + k->count) == 0);
    config_release(&cfg);
  }
}

/* A good and a bad value of every special key (prompt: a prompt file). */
static void special_key(const struct config_section *s,
                        const struct config_table *t,
                        const struct config_key *k, const char *prompt) {
  static const struct {
    const char *key, *good, *bad;
  } specials[] = {
      {"listen", "[::1]:0", "::1:8080"},
      {"admin_token_env", "AGON_TEST_ADMIN", "AGON_TEST_KEY"},
      {"base_url", "https://h:1/v1/", "ftp://h"},
      {"api_key_env", "AGON_TEST_KEY", "AGON_TEST_UNSET"},
      {"benchmarks", "arc:71.1, mmlu:66", "arc"},
      {"mode", "single", "Single"},
      {"prompt_file", NULL, "/nonexistent/prompt"},
      {"database", "sqlite:/tmp/x.db", "sqlite:"},
      {"stop", "[\"\\n\\nUser:\", \"###\"]", "[]"},
      {"system_prompt", "You are a helpful assistant.", "\xff\xfe"},
      {"system_prompt_file", NULL, "/nonexistent/prompt"},
      {"pairing", "active", "Weighted"},
      {"organization", "Mistral AI", ""},
      {"license", "Apache-2.0", "a\x01b"},
      {"url", "https://example.org/model?x=1", "javascript:alert(1)"},
      {"price", "$0.25 in / $1.25 out per 1M tokens", ""},
      {"node", "web-1", "Web1"},
      {"internal_url", "http://10.0.0.7:8080/", "http://10.0.0.7:8080/api"},
  };
  size_t i = 0;
  while (i < sizeof specials / sizeof specials[0] &&
         strcmp(specials[i].key, k->name))
    i++;
  CHECK(i < sizeof specials / sizeof specials[0]);
  if (i == sizeof specials / sizeof specials[0]) {
    fprintf(stderr, "  [%s] %s: no values to test it with\n", s->name,
            k->name);
    return;
  }
  const char *good = specials[i].good ? specials[i].good : prompt;
  struct config cfg;
  void *field = key_accepts(&cfg, s, t, k, good);
  CHECK(field != NULL);
  if (field)
    config_release(&cfg);
  key_refuses(s, k, specials[i].bad,
              k->error ? got(k, specials[i].bad) : NULL);
}

static void table_keys(void) {
  char prompt[300];
  snprintf(prompt, sizeof prompt, "%s.prompt", path);
  FILE *f = fopen(prompt, "w");
  fputs("Judge well.\n", f);
  fclose(f);
  size_t n_keys = 0;
  for (const struct config_section *s = config_sections; s->name; s++) {
    for (size_t ti = 0; ti < sizeof s->tables / sizeof s->tables[0]; ti++) {
      const struct config_table *t = &s->tables[ti];
      for (const struct config_key *k = t->keys; k && k->name; k++) {
        n_keys++;
        CHECK(k->error || k->kind == CONFIG_LIST || k->kind == CONFIG_SPECIAL);
        switch (k->kind) {
        case CONFIG_LONG:
          long_key(s, t, k);
          break;
        case CONFIG_DOUBLE:
          double_key(s, t, k);
          break;
        case CONFIG_BOOL:
          bool_key(s, t, k);
          break;
        case CONFIG_STRING:
          string_key(s, t, k);
          break;
        case CONFIG_LIST:
          list_key(s, t, k);
          break;
        case CONFIG_SPECIAL:
          special_key(s, t, k, prompt);
          break;
        }
        /* one section has it once; every other one knows it not */
        for (const struct config_section *o = config_sections; o->name; o++) {
          size_t have = 0;
          for (size_t oi = 0; oi < sizeof o->tables / sizeof o->tables[0];
               oi++)
            for (const struct config_key *ok = o->tables[oi].keys;
                 ok && ok->name; ok++)
              have += !strcmp(ok->name, k->name);
          CHECK(o == s ? have == 1 : have <= 1);
          if (have)
            continue;
          char text[4096], want[512];
          key_file(text, sizeof text, o, k->name, "1");
          snprintf(want, sizeof want, "2: unknown key '%s' in [%s%s]",
                   k->name, o->name, o->find ? " o" : "");
          expect_exact(text, want);
        }
      }
    }
  }
  /* every key of every section, the connection keys once per section that
   * has them (model, judge, tagger): a key added
   * or dropped changes the count (and so this line) on purpose */
  CHECK(n_keys == 88);
  unlink(prompt);
}

/* The ranges, written out here apart from the tables: a table's range
 * that changes, or a number key without one here, fails. */
static void ranges(void) {
  static const struct {
    const char *section, *key;
    double min, max;
  } want[] = {
      {"ratings", "k", 0, 1000},
      {"ratings", "bootstrap_rounds", 0, 100000},
      {"ratings", "min_battles", 0, 1000000000},
      {"ratings", "dedup_min_count", 0, 1000000000},
      {"limits", "max_prompt_chars", 1, 10000000},
      {"limits", "max_answer_bytes", 1024, 1L << 30},
      {"limits", "max_turns", 1, 1000},
      {"limits", "max_regenerations", 0, 100},
      {"limits", "max_side_retries", 0, 100},
      {"limits", "max_body_bytes", 1024, 1L << 30},
      {"limits", "battles_per_minute", 0, 1000000},
      {"limits", "votes_per_minute", 0, 1000000},
      {"limits", "admin_failures_per_minute", 1, 1000000},
      {"limits", "max_concurrent_battles", 0, 10000000},
      {"limits", "idle_timeout", 1, 86400},
      {"limits", "max_connections", 0, 1000000},
      {"limits", "max_connections_per_client", 0, 1000000},
      {"limits", "max_streams_per_client", 0, 1000000},
      {"limits", "max_streams_per_battle", 0, 1000000},
      {"limits", "max_buffered_bytes", 0, 1L << 40},
      {"limits", "max_cached_battle_bytes", 0, 1L << 40},
      {"limits", "request_timeout", 0, 3600},
      {"limits", "min_vote_seconds", 0, 3600},
      {"limits", "max_vote_comment_chars", 0, 100000},
      {"limits", "max_shares", 0, 100000000},
      {"limits", "own_board_sessions", 1, 10000000},
      {"limits", "own_board_votes", 1, 1000000},
      {"cluster", "lease_seconds", 2, 3600},
      {"cluster", "heartbeat_seconds", 1, 1800},
      {"model", "temperature", 0, 2},
      {"model", "max_tokens", 1, 10000000},
      {"model", "timeout", 1, 86400},
      {"model", "top_p", 1e-9, 1},
      {"model", "weight", 0.001, 1000},
      {"model", "boost", 1, 1000},
      {"model", "boost_until", 0, 1000000000},
      {"model", "context", 1, 1000000000},
      {"judge", "temperature", 0, 2},
      {"judge", "max_tokens", 1, 10000000},
      {"judge", "timeout", 1, 86400},
      {"judge", "top_p", 1e-9, 1},
      {"judge", "concurrency", 1, 1000},
      {"judge", "few_shot", 0, 50},
      {"tagger", "temperature", 0, 2},
      {"tagger", "max_tokens", 1, 10000000},
      {"tagger", "timeout", 1, 86400},
      {"tagger", "top_p", 1e-9, 1},
      {"tagger", "concurrency", 1, 1000},
      {"tagger", "retries", 0, 10},
  };
  size_t n = sizeof want / sizeof want[0], seen = 0;
  for (const struct config_section *s = config_sections; s->name; s++)
    for (size_t ti = 0; ti < sizeof s->tables / sizeof s->tables[0]; ti++)
      for (const struct config_key *k = s->tables[ti].keys; k && k->name;
           k++) {
        if (k->kind != CONFIG_LONG && k->kind != CONFIG_DOUBLE)
          continue;
        size_t i = 0;
        while (i < n && (strcmp(want[i].section, s->name) ||
                         strcmp(want[i].key, k->name)))
          i++;
        CHECK(i < n && want[i].min == k->min && want[i].max == k->max);
        if (i == n || want[i].min != k->min || want[i].max != k->max)
          fprintf(stderr, "  [%s] %s: range %g to %g\n", s->name, k->name,
                  k->min, k->max);
        seen += i < n;
      }
  CHECK(seen == n);
}

/* Every key read into its field, found by name, each with a value of its
 * own: a table entry that points at another field shows here. */
static void every_field(void) {
  char prompt[300], text[4096], err[512] = "";
  snprintf(prompt, sizeof prompt, "%s.prompt", path);
  FILE *f = fopen(prompt, "w");
  fputs("Be fair.", f);
  fclose(f);
  snprintf(text, sizeof text,
           "[server]\nlisten = 10.0.0.1:81\ntrusted_proxies = 10.0.0.2\n"
           "allowed_origins = https://A.example\n"
           "admin_token_env = AGON_TEST_ADMIN\ndatabase = /tmp/f.db\n"
           "node = n_2\ninternal_url = https://n2.internal:9000/\n"
           "[cluster]\nlease_seconds = 23\nheartbeat_seconds = 24\n"
           "[ratings]\nk = 5\nbootstrap_rounds = 6\nmin_battles = 7\n"
           "identity_words = Word\n"
           "[limits]\nmax_prompt_chars = 101\nmax_answer_bytes = 1025\n"
           "max_turns = 3\nmax_body_bytes = 1026\nbattles_per_minute = 4\n"
           "votes_per_minute = 5\nadmin_failures_per_minute = 6\n"
           "max_concurrent_battles = 7\nidle_timeout = 8\n"
           "max_connections = 9\nmax_connections_per_client = 10\n"
           "max_streams_per_client = 11\nmax_streams_per_battle = 12\n"
           "max_buffered_bytes = 13\nrequest_timeout = 14\n"
           "min_vote_seconds = 1.5\nmax_cached_battle_bytes = 21\n"
           "[model m]\nbase_url = http://m/v1/\nmodel = up-m\n"
           "api_key_env = AGON_TEST_KEY\ntemperature = 0.25\n"
           "max_tokens = 15\ntimeout = 16\nbenchmarks = arc:1.5\n"
           "aliases = Al\nenabled = off\nweight = 0.5\nboost = 3\n"
           "boost_until = 22\n[arena]\npairing = active\n"
           "[judge j]\nbase_url = http://j/v1\nmodel = up-j\n"
           "api_key_env = AGON_TEST_ADMIN\ntemperature = 0.5\n"
           "max_tokens = 17\ntimeout = 18\nmode = single\nswap = no\n"
           "auto = yes\nconcurrency = 19\nfew_shot = 20\nprompt_file = %s\n",
           prompt);
  struct config cfg;
  int rc = load(text, &cfg, err, sizeof err);
  CHECK(rc == 0);
  if (rc)
    fprintf(stderr, "  %s\n", err);
  CHECK_STR(cfg.listen, "10.0.0.1:81");
  CHECK(cfg.n_trusted_proxies == 1 && cfg.n_allowed_origins == 1);
  if (cfg.n_trusted_proxies == 1 && cfg.n_allowed_origins == 1) {
    CHECK_STR(cfg.trusted_proxies[0], "10.0.0.2");
    CHECK_STR(cfg.allowed_origins[0], "https://a.example");
  }
  CHECK_STR(cfg.admin_token_env, "AGON_TEST_ADMIN");
  CHECK_STR(cfg.admin_token, "admin-token-0123456789");
  CHECK_STR(cfg.database, "/tmp/f.db");
  CHECK_STR(cfg.node, "n_2");
  CHECK_STR(cfg.internal_url, "https://n2.internal:9000");
  CHECK(cfg.lease_seconds == 23 && cfg.heartbeat_seconds == 24);
  CHECK(cfg.elo_k == 5 && cfg.bootstrap_rounds == 6 && cfg.min_battles == 7);
  CHECK(cfg.n_identity_words == 1 && !strcmp(cfg.identity_words[0], "word"));
  CHECK(cfg.max_prompt_chars == 101 && cfg.max_answer_bytes == 1025 &&
        cfg.max_turns == 3 && cfg.max_body_bytes == 1026);
  CHECK(cfg.battles_per_minute == 4 && cfg.votes_per_minute == 5 &&
        cfg.admin_failures_per_minute == 6);
  CHECK(cfg.max_concurrent_battles == 7 && cfg.idle_timeout == 8 &&
        cfg.max_connections == 9 && cfg.max_connections_per_client == 10);
  CHECK(cfg.max_streams_per_client == 11 && cfg.max_streams_per_battle == 12 &&
        cfg.max_buffered_bytes == 13 && cfg.request_timeout == 14);
  CHECK(cfg.min_vote_seconds == 1.5 && cfg.max_cached_battle_bytes == 21);
  const struct model_config *m = config_find_model(&cfg, "m");
  CHECK(m != NULL);
  if (m) {
    CHECK_STR(m->base_url, "http://m/v1");
    CHECK_STR(m->upstream, "up-m");
    CHECK_STR(m->api_key_env, "AGON_TEST_KEY");
    CHECK_STR(m->api_key, "sk-test-123");
    CHECK(m->temperature == 0.25 && m->max_tokens == 15 && m->timeout_s == 16);
    CHECK(m->n_benchmarks == 1 && !strcmp(m->benchmarks[0].name, "arc") &&
          m->benchmarks[0].score == 1.5);
    CHECK(m->n_aliases == 1 && !strcmp(m->aliases[0], "al"));
    CHECK(!m->enabled);
    CHECK(m->weight == 0.5 && m->boost == 3 && m->boost_until == 22);
  }
  CHECK(cfg.pairing == CONFIG_PAIRING_ACTIVE);
  const struct judge_config *j = config_find_judge(&cfg, "j");
  CHECK(j != NULL);
  if (j) {
    CHECK_STR(j->conn.base_url, "http://j/v1");
    CHECK_STR(j->conn.upstream, "up-j");
    CHECK_STR(j->conn.api_key_env, "AGON_TEST_ADMIN");
    CHECK_STR(j->conn.api_key, "admin-token-0123456789");
    CHECK(j->conn.temperature == 0.5 && j->conn.max_tokens == 17 &&
          j->conn.timeout_s == 18);
    CHECK(j->mode == JUDGE_SINGLE && !j->swap && j->auto_judge);
    CHECK(j->concurrency == 19 && j->few_shot == 20);
    CHECK_STR(j->instructions, "Be fair.");
  }
  config_release(&cfg);
  unlink(prompt);
}

/* Every default: of struct config, of a [model] and of a [judge]. */
static void defaults(void) {
  struct config cfg;
  char err[512] = "";
  int rc = load("[model m]\nbase_url = http://h\n"
                "[judge j]\nbase_url = http://h\n",
                &cfg, err, sizeof err);
  CHECK(rc == 0);
  CHECK_STR(cfg.listen, "127.0.0.1:8080");
  CHECK_STR(cfg.database, "agon.db");
  CHECK(cfg.elo_k == 4 && cfg.bootstrap_rounds == 1000 && cfg.min_battles == 0);
  CHECK(cfg.n_identity_words == 27);
  CHECK(cfg.max_prompt_chars == 30000 && cfg.max_answer_bytes == 1048576 &&
        cfg.max_turns == 20 && cfg.max_body_bytes == 262144);
  CHECK(cfg.battles_per_minute == 20 && cfg.votes_per_minute == 60 &&
        cfg.admin_failures_per_minute == 10);
  CHECK(cfg.max_concurrent_battles == -1 && cfg.max_connections == -1 &&
        cfg.max_connections_per_client == 64);
  CHECK(cfg.max_streams_per_client == 16 && cfg.max_streams_per_battle == 4 &&
        cfg.max_buffered_bytes == 64L * 1024 * 1024);
  CHECK(cfg.request_timeout == 10 && cfg.idle_timeout == 60 &&
        cfg.min_vote_seconds == 1 &&
        cfg.max_cached_battle_bytes == 256L * 1024 * 1024);
  CHECK(!cfg.n_trusted_proxies && !cfg.n_allowed_origins &&
        !cfg.admin_token_env && !cfg.admin_token);
  CHECK(!cfg.node && !cfg.internal_url && cfg.lease_seconds == 10 &&
        cfg.heartbeat_seconds == 2);
  const struct model_config *m = config_find_model(&cfg, "m");
  CHECK(m && !strcmp(m->upstream, "m") && !m->api_key_env && !m->api_key);
  CHECK(m && m->temperature == -1 && m->max_tokens == 0 &&
        m->timeout_s == 120 && m->enabled && m->line == 1);
  CHECK(m && !m->n_aliases && !m->n_benchmarks);
  CHECK(m && m->weight == 1 && m->boost == 1 && m->boost_until == 1000);
  CHECK(cfg.pairing == CONFIG_PAIRING_WEIGHTED);
  const struct judge_config *j = config_find_judge(&cfg, "j");
  CHECK(j && !strcmp(j->conn.upstream, "j") && !j->conn.api_key);
  CHECK(j && j->conn.temperature == 0 && j->conn.max_tokens == 0 &&
        j->conn.timeout_s == 120 && j->conn.enabled);
  CHECK(j && j->mode == JUDGE_PAIRWISE && j->swap && !j->auto_judge &&
        j->concurrency == 4 && j->few_shot == 0 && !j->instructions);
  CHECK(j && j->line == 3 && j->conn.line == 3);
  config_release(&cfg);
}

/* Which engine a database value names, and what that engine opens. */
/* What a message may say of a database value: never its password. */
static void db_display(void) {
  static const struct {
    const char *value, *shown;
  } cases[] = {
      {"agon.db", "agon.db"},
      {"sqlite:/var/lib/agon/agon.db", "/var/lib/agon/agon.db"},
      {"postgresql:///agon?host=/run/postgresql",
       "postgresql:///agon?host=/run/postgresql"},
      {"postgresql://agon:s3cret@db1,db2/agon?target_session_attrs=read-write",
       "postgresql://agon:[redacted]@db1,db2/agon?target_session_attrs="
       "read-write"},
      {"postgres://agon@db/agon", "postgres://agon@db/agon"},
      {"postgresql://db/agon?user=agon&password=s3cret&sslmode=require",
       "postgresql://db/agon?user=agon&password=[redacted]&sslmode=require"},
      {"postgresql://u:p%40ss@h/x?PASSWORD=two",
       "postgresql://u:[redacted]@h/x?PASSWORD=[redacted]"},
      {"host=db dbname=agon password=s3cret user=agon",
       "host=db dbname=agon password=[redacted] user=agon"},
      {"host=db password = 's3 c\\'ret' dbname=agon",
       "host=db password = [redacted] dbname=agon"},
      {"dbname=agon password=", "dbname=agon password=[redacted]"},
      {"  host=db  ", "  host=db  "},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char out[256];
    config_db_display(cases[i].value, out, sizeof out);
    CHECK_STR(out, cases[i].shown);
  }
  /* cut to fit, still without the password */
  char small[24];
  config_db_display("postgresql://agon:s3cret@db/agon", small, sizeof small);
  CHECK(strlen(small) == sizeof small - 1 && !strstr(small, "s3cret"));
}

static void db_engines(void) {
  static const struct {
    const char *value;
    enum config_db_engine e;
    const char *where;
  } cases[] = {
      {"agon.db", CONFIG_DB_SQLITE, "agon.db"},
      {"/var/lib/agon/agon.db", CONFIG_DB_SQLITE, "/var/lib/agon/agon.db"},
      {"sqlite:/tmp/a.db", CONFIG_DB_SQLITE, "/tmp/a.db"},
      {"SQLite:a.db", CONFIG_DB_SQLITE, "a.db"},
      {"./host=x.db", CONFIG_DB_SQLITE, "./host=x.db"},
      {"hostname=x", CONFIG_DB_SQLITE, "hostname=x"}, /* no such keyword */
      {"file.db", CONFIG_DB_SQLITE, "file.db"},
      {"postgresql://agon@db:5432/agon", CONFIG_DB_POSTGRES,
       "postgresql://agon@db:5432/agon"},
      {"postgres://db/agon", CONFIG_DB_POSTGRES, "postgres://db/agon"},
      {"PostgreSQL://db", CONFIG_DB_POSTGRES, "PostgreSQL://db"},
      {"host=db dbname=agon", CONFIG_DB_POSTGRES, "host=db dbname=agon"},
      {"dbname = agon", CONFIG_DB_POSTGRES, "dbname = agon"},
      {" service=agon", CONFIG_DB_POSTGRES, " service=agon"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    const char *where = NULL;
    enum config_db_engine e = config_db_engine(cases[i].value, &where);
    CHECK(e == cases[i].e);
    CHECK(where && !strcmp(where, cases[i].where));
    if (e != cases[i].e || !where || strcmp(where, cases[i].where))
      fprintf(stderr, "  database = '%s': engine %d, '%s'\n", cases[i].value,
              (int)e, where ? where : "(null)");
  }
  CHECK(config_db_engine("x", NULL) == CONFIG_DB_SQLITE);
  CHECK(config_db_engine_built(CONFIG_DB_SQLITE));
#ifdef AGON_HAVE_POSTGRES
  CHECK(config_db_engine_built(CONFIG_DB_POSTGRES));
#else
  CHECK(!config_db_engine_built(CONFIG_DB_POSTGRES));
#endif
  CHECK_STR(config_db_engine_name(CONFIG_DB_POSTGRES), "PostgreSQL");
}

/* Filler for long lines and names. */
static char many[3 * AGON_CONFIG_MAX_LINE];

int main(void) {
  memset(many, 'm', sizeof many - 1);
  snprintf(path, sizeof path, "/tmp/agon-test-config-%d.ini", (int)getpid());
  setenv("AGON_TEST_KEY", "sk-test-123", 1);
  unsetenv("AGON_TEST_UNSET");
  setenv("AGON_TEST_ADMIN", "admin-token-0123456789", 1);

  struct config cfg;
  char err[512] = "";
  int rc = load("[server]\n"
                "listen = 127.0.0.1:9000\n"
                "database = /tmp/x.db\n"
                "\n"
                "[ratings]\nk = 8\n"
                "[limits]\nmax_prompt_chars = 100\n"
                "[model gpt-4o-mini]            ; a comment\n"
                "base_url = https://api.openai.com/v1/\n"
                "model = gpt-4o-mini-2024   ; inline comment\n"
                "api_key_env = AGON_TEST_KEY\n"
                "temperature = 0.7\n"
                "max_tokens = 1024\n"
                "timeout = 120\n"
                "enabled = true\n"
                "# another comment\n"
                "[model local]\n"
                "base_url = http://127.0.0.1:8000/v1\n"
                "enabled = no\n",
                &cfg, err, sizeof err);
  CHECK(rc == 0);
  if (rc)
    fprintf(stderr, "  %s\n", err);
  CHECK_STR(cfg.listen, "127.0.0.1:9000");
  CHECK_STR(cfg.database, "/tmp/x.db");
  CHECK(cfg.elo_k == 8);
  CHECK(cfg.max_prompt_chars == 100);
  CHECK(cfg.admin_failures_per_minute == 10);
  CHECK(cfg.n_models == 2);
  const struct model_config *m = config_find_model(&cfg, "gpt-4o-mini");
  CHECK(m != NULL);
  if (m) {
    CHECK_STR(m->base_url, "https://api.openai.com/v1");
    CHECK_STR(m->upstream, "gpt-4o-mini-2024");
    CHECK_STR(m->api_key, "sk-test-123");
    CHECK(m->temperature == 0.7 && m->max_tokens == 1024 && m->timeout_s == 120);
    CHECK(m->enabled);
  }
  const struct model_config *l = config_find_model(&cfg, "local");
  CHECK(l && !l->enabled && !strcmp(l->upstream, "local") && !l->api_key);
  CHECK(config_enabled_models(&cfg) == 1);
  config_release(&cfg);

  expect_error("[server]\nlisten = 1.2.3.4:80\nbogus = 1\n", 3,
               "unknown key 'bogus' in [server]");
  expect_error("[model m]\nbase_url = http://x\ntemperature = hot\n", 3,
               "temperature: expected a number");
  expect_error("[model m]\nbase_url = http://x\ntimeout = 0\n", 3, "timeout");
  expect_error("[model m]\nbase_url = http://x\nmax_tokens = -5\n", 3,
               "max_tokens");
  expect_error("[model m]\nbase_url = http://x\nenabled = maybe\n", 3,
               "enabled: expected true or false");
  expect_error("\n\n[model m]\nmodel = foo\n", 3, "model 'm' has no base_url");
  expect_error("[model m]\nbase_url = ftp://x\n", 2, "base_url");
  expect_error("[model m]\nbase_url = http://x\napi_key_env = AGON_TEST_UNSET\n",
               3, "'AGON_TEST_UNSET' is not set");
  expect_error("[model m]\nbase_url = http://x\n[model m]\nbase_url = http://y\n",
               3, "defined twice");
  expect_error("[nonsense]\nx = 1\n", 1, "unknown section [nonsense]");
  expect_error("x = 1\n", 1, "outside of any section");
  expect_error("[server]\nlisten = 1.2.3.4:80\n\n[model ghost]\n", 4,
               "model 'ghost' has no base_url");
  expect_error("[server]\n[empty]\n", 2, "unknown section [empty]");
  expect_error("[server]\nthis line has no equals sign\n", 2, "syntax error");
  expect_error("[ratings]\nk = -1\n", 2, "k: expected");
  expect_error("[limits]\nmax_turns = lots\n", 2, "max_turns");
  expect_error("[limits]\nadmin_failures_per_minute = 0\n", 2,
               "admin_failures_per_minute");

  /* listen: the parser serve uses */
  expect_error("[server]\nlisten = abc:def\n", 2, "listen: expected HOST:PORT");
  expect_error("[server]\nlisten = 127.0.0.1:70000\n", 2, "listen:");
  expect_error("[server]\nlisten = 127.0.0.1\n", 2, "listen:");
  expect_error("[server]\nlisten = :8080\n", 2, "listen:");
  expect_error("[server]\nlisten = 127.0.0.1: 80\n", 2, "listen:");
  expect_error("[server]\nlisten = 127.0.0.1:+80\n", 2, "listen:");
  expect_error("[server]\nlisten = ::1:8080\n", 2, "listen:");
  expect_error("[server]\nlisten = [::1:8080\n", 2, "listen:");
  expect_ok("[server]\nlisten = [::1]:8080\n");
  expect_ok("[server]\nlisten = localhost:0\n");
  expect_ok("[server]\nlisten = 0.0.0.0:65535\n");
  /* base_url: read by libcurl's URL parser */
  expect_error("[model m]\nbase_url = http://\n", 2, "base_url: the URL has no host");
  expect_error("[model m]\nbase_url = https://:443/v1\n", 2, "no host");
  expect_error("[model m]\nbase_url = ftp://x\n", 2,
               "base_url: expected an http:// or https:// URL");
  expect_error("[model m]\nbase_url = api.openai.com/v1\n", 2, "http://");
  expect_error("[model m]\nbase_url = http://x:70000/v1\n", 2,
               "expected a port from 1 to 65535");
  expect_error("[model m]\nbase_url = http://x:0/v1\n", 2, "port");
  expect_error("[model m]\nbase_url = http://x:port/v1\n", 2, "port");
  expect_error("[model m]\nbase_url = http://a b/v1\n", 2, "not a valid URL");
  expect_error("[model m]\nbase_url = http://x/v1?key=1\n", 2, "query");
  expect_error("[model m]\nbase_url = http://x/v1#\n", 2, "fragment");
  expect_error("[model m]\nbase_url = http://me:pw@x/v1\n", 2, "password");
  expect_error("[judge j]\nbase_url = http://\n", 2, "no host");
  expect_ok("[model m]\nbase_url = https://api.openai.com/v1\n");
  expect_ok("[model m]\nbase_url = http://[::1]:8000/v1/\n");
  expect_ok("[model m]\nbase_url = HTTP://Localhost:65535\n");
  expect_ok("[judge j]\nbase_url = http://127.0.0.1:1/v1\n");
  {
    char text[2100 + 64];
    snprintf(text, sizeof text, "[model m]\nbase_url = http://x/%0*d\n",
             AGON_MAX_BASE_URL - 9, 0);
    expect_ok(text);
    snprintf(text, sizeof text, "[model m]\nbase_url = http://x/%0*d\n",
             AGON_MAX_BASE_URL - 8, 0);
    expect_error(text, 2, "base_url: longer than 2000 bytes");
  }


  /* Lines up to AGON_CONFIG_MAX_LINE bytes; longer ones at their line. */
  {
    static char text[3 * AGON_CONFIG_MAX_LINE];
    const char *key = "identity_words = ";
    size_t fill = AGON_CONFIG_MAX_LINE - strlen(key) - strlen(",last");
    snprintf(text, sizeof text, "[ratings]\n%s%.*s,last\nk = 5\n", key,
             (int)fill, many);
    CHECK(load(text, &cfg, err, sizeof err) == 0);
    CHECK(cfg.n_identity_words == 2 && cfg.elo_k == 5);
    if (cfg.n_identity_words == 2)
      CHECK_STR(cfg.identity_words[1], "last");
    config_release(&cfg);
    /* the same with CRLF line endings, and no ending on the last line */
    snprintf(text, sizeof text, "[ratings]\r\n%s%.*s,last\r\nk = 5", key,
             (int)fill, many);
    expect_ok(text);
    snprintf(text, sizeof text, "[ratings]\n%s%.*s,last\n", key,
             (int)fill + 1, many);
    expect_error(text, 2, "line is longer than 4096 bytes");
    snprintf(text, sizeof text, "[ratings]\n%s%.*s,last", key,
             (int)fill + 1, many);
    expect_error(text, 2, "line is longer than 4096 bytes");
    /* after other long lines, at its own line */
    snprintf(text, sizeof text,
             "[server]\n; %.*s\nlisten = 127.0.0.1:1\n[ratings]\n"
             "identity_words = %.*s\n[limits]\nmax_turns = x\n",
             AGON_CONFIG_MAX_LINE - 2, many, AGON_CONFIG_MAX_LINE, many);
    expect_error(text, 5, "line is longer than 4096 bytes");
    /* and the lines after a long one keep their numbers */
    snprintf(text, sizeof text, "[ratings]\nidentity_words = %.*s\n"
             "k = 1\nbogus = 1\n", 3000, many);
    expect_error(text, 4, "unknown key 'bogus'");
  }

  /* Model and judge names up to AGON_MAX_MODEL_NAME bytes (libinih cuts
   * section names to 49 bytes); longer ones at their line. */
  {
    char text[1024];
    snprintf(text, sizeof text,
             "[model %.60s]\nbase_url = http://a\n"
             "[model %.99s]\nbase_url = http://b\n"
             "[model %.100s]\nbase_url = http://c\n"
             "[model %.59sx]\nbase_url = http://d\n"
             "[judge %.100s]\nbase_url = http://e\n",
             many, many, many, many, many);
    rc = load(text, &cfg, err, sizeof err);
    CHECK(rc == 0);
    if (rc)
      fprintf(stderr, "  %s\n", err);
    char name[128];
    snprintf(name, sizeof name, "%.60s", many);
    m = config_find_model(&cfg, name);
    CHECK(m && !strcmp(m->base_url, "http://a") && !strcmp(m->upstream, name));
    snprintf(name, sizeof name, "%.99s", many);
    m = config_find_model(&cfg, name);
    CHECK(m && !strcmp(m->base_url, "http://b"));
    snprintf(name, sizeof name, "%.100s", many);
    m = config_find_model(&cfg, name);
    CHECK(m && !strcmp(m->base_url, "http://c"));
    snprintf(name, sizeof name, "%.59sx", many);
    m = config_find_model(&cfg, name);
    CHECK(m && !strcmp(m->base_url, "http://d"));
    const struct judge_config *j = config_find_judge(&cfg, name);
    CHECK(j == NULL && cfg.n_models == 4 && cfg.n_judges == 1);
    config_release(&cfg);

    snprintf(text, sizeof text, "[model %.60s]\nbase_url = http://a\n"
             "[model %.60s]\nbase_url = http://b\n", many, many);
    expect_error(text, 3, "defined twice");
    snprintf(text, sizeof text, "[model a]\nbase_url = http://a\n\n"
             "[model %.101s]\nbase_url = http://b\n", many);
    expect_error(text, 4, "the model name is longer than 100 bytes");
    snprintf(text, sizeof text, "[server]\n[model %.200s]\n[limits]\n", many);
    expect_error(text, 2, "the model name is longer than 100 bytes");
    snprintf(text, sizeof text, "[judge %.101s]\nbase_url = http://b\n", many);
    expect_error(text, 1, "the judge name is longer than 100 bytes");
    snprintf(text, sizeof text, "[model %.60s]\n", many);
    expect_error(text, 1, "has no base_url");
    expect_error("[model ]\nbase_url = http://a\n", 1, "the model name is empty");
    expect_error("[model a\"b]\nbase_url = http://a\n", 1,
                 "the model name has a control character");
  }

  /* Invalid UTF-8 in names and values, at its line; comments are free. */
  expect_error("[server]\n[model caf\xe9]\nbase_url = http://x\n", 2,
               "the section name is not valid UTF-8");
  expect_error("[judge j\xc3]\n", 1, "the section name is not valid UTF-8");
  expect_error("[model m]\nbase_url = http://x\naliases = caf\xc3\n", 3,
               "aliases: the value is not valid UTF-8");
  expect_error("[model m]\nbase_url = http://x\naliases = a,\n  b\xff\n", 4,
               "aliases: the value is not valid UTF-8");
  expect_error("[model m]\nbase_url = http://x\nmodel = \xc0\xaf" "x\n", 3,
               "model: the value is not valid UTF-8"); /* overlong '/' */
  expect_error("[model m]\nbase_url = http://x\nmodel = \xed\xa0\x80\n", 3,
               "not valid UTF-8"); /* a surrogate */
  expect_error("[ratings]\nidentity_words = \xf4\x90\x80\x80\n", 2,
               "not valid UTF-8"); /* above U+10FFFF */
  expect_error("[model m]\nbase_url = http://x/\xe2\x82\n", 2,
               "base_url: the value is not valid UTF-8");
  expect_error("[server]\nlist\xff" "en = 1\n", 2, "the key is not valid UTF-8");
  rc = load("; caf\xe9\n"
            "[model caf\xc3\xa9-\xe6\xa8\xa1\xe5\x9e\x8b]   ; \xff\n"
            "base_url = http://x     ; caf\xe9\n"
            "aliases = cr\xc3\xa8me, \xf0\x9f\xa4\x96\n",
            &cfg, err, sizeof err);
  CHECK(rc == 0);
  if (rc)
    fprintf(stderr, "  %s\n", err);
  m = config_find_model(&cfg, "caf\xc3\xa9-\xe6\xa8\xa1\xe5\x9e\x8b");
  CHECK(m && m->n_aliases == 2 && !strcmp(m->aliases[1], "\xf0\x9f\xa4\x96"));
  config_release(&cfg);
  CHECK(utf8_valid("", 0) && utf8_valid("a\xc2\x80\xdf\xbf", 5));
  CHECK(utf8_valid("\xe0\xa0\x80\xef\xbf\xbf\xf0\x90\x80\x80\xf4\x8f\xbf\xbf", 14));
  CHECK(!utf8_valid("\xc1\xbf", 2) && !utf8_valid("\xe0\x9f\xbf", 3));
  CHECK(!utf8_valid("\xf0\x8f\xbf\xbf", 4) && !utf8_valid("\xf5\x80\x80\x80", 4));
  CHECK(!utf8_valid("\x80", 1) && !utf8_valid("\xe2\x82" "a", 3));
  CHECK(!utf8_valid("\xe2\x82\xac", 2) && utf8_valid("\xe2\x82\xac", 3));

  {
    char prompt[300], text[600];
    snprintf(prompt, sizeof prompt, "%s.prompt", path);
    FILE *f = fopen(prompt, "w");
    fputs("Judge the answers. Na\xefve.\n", f);
    fclose(f);
    snprintf(text, sizeof text,
             "[judge j]\nbase_url = http://x\nprompt_file = %s\n", prompt);
    expect_error(text, 3, "is not valid UTF-8");
    unlink(prompt);
  }

  char host[256];
  uint16_t port = 0;
  CHECK(parse_listen("[::1]:8080", host, sizeof host, &port) == 0 &&
        !strcmp(host, "::1") && port == 8080);
  CHECK(parse_listen("127.0.0.1:0", host, sizeof host, &port) == 0 &&
        !strcmp(host, "127.0.0.1") && port == 0);
  CHECK(parse_listen("127.0.0.1:65536", host, sizeof host, &port) == -1);
  CHECK(parse_listen("127.0.0.1:000080", host, sizeof host, &port) == -1);
  CHECK(parse_listen("abcdef:1", host, 6, &port) == -1);
  CHECK(parse_listen("abcde:1", host, 6, &port) == 0);

  exact_messages();
  db_engines();
  db_display();
  table_keys();
  ranges();
  every_field();
  defaults();

  unlink(path);
  return check_done("test_config");
}
