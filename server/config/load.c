/* Reading a config file into struct config.
 *
 * libinih splits the file into sections and "key = value" lines; our
 * reader hands it whole lines and counts them (libinih does not tell its
 * handler the line). Each key is looked up in its section's table,
 * config_sections below, and read by its kind. Every function here that
 * takes the load returns 0, or -1 with the first error recorded as
 * "FILE:LINE: what is wrong" (fail()); the pure parsers return 0 or -1
 * and record nothing. Only the two callbacks libinih calls, reader() and
 * on_key(), speak its conventions. */
#include "config/keys.h"

#include <curl/curl.h>
#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <jansson.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config/config.h"
#include "tag/categories.h"
#include "tag/llm.h"
#include "util/listen.h"
#include "util/node_id.h"
#include "util/nowait.h"
#include "util/utf8.h"

/* Keys that need more than their kind's check. */
static int set_listen(struct config_load *ctx, const struct config_key *k,
                      void *obj, const char *value);
static int set_admin_token(struct config_load *ctx,
                           const struct config_key *k, void *obj,
                           const char *value);
static int set_base_url(struct config_load *ctx, const struct config_key *k,
                        void *obj, const char *value);
static int set_api_key(struct config_load *ctx, const struct config_key *k,
                       void *obj, const char *value);
static int set_benchmarks(struct config_load *ctx, const struct config_key *k,
                          void *obj, const char *value);
static int set_mode(struct config_load *ctx, const struct config_key *k,
                    void *obj, const char *value);
static int set_prompt_file(struct config_load *ctx,
                           const struct config_key *k, void *obj,
                           const char *value);
static int set_pairing(struct config_load *ctx, const struct config_key *k,
                       void *obj, const char *value);
static int set_database(struct config_load *ctx, const struct config_key *k,
                        void *obj, const char *value);
static int set_stop(struct config_load *ctx, const struct config_key *k,
                    void *obj, const char *value);
static int set_system_prompt(struct config_load *ctx,
                             const struct config_key *k, void *obj,
                             const char *value);
static int set_card_text(struct config_load *ctx, const struct config_key *k,
                         void *obj, const char *value);
static int set_card_url(struct config_load *ctx, const struct config_key *k,
                        void *obj, const char *value);
static int set_node(struct config_load *ctx, const struct config_key *k,
                    void *obj, const char *value);
static int set_internal_url(struct config_load *ctx,
                            const struct config_key *k, void *obj,
                            const char *value);

#define IN_CONFIG(field) offsetof(struct config, field)
#define IN_MODEL(field) offsetof(struct model_config, field)
#define IN_JUDGE(field) offsetof(struct judge_config, field)
#define IN_TAGGER(field) offsetof(struct tagger_config, field)
#define IN_CATEGORY(field) offsetof(struct category_config, field)

/* A [limits] key: a whole number, named as its field. */
#define LIMIT(field, lo, hi)                                                 \
  {#field, CONFIG_LONG, IN_CONFIG(field), .min = lo, .max = hi,              \
   .error = "expected a whole number in range"}

static const struct config_key server_keys[] = {
    {"listen", CONFIG_SPECIAL, IN_CONFIG(listen), .set = set_listen,
     .error = "expected HOST:PORT or [IPV6]:PORT with a port from 0 to "
              "65535"},
    {"trusted_proxies", CONFIG_LIST, IN_CONFIG(trusted_proxies),
     .count = IN_CONFIG(n_trusted_proxies)},
    {"allowed_origins", CONFIG_LIST, IN_CONFIG(allowed_origins),
     .count = IN_CONFIG(n_allowed_origins)},
    {"admin_token_env", CONFIG_SPECIAL, IN_CONFIG(admin_token_env),
     .set = set_admin_token},
    {"database", CONFIG_SPECIAL, IN_CONFIG(database), .set = set_database},
    {"node", CONFIG_SPECIAL, IN_CONFIG(node), .set = set_node,
     .error = "expected 1 to 14 of a-z, 0-9, '_' and '-', starting with a "
              "letter or digit"},
    {"internal_url", CONFIG_SPECIAL, IN_CONFIG(internal_url),
     .set = set_internal_url},
    {0}};

/* Several nodes on one database (docs/deploy.md). */
static const struct config_key cluster_keys[] = {
    {"lease_seconds", CONFIG_LONG, IN_CONFIG(lease_seconds), .min = 2,
     .max = 3600, .error = "expected 2 to 3600"},
    {"heartbeat_seconds", CONFIG_LONG, IN_CONFIG(heartbeat_seconds),
     .min = 1, .max = 1800, .error = "expected 1 to 1800"},
    {0}};

static const struct config_key ratings_keys[] = {
    {"k", CONFIG_DOUBLE, IN_CONFIG(elo_k), .min = 0, .max = 1000,
     .error = "expected a number from 0 to 1000"},
    {"bootstrap_rounds", CONFIG_LONG, IN_CONFIG(bootstrap_rounds), .min = 0,
     .max = 100000, .error = "expected 0 to 100000"},
    {"min_battles", CONFIG_LONG, IN_CONFIG(min_battles), .min = 0,
     .max = 1000000000, .error = "expected a whole number >= 0"},
    {"dedup_min_count", CONFIG_LONG, IN_CONFIG(dedup_min_count), .min = 0,
     .max = 1000000000, .error = "expected a whole number >= 0"},
    {"identity_words", CONFIG_LIST, IN_CONFIG(identity_words),
     .count = IN_CONFIG(n_identity_words)},
    {0}};

static const struct config_key limits_keys[] = {
    LIMIT(max_prompt_chars, 1, 10000000),
    LIMIT(max_answer_bytes, 1024, 1L << 30),
    LIMIT(max_turns, 1, 1000),
    LIMIT(max_regenerations, 0, 100),
    LIMIT(max_side_retries, 0, 100),
    LIMIT(max_body_bytes, 1024, 1L << 30),
    LIMIT(battles_per_minute, 0, 1000000),
    LIMIT(votes_per_minute, 0, 1000000),
    LIMIT(admin_failures_per_minute, 1, 1000000),
    LIMIT(max_concurrent_battles, 0, 10000000),
    LIMIT(idle_timeout, 1, 86400),
    LIMIT(max_connections, 0, 1000000),
    LIMIT(max_connections_per_client, 0, 1000000),
    LIMIT(max_streams_per_client, 0, 1000000),
    LIMIT(max_streams_per_battle, 0, 1000000),
    LIMIT(max_buffered_bytes, 0, 1L << 40),
    LIMIT(max_cached_battle_bytes, 0, 1L << 40),
    LIMIT(request_timeout, 0, 3600),
    {"min_vote_seconds", CONFIG_DOUBLE, IN_CONFIG(min_vote_seconds),
     .min = 0, .max = 3600, .error = "expected seconds from 0 to 3600"},
    LIMIT(max_vote_comment_chars, 0, 100000),
    LIMIT(max_shares, 0, 100000000),
    LIMIT(own_board_sessions, 1, 10000000),
    LIMIT(own_board_votes, 1, 1000000),
    {0}};

/* The connection to an OpenAI-compatible endpoint, of a [model] and of a
 * [judge]. */
static const struct config_key conn_keys[] = {
    {"base_url", CONFIG_SPECIAL, IN_MODEL(base_url), .set = set_base_url},
    {"model", CONFIG_STRING, IN_MODEL(upstream),
     .error = "empty upstream model id"},
    {"api_key_env", CONFIG_SPECIAL, IN_MODEL(api_key_env),
     .set = set_api_key},
    {"temperature", CONFIG_DOUBLE, IN_MODEL(temperature), .min = 0, .max = 2,
     .error = "expected a number from 0 to 2"},
    {"max_tokens", CONFIG_LONG, IN_MODEL(max_tokens), .min = 1,
     .max = 10000000, .error = "expected a positive whole number"},
    {"timeout", CONFIG_LONG, IN_MODEL(timeout_s), .min = 1, .max = 86400,
     .error = "expected seconds from 1 to 86400"},
    {"top_p", CONFIG_DOUBLE, IN_MODEL(top_p), .min = 1e-9, .max = 1,
     .error = "expected a number above 0, at most 1"},
    {"stop", CONFIG_SPECIAL, IN_MODEL(stop), .set = set_stop},
    {0}};

static const struct config_key model_keys[] = {
    {"benchmarks", CONFIG_SPECIAL, IN_MODEL(benchmarks),
     .set = set_benchmarks, .error = "expected NAME:NUMBER items"},
    {"aliases", CONFIG_LIST, IN_MODEL(aliases), .count = IN_MODEL(n_aliases)},
    {"enabled", CONFIG_BOOL, IN_MODEL(enabled),
     .error = "expected true or false"},
    {"system_prompt", CONFIG_SPECIAL, IN_MODEL(system_prompt),
     .set = set_system_prompt},
    {"system_prompt_file", CONFIG_SPECIAL, IN_MODEL(system_prompt),
     .set = set_prompt_file},
    /* pairing (rating/pairing.h) */
    {"weight", CONFIG_DOUBLE, IN_MODEL(weight), .min = 0.001, .max = 1000,
     .error = "expected a number from 0.001 to 1000"},
    {"boost", CONFIG_DOUBLE, IN_MODEL(boost), .min = 1, .max = 1000,
     .error = "expected a number from 1 to 1000"},
    {"boost_until", CONFIG_LONG, IN_MODEL(boost_until), .min = 0,
     .max = 1000000000, .error = "expected a whole number >= 0"},
    /* the model's card (struct model_card) */
    {"organization", CONFIG_SPECIAL, IN_MODEL(card.organization),
     .set = set_card_text},
    {"license", CONFIG_SPECIAL, IN_MODEL(card.license),
     .set = set_card_text},
    {"url", CONFIG_SPECIAL, IN_MODEL(card.url), .set = set_card_url},
    {"open_weights", CONFIG_BOOL, IN_MODEL(card.open_weights),
     .error = "expected true or false"},
    {"context", CONFIG_LONG, IN_MODEL(card.context), .min = 1,
     .max = 1000000000, .error = "expected a number of tokens from 1 to "
                                 "1000000000"},
    {"price", CONFIG_SPECIAL, IN_MODEL(card.price), .set = set_card_text},
    {0}};

static const struct config_key arena_keys[] = {
    {"pairing", CONFIG_SPECIAL, IN_CONFIG(pairing), .set = set_pairing,
     .error = "expected uniform, weighted or active"},
    {"vote_reasons", CONFIG_LIST, IN_CONFIG(vote_reasons),
     .count = IN_CONFIG(n_vote_reasons)},
    {0}};

static const struct config_key judge_keys[] = {
    {"mode", CONFIG_SPECIAL, IN_JUDGE(mode), .set = set_mode,
     .error = "expected pairwise or single"},
    {"swap", CONFIG_BOOL, IN_JUDGE(swap), .error = "expected true or false"},
    {"auto", CONFIG_BOOL, IN_JUDGE(auto_judge),
     .error = "expected true or false"},
    {"concurrency", CONFIG_LONG, IN_JUDGE(concurrency), .min = 1, .max = 1000,
     .error = "expected 1 to 1000"},
    {"few_shot", CONFIG_LONG, IN_JUDGE(few_shot), .min = 0, .max = 50,
     .error = "expected 0 to 50"},
    {"prompt_file", CONFIG_SPECIAL, IN_JUDGE(instructions),
     .set = set_prompt_file},
    {0}};

static const struct config_key tagger_keys[] = {
    {"categories", CONFIG_LIST, IN_TAGGER(categories),
     .count = IN_TAGGER(n_categories)},
    {"concurrency", CONFIG_LONG, IN_TAGGER(concurrency), .min = 1,
     .max = 1000, .error = "expected 1 to 1000"},
    {"retries", CONFIG_LONG, IN_TAGGER(retries), .min = 0, .max = 10,
     .error = "expected 0 to 10"},
    {"auto", CONFIG_BOOL, IN_TAGGER(auto_tag),
     .error = "expected true or false"},
    {0}};

static const struct config_key category_keys[] = {
    {"question", CONFIG_STRING, IN_CATEGORY(question),
     .error = "empty question"},
    {0}};

static const void *model_find(const struct config *cfg, const char *name);
static void *model_add(struct config_load *ctx, const char *name);
static const void *judge_find(const struct config *cfg, const char *name);
static void *judge_add(struct config_load *ctx, const char *name);
static const void *tagger_find(const struct config *cfg, const char *name);
static void *tagger_add(struct config_load *ctx, const char *name);
static const void *category_find(const struct config *cfg, const char *name);
static void *category_add(struct config_load *ctx, const char *name);

const struct config_section config_sections[] = {
    {"server", .tables = {{.keys = server_keys}}},
    {"ratings", .tables = {{.keys = ratings_keys}}},
    {"limits", .tables = {{.keys = limits_keys}}},
    {"arena", .tables = {{.keys = arena_keys}}},
    {"cluster", .tables = {{.keys = cluster_keys}}},
    {"model", model_find, model_add,
     .tables = {{.keys = conn_keys}, {.keys = model_keys}}},
    {"judge", judge_find, judge_add,
     .tables = {{.keys = conn_keys, .base = IN_JUDGE(conn)},
                {.keys = judge_keys}}},
    {"tagger", tagger_find, tagger_add,
     .tables = {{.keys = conn_keys, .base = IN_TAGGER(conn)},
                {.keys = tagger_keys}}},
    {"category", category_find, category_add,
     .tables = {{.keys = category_keys}}},
    {0}};

/* libinih reads each line into one buffer before it looks at it. Debian's
 * build (libinih 55) takes the buffer's size at run time: on the heap
 * (ini_use_stack = 0), of ini_initial_alloc bytes that do not grow
 * (ini_allow_realloc = 0; a growing buffer would be filled by several
 * reader calls per line). So the reader hands over whole lines of up to
 * AGON_CONFIG_MAX_LINE bytes, +3 for "\r\n" and the NUL. The first error
 * ends the parse. What cannot be changed at run time: section names are
 * cut to 49 bytes (MAX_SECTION is compiled in), so the reader keeps the
 * whole header line, and handlers read the section from there. */
static pthread_once_t inih_once = PTHREAD_ONCE_INIT;

static void inih_setup(void) {
#ifdef AGON_INIH_RUNTIME_OPTIONS
  ini_use_stack = 0;
  ini_allow_realloc = 0;
  ini_initial_alloc = AGON_CONFIG_MAX_LINE + 3;
  ini_max_line = AGON_CONFIG_MAX_LINE + 3;
  ini_stop_on_first_error = 1;
#endif
}

/* A file being read. libinih does not tell the handler the line, so the
 * reader counts the lines it hands over, and remembers where the latest
 * section header was. */
struct config_load {
  struct config *cfg;
  FILE *f;
  const char *file;
  int line;            /* line number of the line last read */
  int in_key;          /* a key line since the latest header: an indented
                          line now continues its value, as in libinih */
  int section_line;    /* line of the latest "[...]" */
  char *section;       /* its name, whole (libinih's may be cut) */
  void *obj;           /* the object of the named section at obj_line,
                          made at its first key */
  int obj_line;
  char *err;
  size_t errlen;
  int failed;
  struct header {
    char *name;
    int line;
  } *headers;          /* every section header, for sections with no keys */
  size_t n_headers;
};

/* Record the error at line, "FILE:LINE: " and the message cut to 511
 * bytes, unless one is recorded already: the first error ends the load.
 * Returns -1. */
static int fail(struct config_load *ctx, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(struct config_load *ctx, int line, const char *fmt, ...) {
  if (!ctx->failed) {
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    snprintf(ctx->err, ctx->errlen, "%s:%d: %s", ctx->file, line, msg);
    ctx->failed = 1;
  }
  return -1;
}

/* Record "KEY: EXPECTED, got 'VALUE'" at the current line. Returns -1. */
static int bad_value(struct config_load *ctx, const struct config_key *k,
                     const char *value) {
  return fail(ctx, ctx->line, "%s: %s, got '%s'", k->name, k->error, value);
}

/* The section a header (a whole section name) opens, or NULL; for a named
 * section, *name is the name that follows its own and blanks. */
static const struct config_section *section_find(const char *header,
                                                 const char **name) {
  for (const struct config_section *s = config_sections; s->name; s++) {
    size_t n = strlen(s->name);
    if (!s->find && !strcmp(header, s->name))
      return s;
    if (s->find && !strncmp(header, s->name, n) && header[n] == ' ') {
      *name = header + n + strspn(header + n, " ");
      return s;
    }
  }
  return NULL;
}

#define STR_(x) #x
#define STR(x) STR_(x)

/* What is wrong with s as a model or judge name, or NULL. */
static const char *bad_name(const char *s) {
  size_t n = strlen(s);
  if (n == 0)
    return "is empty";
  if (n > AGON_MAX_MODEL_NAME)
    return "is longer than " STR(AGON_MAX_MODEL_NAME) " bytes";
  for (const unsigned char *p = (const unsigned char *)s; *p; p++)
    if (*p < 0x20 || *p == 0x7f || *p == '"' || *p == '\\')
      return "has a control character, '\"' or '\\'";
  return NULL;
}

/* Note a section header, name (n bytes), read at the current line. */
static int add_header(struct config_load *ctx, const char *name, size_t n) {
  struct header *h =
      realloc(ctx->headers, (ctx->n_headers + 1) * sizeof *h);
  if (!h)
    return fail(ctx, ctx->line, "out of memory");
  ctx->headers = h;
  h = &h[ctx->n_headers];
  h->name = strndup(name, n);
  if (!h->name)
    return fail(ctx, ctx->line, "out of memory");
  h->line = ctx->line;
  ctx->n_headers++;
  ctx->section = h->name;
  ctx->section_line = ctx->line;
  return 0;
}

/* libinih's fgets-like reader: one whole line of the file into str (num
 * bytes), or NULL at the end, after an error, or for a line that is too
 * long or holds a NUL byte (the error is recorded). Section headers are
 * recognised as libinih does: after a byte order mark on the first line
 * and blanks, a '[' that does not continue a value; the name ends at the
 * first ']'. */
static char *reader(char *str, int num, void *stream) {
  struct config_load *ctx = stream;
  if (ctx->failed || num < 3)
    return NULL;
  size_t max = AGON_CONFIG_MAX_LINE;
  if ((size_t)num - 3 < max)
    max = (size_t)num - 3; /* a libinih whose buffer is fixed smaller */
  size_t n = 0;
  while (n < max + 2) {
    int c = getc(ctx->f);
    if (c == EOF)
      break;
    str[n++] = (char)c;
    if (c == '\n')
      break;
  }
  if (ferror(ctx->f)) {
    fail(ctx, ctx->line + 1, "cannot read: %s", strerror(errno));
    return NULL;
  }
  if (n == 0)
    return NULL;
  str[n] = '\0';
  ctx->line++;
  size_t len = n;
  if (len && str[len - 1] == '\n')
    len--;
  if (len && str[len - 1] == '\r')
    len--;
  if (len > max) {
    fail(ctx, ctx->line, "line is longer than %zu bytes", max);
    return NULL;
  }
  if (memchr(str, '\0', n)) {
    fail(ctx, ctx->line, "line holds a NUL byte");
    return NULL;
  }
  const char *p = str;
  if (ctx->line == 1 && !strncmp(p, "\xEF\xBB\xBF", 3))
    p += 3;
  while (isspace((unsigned char)*p))
    p++;
  if (!*p || *p == ';' || *p == '#' || (ctx->in_key && p > str))
    return str; /* blank, comment, or the value goes on */
  if (*p != '[') {
    ctx->in_key = 1;
    return str;
  }
  ctx->in_key = 0;
  const char *end = strchr(p, ']');
  if (!end) { /* a syntax error for libinih; the name for messages */
    end = str + len;
    while (end > p + 1 && isspace((unsigned char)end[-1]))
      end--;
  }
  if (add_header(ctx, p + 1, (size_t)(end - p - 1)))
    return NULL;
  const char *h = ctx->section;
  if (!utf8_valid(h, strlen(h))) {
    fail(ctx, ctx->line, "the section name is not valid UTF-8");
    return NULL;
  }
  const char *name = NULL;
  const struct config_section *s = section_find(h, &name);
  const char *why = s && s->find ? bad_name(name) : NULL;
  if (why) {
    fail(ctx, ctx->line, "the %s name %s", s->name, why);
    return NULL;
  }
  return str;
}

/* The whole name of the section libinih passes as section, which it may
 * have cut. */
static const char *whole_section(const struct config_load *ctx,
                                 const char *section) {
  if (ctx->section && !strncmp(ctx->section, section, strlen(section)))
    return ctx->section;
  return section;
}

/* The pure parsers: v into *out when it is whole and in range; 0, or -1
 * with *out as it was. */
static int parse_long(const char *v, long min, long max, long *out) {
  char *end;
  errno = 0;
  long x = strtol(v, &end, 10);
  if (errno || end == v || *end || x < min || x > max)
    return -1;
  *out = x;
  return 0;
}

static int parse_double(const char *v, double min, double max, double *out) {
  char *end;
  errno = 0;
  double x = strtod(v, &end);
  if (errno || end == v || *end || !isfinite(x) || x < min || x > max)
    return -1;
  *out = x;
  return 0;
}

static int parse_bool(const char *v, int *out) {
  if (!strcasecmp(v, "true") || !strcasecmp(v, "yes") ||
      !strcasecmp(v, "on") || !strcmp(v, "1"))
    *out = 1;
  else if (!strcasecmp(v, "false") || !strcasecmp(v, "no") ||
           !strcasecmp(v, "off") || !strcmp(v, "0"))
    *out = 0;
  else
    return -1;
  return 0;
}

/* Replace the string at *dst with a copy of v. */
static int set_string(struct config_load *ctx, char **dst, const char *v) {
  char *s = strdup(v);
  if (!s)
    return fail(ctx, ctx->line, "out of memory");
  free(*dst);
  *dst = s;
  return 0;
}

/* Split a list on commas (each item trimmed, lowercased, non-empty) into
 * a new array. Returns 0 or -1. */
static int parse_list(const char *v, char ***out, size_t *n) {
  char **items = NULL;
  size_t count = 0;
  const char *p = v;
  while (*p) {
    const char *end = strchr(p, ',');
    if (!end)
      end = p + strlen(p);
    const char *a = p, *b = end;
    while (a < b && (*a == ' ' || *a == '\t'))
      a++;
    while (b > a && (b[-1] == ' ' || b[-1] == '\t'))
      b--;
    if (b > a) {
      char **more = realloc(items, (count + 1) * sizeof *more);
      if (!more)
        goto oom;
      items = more;
      items[count] = strndup(a, (size_t)(b - a));
      if (!items[count])
        goto oom;
      for (char *c = items[count]; *c; c++)
        if (*c >= 'A' && *c <= 'Z')
          *c = (char)(*c + 32);
      count++;
    }
    p = *end ? end + 1 : end;
  }
  *out = items;
  *n = count;
  return 0;
oom:
  for (size_t i = 0; i < count; i++)
    free(items[i]);
  free(items);
  return -1;
}

/* Replace the list at *items (*n of them) with value's. */
static int set_list(struct config_load *ctx, char ***items, size_t *n,
                    const char *value) {
  config_strings_free(*items, *n);
  *items = NULL;
  *n = 0;
  if (parse_list(value, items, n))
    return fail(ctx, ctx->line, "out of memory");
  return 0;
}

static void *key_field(void *obj, const struct config_key *k) {
  return (char *)obj + k->offset;
}

/* Read value into obj, the struct of key's table, by the key's kind. */
static int key_set(struct config_load *ctx, const struct config_key *k,
                   void *obj, const char *value) {
  void *field = key_field(obj, k);
  switch (k->kind) {
  case CONFIG_LONG:
    if (parse_long(value, (long)k->min, (long)k->max, field))
      return bad_value(ctx, k, value);
    return 0;
  case CONFIG_DOUBLE:
    if (parse_double(value, k->min, k->max, field))
      return bad_value(ctx, k, value);
    return 0;
  case CONFIG_BOOL:
    if (parse_bool(value, field))
      return bad_value(ctx, k, value);
    return 0;
  case CONFIG_STRING:
    if (!*value)
      return fail(ctx, ctx->line, "%s: %s", k->name, k->error);
    return set_string(ctx, field, value);
  case CONFIG_LIST:
    return set_list(ctx, field, (size_t *)((char *)obj + k->count), value);
  case CONFIG_SPECIAL:
    return k->set(ctx, k, obj, value);
  }
  return fail(ctx, ctx->line, "%s: a key of no kind", k->name);
}

/* A SQLite path, or a PostgreSQL URL or keyword string: an engine this
 * build has. The value is not echoed: a URL may hold a password. */
static int set_database(struct config_load *ctx, const struct config_key *k,
                        void *obj, const char *value) {
  const char *where;
  enum config_db_engine e = config_db_engine(value, &where);
  if (!*where)
    return fail(ctx, ctx->line, "%s: empty path", k->name);
  if (!config_db_engine_built(e))
    return fail(ctx, ctx->line, "%s: %s support is not built", k->name,
                config_db_engine_name(e));
  return set_string(ctx, key_field(obj, k), value);
}

static int set_listen(struct config_load *ctx, const struct config_key *k,
                      void *obj, const char *value) {
  char host[256];
  uint16_t port;
  if (parse_listen(value, host, sizeof host, &port))
    return bad_value(ctx, k, value);
  return set_string(ctx, key_field(obj, k), value);
}

/* The name of the variable that holds the admin token, and the token. */
static int set_admin_token(struct config_load *ctx,
                           const struct config_key *k, void *obj,
                           const char *value) {
  struct config *cfg = obj;
  if (!*value)
    return fail(ctx, ctx->line, "%s: empty variable name", k->name);
  const char *tok = getenv(value);
  if (!tok || strlen(tok) < 16)
    return fail(ctx, ctx->line,
                "%s: environment variable '%s' is not set or shorter than 16 "
                "characters",
                k->name, value);
  if (set_string(ctx, &cfg->admin_token_env, value))
    return -1;
  return set_string(ctx, &cfg->admin_token, tok);
}

/* Whether u has the given part (which may be empty). */
static int url_has(CURLU *u, CURLUPart what) {
  char *s = NULL;
  CURLUcode uc = curl_url_get(u, what, &s, 0);
  curl_free(s);
  return uc == CURLUE_OK;
}

/* Whether url is a base_url that libcurl will read as one: http or https,
 * a host, a port from 1 to 65535 if any, no query or fragment (the client
 * appends "/chat/completions"), no user or password (keys come from
 * api_key_env), at most AGON_MAX_BASE_URL bytes. Returns 0, or -1 with
 * what is wrong in why (whylen bytes). */
static int check_base_url(const char *url, char *why, size_t whylen) {
  if (strlen(url) > AGON_MAX_BASE_URL) {
    snprintf(why, whylen, "longer than %d bytes", AGON_MAX_BASE_URL);
    return -1;
  }
  CURLU *u = curl_url();
  CURLUcode uc = u ? curl_url_set(u, CURLUPART_URL, url, 0)
                   : CURLUE_OUT_OF_MEMORY;
  char *scheme = NULL, *port = NULL;
  why[0] = '\0';
  if (uc == CURLUE_NO_HOST)
    snprintf(why, whylen, "the URL has no host");
  else if (uc == CURLUE_BAD_PORT_NUMBER)
    snprintf(why, whylen, "expected a port from 1 to 65535");
  else if (uc == CURLUE_BAD_SCHEME || uc == CURLUE_NO_SCHEME ||
           uc == CURLUE_UNSUPPORTED_SCHEME || uc == CURLUE_BAD_SLASHES)
    snprintf(why, whylen, "expected an http:// or https:// URL");
  else if (uc)
    snprintf(why, whylen, "not a valid URL (libcurl: %s)",
             curl_url_strerror(uc));
  else if (curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) ||
           (strcmp(scheme, "http") && strcmp(scheme, "https")))
    snprintf(why, whylen, "expected an http:// or https:// URL");
  else if (!curl_url_get(u, CURLUPART_PORT, &port, 0) && !strcmp(port, "0"))
    snprintf(why, whylen, "expected a port from 1 to 65535");
  else if (strpbrk(url, "?#")) /* in a parsed URL, only a query or fragment
                                  (libcurl drops an empty fragment) */
    snprintf(why, whylen,
             "a query or fragment cannot be followed by /chat/completions");
  else if (url_has(u, CURLUPART_USER) || url_has(u, CURLUPART_PASSWORD))
    snprintf(why, whylen, "no user or password in the URL (use api_key_env)");
  curl_free(scheme);
  curl_free(port);
  curl_url_cleanup(u);
  return why[0] ? -1 : 0;
}

/* [server] node: a node's name (util/node_id.h). */
static int set_node(struct config_load *ctx, const struct config_key *k,
                    void *obj, const char *value) {
  if (!node_name_valid(value))
    return bad_value(ctx, k, value);
  return set_string(ctx, key_field(obj, k), value);
}

/* [server] internal_url: where the other nodes reach this one, an http://
 * or https:// URL as a model's base_url is read, with no path but "/"
 * (the nodes add the API's paths to it); kept without the "/". */
static int set_internal_url(struct config_load *ctx,
                            const struct config_key *k, void *obj,
                            const char *value) {
  char why[128];
  if (check_base_url(value, why, sizeof why))
    return fail(ctx, ctx->line, "%s: %s, got '%s'", k->name, why, value);
  const char *host = strstr(value, "://");
  const char *path = host ? strchr(host + 3, '/') : NULL;
  if (path && strcmp(path, "/"))
    return fail(ctx, ctx->line, "%s: a node's address has no path, got '%s'",
                k->name, value);
  char **url = key_field(obj, k);
  if (set_string(ctx, url, value))
    return -1;
  size_t n = strlen(*url);
  if (n > 0 && (*url)[n - 1] == '/')
    (*url)[n - 1] = '\0';
  return 0;
}

/* A card's organization, license or price: free text of 1 to
 * AGON_MAX_CARD_TEXT bytes without control characters. */
static int set_card_text(struct config_load *ctx, const struct config_key *k,
                         void *obj, const char *value) {
  size_t n = strlen(value);
  if (n == 0)
    return fail(ctx, ctx->line, "%s: empty value", k->name);
  if (n > AGON_MAX_CARD_TEXT)
    return fail(ctx, ctx->line, "%s: longer than %d bytes", k->name,
                AGON_MAX_CARD_TEXT);
  for (const unsigned char *p = (const unsigned char *)value; *p; p++)
    if (*p < 0x20 || *p == 0x7f)
      return fail(ctx, ctx->line, "%s: has a control character", k->name);
  return set_string(ctx, key_field(obj, k), value);
}

/* A card's url: an http:// or https:// URL with a host, as libcurl reads
 * it, of at most AGON_MAX_CARD_URL bytes, without a user or password
 * (a link the page shows to everyone). */
static int set_card_url(struct config_load *ctx, const struct config_key *k,
                        void *obj, const char *value) {
  const char *why = NULL;
  char *scheme = NULL;
  CURLU *u = NULL;
  if (strlen(value) > AGON_MAX_CARD_URL)
    why = "longer than " STR(AGON_MAX_CARD_URL) " bytes";
  else if (strncasecmp(value, "http://", 7) && strncasecmp(value, "https://", 8))
    why = "expected an http:// or https:// URL";
  else if (strpbrk(value, " \t\r\n\"<>\\"))
    why = "a URL has no blank, quote, '<', '>' or backslash";
  else if (!(u = curl_url()) || curl_url_set(u, CURLUPART_URL, value, 0) ||
           curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) ||
           (strcmp(scheme, "http") && strcmp(scheme, "https")))
    why = "not a valid http:// or https:// URL";
  else if (url_has(u, CURLUPART_USER) || url_has(u, CURLUPART_PASSWORD))
    why = "no user or password in a public URL";
  curl_free(scheme);
  curl_url_cleanup(u);
  if (why)
    return fail(ctx, ctx->line, "%s: %s, got '%s'", k->name, why, value);
  return set_string(ctx, key_field(obj, k), value);
}

/* A base_url that libcurl reads as one, without its trailing slashes. */
static int set_base_url(struct config_load *ctx, const struct config_key *k,
                        void *obj, const char *value) {
  char why[128];
  if (check_base_url(value, why, sizeof why))
    return fail(ctx, ctx->line, "%s: %s, got '%s'", k->name, why, value);
  char **url = key_field(obj, k);
  if (set_string(ctx, url, value))
    return -1;
  size_t n = strlen(*url);
  while (n > 0 && (*url)[n - 1] == '/')
    (*url)[--n] = '\0';
  return 0;
}

/* The name of the variable that holds the model's key, and the key. */
static int set_api_key(struct config_load *ctx, const struct config_key *k,
                       void *obj, const char *value) {
  struct model_config *m = obj;
  if (!*value)
    return fail(ctx, ctx->line, "%s: empty variable name", k->name);
  const char *key = getenv(value);
  if (!key || !*key)
    return fail(ctx, ctx->line, "%s: environment variable '%s' is not set",
                k->name, value);
  if (set_string(ctx, &m->api_key_env, value))
    return -1;
  return set_string(ctx, &m->api_key, key);
}

/* One "NAME:NUMBER" item of benchmarks, added to m's. */
static int benchmark_add(struct config_load *ctx, const struct config_key *k,
                         struct model_config *m, const char *item) {
  const char *colon = strrchr(item, ':');
  double v;
  if (!colon || colon == item ||
      (size_t)(colon - item) >= sizeof m->benchmarks[0].name ||
      parse_double(colon + 1, -1e9, 1e9, &v))
    return bad_value(ctx, k, item);
  struct benchmark_score *b =
      realloc(m->benchmarks, (m->n_benchmarks + 1) * sizeof *b);
  if (!b)
    return fail(ctx, ctx->line, "out of memory");
  m->benchmarks = b;
  b = &b[m->n_benchmarks++];
  snprintf(b->name, sizeof b->name, "%.*s", (int)(colon - item), item);
  b->score = v;
  return 0;
}

/* Published scores, "arc:71.1 mmlu:66" (blanks or commas between). */
static int set_benchmarks(struct config_load *ctx, const struct config_key *k,
                          void *obj, const char *value) {
  struct model_config *m = obj;
  free(m->benchmarks);
  m->benchmarks = NULL;
  m->n_benchmarks = 0;
  char *copy = strdup(value);
  if (!copy)
    return fail(ctx, ctx->line, "out of memory");
  int rc = 0;
  char *save = NULL;
  for (char *item = strtok_r(copy, " \t,", &save); item && !rc;
       item = strtok_r(NULL, " \t,", &save))
    rc = benchmark_add(ctx, k, m, item);
  free(copy);
  return rc;
}

static int set_mode(struct config_load *ctx, const struct config_key *k,
                    void *obj, const char *value) {
  enum judge_mode *mode = key_field(obj, k);
  if (!strcmp(value, "pairwise"))
    *mode = JUDGE_PAIRWISE;
  else if (!strcmp(value, "single"))
    *mode = JUDGE_SINGLE;
  else
    return bad_value(ctx, k, value);
  return 0;
}

static int set_pairing(struct config_load *ctx, const struct config_key *k,
                       void *obj, const char *value) {
  enum config_pairing *p = key_field(obj, k);
  static const char *const names[] = {"uniform", "weighted", "active"};
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
    if (!strcmp(value, names[i])) {
      *p = (enum config_pairing)i;
      return 0;
    }
  return bad_value(ctx, k, value);
}

/* A judge's instructions: the text of a file (a path relative to the
 * config file's folder), at most 64 KiB of UTF-8. */
static int set_prompt_file(struct config_load *ctx,
                           const struct config_key *k, void *obj,
                           const char *value) {
  char **dst = key_field(obj, k);
  char path[4096];
  if (value[0] != '/' && strrchr(ctx->file, '/'))
    snprintf(path, sizeof path, "%.*s/%s",
             (int)(strrchr(ctx->file, '/') - ctx->file), ctx->file, value);
  else
    snprintf(path, sizeof path, "%s", value);
  FILE *f = fopen(path, "rb");
  if (!f)
    return fail(ctx, ctx->line, "%s: cannot open '%s': %s", k->name, path,
                strerror(errno));
  char *text = calloc(1, 65537);
  size_t n = text ? fread(text, 1, 65536, f) : 0;
  int more = text && fgetc(f) != EOF;
  fclose(f);
  if (!text)
    return fail(ctx, ctx->line, "out of memory");
  if (more || n == 0 || !utf8_valid(text, n)) {
    free(text);
    return fail(ctx, ctx->line, "%s: '%s' is %s", k->name, path,
                more       ? "larger than 64 KiB"
                : n == 0   ? "empty"
                           : "not valid UTF-8");
  }
  free(*dst);
  *dst = text;
  return 0;
}

/* Stop sequences: a JSON array of 1 to AGON_MAX_STOP non-empty strings
 * (["\n\nUser:", "###"]: JSON's escapes give newlines), or one plain
 * value taken as it is. Each at most AGON_MAX_STOP_BYTES of UTF-8. */
static int set_stop(struct config_load *ctx, const struct config_key *k,
                    void *obj, const char *value) {
  struct model_config *m = obj;
  json_t *arr = NULL;
  char **items = NULL;
  size_t n = 0;
  int rc = -1;
  if (value[0] == '[') {
    json_error_t je;
    arr = json_loads(value, JSON_REJECT_DUPLICATES, &je);
    if (!json_is_array(arr) || json_array_size(arr) < 1 ||
        json_array_size(arr) > AGON_MAX_STOP) {
      fail(ctx, ctx->line,
           "%s: expected a JSON array of 1 to %d strings, or one plain "
           "stop sequence",
           k->name, AGON_MAX_STOP);
      goto out;
    }
    n = json_array_size(arr);
  } else {
    n = 1;
  }
  items = calloc(n, sizeof *items);
  if (!items) {
    fail(ctx, ctx->line, "out of memory");
    goto out;
  }
  for (size_t i = 0; i < n; i++) {
    const char *v = arr ? json_string_value(json_array_get(arr, i)) : value;
    size_t len = v ? strlen(v) : 0;
    if (!v || len == 0 || len > AGON_MAX_STOP_BYTES || !utf8_valid(v, len)) {
      fail(ctx, ctx->line,
           "%s: item %zu must be a non-empty string of at most %d bytes",
           k->name, i + 1, AGON_MAX_STOP_BYTES);
      goto out;
    }
    if (!(items[i] = strdup(v))) {
      fail(ctx, ctx->line, "out of memory");
      goto out;
    }
  }
  config_strings_free(m->stop, m->n_stop);
  m->stop = items;
  m->n_stop = n;
  items = NULL;
  rc = 0;
out:
  if (items)
    config_strings_free(items, n);
  json_decref(arr);
  return rc;
}

/* A system prompt on the key's line: at most 64 KiB of UTF-8, as the file
 * of system_prompt_file would be. */
static int set_system_prompt(struct config_load *ctx,
                             const struct config_key *k, void *obj,
                             const char *value) {
  size_t n = strlen(value);
  if (n > 65536 || !utf8_valid(value, n))
    return fail(ctx, ctx->line, "%s: %s", k->name,
                n > 65536 ? "longer than 64 KiB" : "not valid UTF-8");
  return set_string(ctx, key_field(obj, k), value);
}

static const void *model_find(const struct config *cfg, const char *name) {
  return config_find_model(cfg, name);
}

/* A [model NAME]'s defaults. */
static void *model_add(struct config_load *ctx, const char *name) {
  struct config *cfg = ctx->cfg;
  struct model_config m = {
      .name = (char *)name,
      .temperature = -1, /* not sent */
      .timeout_s = 120,
      .enabled = 1,
      .line = ctx->section_line,
      .weight = 1,
      .boost = 1,
      .boost_until = 1000,
  };
  if (config_add_model(cfg, &m) || !cfg->models[cfg->n_models - 1].name) {
    fail(ctx, ctx->line, "out of memory");
    return NULL;
  }
  return &cfg->models[cfg->n_models - 1];
}

static const void *judge_find(const struct config *cfg, const char *name) {
  return config_find_judge(cfg, name);
}

/* A [judge NAME]'s defaults. */
static void *judge_add(struct config_load *ctx, const char *name) {
  struct config *cfg = ctx->cfg;
  struct judge_config *j =
      realloc(cfg->judges, (cfg->n_judges + 1) * sizeof *j);
  if (!j)
    goto oom;
  cfg->judges = j;
  j = &j[cfg->n_judges];
  *j = (struct judge_config){
      .conn = {.name = strdup(name),
               .temperature = 0,
               .timeout_s = 120,
               .enabled = 1,
               .line = ctx->section_line},
      .mode = JUDGE_PAIRWISE,
      .swap = 1,
      .concurrency = 4,
      .line = ctx->section_line,
  };
  if (!j->conn.name)
    goto oom;
  cfg->n_judges++;
  return j;
oom:
  fail(ctx, ctx->line, "out of memory");
  return NULL;
}

static const void *tagger_find(const struct config *cfg, const char *name) {
  return config_find_tagger(cfg, name);
}

/* A [tagger NAME]'s defaults: deterministic replies, 4 in flight, two
 * more tries, tagging every battle. */
static void *tagger_add(struct config_load *ctx, const char *name) {
  struct config *cfg = ctx->cfg;
  struct tagger_config *t =
      realloc(cfg->taggers, (cfg->n_taggers + 1) * sizeof *t);
  if (!t)
    goto oom;
  cfg->taggers = t;
  t = &t[cfg->n_taggers];
  *t = (struct tagger_config){
      .conn = {.name = strdup(name),
               .temperature = 0,
               .timeout_s = 60,
               .enabled = 1,
               .line = ctx->section_line},
      .concurrency = 4,
      .retries = 2,
      .auto_tag = 1,
      .line = ctx->section_line,
  };
  if (!t->conn.name)
    goto oom;
  cfg->n_taggers++;
  return t;
oom:
  fail(ctx, ctx->line, "out of memory");
  return NULL;
}

static const void *category_find(const struct config *cfg,
                                 const char *name) {
  return config_find_category(cfg, name);
}

/* A [category NAME]: its name is a tag's, so it is checked as one. */
static void *category_add(struct config_load *ctx, const char *name) {
  struct config *cfg = ctx->cfg;
  size_t n = strlen(name);
  if (n > 32 || strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789_") != n) {
    fail(ctx, ctx->section_line,
         "the category name '%s' must be 1 to 32 of a-z, 0-9 and '_'", name);
    return NULL;
  }
  for (int i = 0; i < TAG_N_HEURISTIC; i++)
    if (!strcmp(name, heuristic_tag_name(i)))
      goto builtin;
  if (llm_tag_builtin(name))
    goto builtin;
  struct category_config *k =
      realloc(cfg->categories, (cfg->n_categories + 1) * sizeof *k);
  if (!k)
    goto oom;
  cfg->categories = k;
  k = &k[cfg->n_categories];
  *k = (struct category_config){.name = strdup(name),
                                .line = ctx->section_line};
  if (!k->name)
    goto oom;
  cfg->n_categories++;
  return k;
builtin:
  fail(ctx, ctx->section_line,
       "category '%s' is built in: only new categories are defined here",
       name);
  return NULL;
oom:
  fail(ctx, ctx->line, "out of memory");
  return NULL;
}

/* A [tagger]'s categories are built-in LLM ones or [category] ones. */
static int tagger_check(struct config_load *ctx,
                        const struct tagger_config *t) {
  for (size_t i = 0; i < t->n_categories; i++)
    if (!llm_tag_builtin(t->categories[i]) &&
        !config_find_category(ctx->cfg, t->categories[i]))
      return fail(ctx, t->line,
                  "tagger '%s': unknown category '%s' (built in: "
                  "hard_prompt, math, creative_writing, "
                  "instruction_following; or a [category NAME])",
                  t->conn.name, t->categories[i]);
  return 0;
}

/* The object a named section's keys fill, made at its first key. */
static void *section_object(struct config_load *ctx,
                            const struct config_section *s,
                            const char *name) {
  if (ctx->obj && ctx->obj_line == ctx->section_line)
    return ctx->obj;
  if (s->find(ctx->cfg, name)) {
    fail(ctx, ctx->section_line, "%s '%s' is defined twice", s->name, name);
    return NULL;
  }
  ctx->obj = s->add(ctx, name);
  ctx->obj_line = ctx->section_line;
  return ctx->obj;
}

/* One "name = value" of the section named section (whole). */
static int key_read(struct config_load *ctx, const char *section,
                    const char *name, const char *value) {
  if (!utf8_valid(name, strlen(name)))
    return fail(ctx, ctx->line, "the key is not valid UTF-8");
  if (!utf8_valid(value, strlen(value)))
    return fail(ctx, ctx->line, "%s: the value is not valid UTF-8", name);
  const char *object = NULL;
  const struct config_section *s = section_find(section, &object);
  if (!s && !*section)
    return fail(ctx, ctx->line, "key '%s' outside of any section", name);
  if (!s)
    return fail(ctx, ctx->section_line, "unknown section [%s]", section);
  void *obj = s->find ? section_object(ctx, s, object) : ctx->cfg;
  if (!obj)
    return -1;
  for (size_t t = 0; t < sizeof s->tables / sizeof s->tables[0]; t++) {
    const struct config_table *table = &s->tables[t];
    for (const struct config_key *k = table->keys; k && k->name; k++)
      if (!strcmp(k->name, name))
        return key_set(ctx, k, (char *)obj + table->base, value);
  }
  return fail(ctx, ctx->line, "unknown key '%s' in [%s]", name, section);
}

/* libinih's handler: 1 goes on, 0 stops. */
static int on_key(void *user, const char *section, const char *name,
                  const char *value) {
  struct config_load *ctx = user;
  if (ctx->failed)
    return 0;
  return key_read(ctx, whole_section(ctx, section), name, value) == 0;
}

/* Sections without keys, which never reach the handler: a known one, and
 * a named one whose name has an object. */
static int headers_check(struct config_load *ctx) {
  for (size_t i = 0; i < ctx->n_headers; i++) {
    const char *h = ctx->headers[i].name, *name = NULL;
    int line = ctx->headers[i].line;
    const struct config_section *s = section_find(h, &name);
    if (!s) {
      /* in full, as it always was here (fail() would cut a name this
       * long at 511 bytes, as it does for a section with keys) */
      snprintf(ctx->err, ctx->errlen, "%s:%d: unknown section [%s]",
               ctx->file, line, h);
      ctx->failed = 1;
      return -1;
    }
    if (s->find && !s->find(ctx->cfg, name))
      return fail(ctx, line, "%s '%s' has no %s", s->name, name,
                  strcmp(s->name, "category") ? "base_url" : "question");
  }
  return 0;
}

/* A [model] or [judge] once read (what: which): it has a base_url, and
 * its upstream model id is its name unless given. */
static int conn_check(struct config_load *ctx, struct model_config *m,
                      const char *what) {
  if (!m->base_url)
    return fail(ctx, m->line, "%s '%s' has no base_url", what, m->name);
  if (!m->upstream)
    return set_string(ctx, &m->upstream, m->name);
  return 0;
}

int config_load(struct config *cfg, const char *file, char *err,
                size_t errlen) {
  struct config_load ctx = {
      .cfg = cfg, .file = file, .err = err, .errlen = errlen};
  nowait_check("config_load (a reload reads files)");
  pthread_once(&inih_once, inih_setup);
  ctx.f = fopen(file, "r");
  if (!ctx.f) {
    snprintf(err, errlen, "%s: cannot open: %s", file, strerror(errno));
    return -1;
  }
  int rc = ini_parse_stream(reader, &ctx, on_key, &ctx);
  fclose(ctx.f);
  if (ctx.failed) /* by the reader or a key */
    rc = -1;
  else if (rc) /* libinih's own: a syntax error's line, or < 0 */
    rc = fail(&ctx, rc > 0 ? rc : ctx.line, "syntax error");
  if (!rc)
    rc = headers_check(&ctx);
  for (size_t i = 0; !rc && i < cfg->n_models; i++)
    rc = conn_check(&ctx, &cfg->models[i], "model");
  for (size_t i = 0; !rc && i < cfg->n_judges; i++)
    rc = conn_check(&ctx, &cfg->judges[i].conn, "judge");
  for (size_t i = 0; !rc && i < cfg->n_taggers; i++)
    rc = conn_check(&ctx, &cfg->taggers[i].conn, "tagger");
  for (size_t i = 0; !rc && i < cfg->n_taggers; i++)
    rc = tagger_check(&ctx, &cfg->taggers[i]);
  for (size_t i = 0; !rc && i < cfg->n_categories; i++)
    if (!cfg->categories[i].question)
      rc = fail(&ctx, cfg->categories[i].line, "category '%s' has no question",
                cfg->categories[i].name);
  if (!rc)
    rc = set_string(&ctx, &cfg->path, file);
  for (size_t i = 0; i < ctx.n_headers; i++)
    free(ctx.headers[i].name);
  free(ctx.headers);
  return rc;
}
