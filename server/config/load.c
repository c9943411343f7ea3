/* Reading a config file into struct config: libinih, our line reader and
 * the checks of every key. */
#include "config/config.h"

#include <curl/curl.h>
#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/listen.h"
#include "util/util.h"

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

/* Parser state: libinih does not report line numbers to the handler, so
 * our reader counts the lines it hands over, and remembers where the
 * latest section header was. */
struct load_ctx {
  struct config *cfg;
  FILE *f;
  const char *file;
  int line;            /* line number of the line last read */
  int in_key;          /* a key line since the latest header: an indented
                          line now continues its value, as in libinih */
  int section_line;    /* line of the latest "[...]" */
  char *section;       /* its name, whole (libinih's may be cut) */
  struct model_config *model; /* model being filled, NULL elsewhere */
  struct judge_config *judge; /* judge being filled, NULL elsewhere */
  char *err;
  size_t errlen;
  int failed;
  struct header {
    char *name;
    int line;
  } *headers;          /* every section header, for sections with no keys */
  size_t n_headers;
};

static int fail(struct load_ctx *ctx, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

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

/* Note a section header, name (n bytes), read at the current line.
 * Returns 0, or -1 when out of memory. */
static int add_header(struct load_ctx *ctx, const char *name, size_t n) {
  struct header *h =
      realloc(ctx->headers, (ctx->n_headers + 1) * sizeof *h);
  if (!h)
    return -1;
  ctx->headers = h;
  h = &h[ctx->n_headers];
  h->name = strndup(name, n);
  if (!h->name)
    return -1;
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
  struct load_ctx *ctx = stream;
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
  if (add_header(ctx, p + 1, (size_t)(end - p - 1))) {
    fail(ctx, ctx->line, "out of memory");
    return NULL;
  }
  const char *h = ctx->section;
  if (!utf8_valid(h, strlen(h))) {
    fail(ctx, ctx->line, "the section name is not valid UTF-8");
    return NULL;
  }
  const char *kind = !strncmp(h, "model ", 6)   ? "model"
                     : !strncmp(h, "judge ", 6) ? "judge"
                                                : NULL;
  const char *why = kind ? bad_name(h + 6 + strspn(h + 6, " ")) : NULL;
  if (why) {
    fail(ctx, ctx->line, "the %s name %s", kind, why);
    return NULL;
  }
  return str;
}

/* The whole name of the section libinih passes as section, which it may
 * have cut. */
static const char *whole_section(const struct load_ctx *ctx,
                                 const char *section) {
  if (ctx->section && !strncmp(ctx->section, section, strlen(section)))
    return ctx->section;
  return section;
}

/* Record the first error (always returns 0, inih's "stop" value). */
static int fail(struct load_ctx *ctx, int line, const char *fmt, ...) {
  if (!ctx->failed) {
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    snprintf(ctx->err, ctx->errlen, "%s:%d: %s", ctx->file, line, msg);
    ctx->failed = 1;
  }
  return 0;
}

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

static int set_string(char **dst, const char *v) {
  char *s = strdup(v);
  if (!s)
    return -1;
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
        goto fail;
      items = more;
      items[count] = strndup(a, (size_t)(b - a));
      if (!items[count])
        goto fail;
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
fail:
  for (size_t i = 0; i < count; i++)
    free(items[i]);
  free(items);
  return -1;
}

static int handle_server(struct load_ctx *ctx, const char *name,
                         const char *value) {
  struct config *cfg = ctx->cfg;
  if (!strcmp(name, "listen")) {
    char host[256];
    uint16_t port;
    if (parse_listen(value, host, sizeof host, &port))
      return fail(ctx, ctx->line,
                  "listen: expected HOST:PORT or [IPV6]:PORT with a port "
                  "from 0 to 65535, got '%s'%s",
                  value, "");
    return set_string(&cfg->listen, value) == 0;
  }
  if (!strcmp(name, "trusted_proxies")) {
    config_strings_free(cfg->trusted_proxies, cfg->n_trusted_proxies);
    cfg->trusted_proxies = NULL;
    cfg->n_trusted_proxies = 0;
    return parse_list(value, &cfg->trusted_proxies, &cfg->n_trusted_proxies) == 0;
  }
  if (!strcmp(name, "allowed_origins")) {
    config_strings_free(cfg->allowed_origins, cfg->n_allowed_origins);
    cfg->allowed_origins = NULL;
    cfg->n_allowed_origins = 0;
    return parse_list(value, &cfg->allowed_origins, &cfg->n_allowed_origins) == 0;
  }
  if (!strcmp(name, "admin_token_env")) {
    const char *tok = getenv(value);
    if (!*value)
      return fail(ctx, ctx->line, "admin_token_env: empty variable name%s%s",
                  "", "");
    if (!tok || strlen(tok) < 16)
      return fail(ctx, ctx->line,
                  "admin_token_env: environment variable '%s' is not set or "
                  "shorter than 16 characters%s",
                  value, "");
    return set_string(&cfg->admin_token_env, value) == 0 &&
           set_string(&cfg->admin_token, tok) == 0;
  }
  if (!strcmp(name, "database")) {
    if (!*value)
      return fail(ctx, ctx->line, "database: empty path%s%s", "", "");
    return set_string(&cfg->database, value) == 0;
  }
  return fail(ctx, ctx->line, "unknown key '%s' in [%s]", name, "server");
}

static int handle_ratings(struct load_ctx *ctx, const char *name,
                          const char *value) {
  struct config *cfg = ctx->cfg;
  if (!strcmp(name, "k")) {
    if (parse_double(value, 0.0, 1000.0, &cfg->elo_k))
      return fail(ctx, ctx->line, "k: expected a number from 0 to 1000, got '%s'%s",
                  value, "");
    return 1;
  }
  if (!strcmp(name, "bootstrap_rounds")) {
    if (parse_long(value, 0, 100000, &cfg->bootstrap_rounds))
      return fail(ctx, ctx->line,
                  "bootstrap_rounds: expected 0 to 100000, got '%s'%s", value,
                  "");
    return 1;
  }
  if (!strcmp(name, "min_battles")) {
    if (parse_long(value, 0, 1000000000, &cfg->min_battles))
      return fail(ctx, ctx->line,
                  "min_battles: expected a whole number >= 0, got '%s'%s",
                  value, "");
    return 1;
  }
  if (!strcmp(name, "identity_words")) {
    config_strings_free(cfg->identity_words, cfg->n_identity_words);
    cfg->identity_words = NULL;
    cfg->n_identity_words = 0;
    return parse_list(value, &cfg->identity_words, &cfg->n_identity_words) == 0;
  }
  return fail(ctx, ctx->line, "unknown key '%s' in [%s]", name, "ratings");
}

static int handle_limits(struct load_ctx *ctx, const char *name,
                         const char *value) {
  struct {
    const char *key;
    long *dst;
    long min, max;
  } keys[] = {
      {"max_prompt_chars", &ctx->cfg->max_prompt_chars, 1, 10000000},
      {"max_answer_bytes", &ctx->cfg->max_answer_bytes, 1024, 1L << 30},
      {"max_turns", &ctx->cfg->max_turns, 1, 1000},
      {"max_body_bytes", &ctx->cfg->max_body_bytes, 1024, 1L << 30},
      {"battles_per_minute", &ctx->cfg->battles_per_minute, 0, 1000000},
      {"votes_per_minute", &ctx->cfg->votes_per_minute, 0, 1000000},
      {"admin_failures_per_minute", &ctx->cfg->admin_failures_per_minute, 1,
       1000000},
      {"max_concurrent_battles", &ctx->cfg->max_concurrent_battles, 0, 10000000},
      {"idle_timeout", &ctx->cfg->idle_timeout, 1, 86400},
      {"max_connections", &ctx->cfg->max_connections, 0, 1000000},
      {"max_connections_per_client", &ctx->cfg->max_connections_per_client, 0,
       1000000},
      {"max_streams_per_client", &ctx->cfg->max_streams_per_client, 0, 1000000},
      {"max_streams_per_battle", &ctx->cfg->max_streams_per_battle, 0, 1000000},
      {"max_buffered_bytes", &ctx->cfg->max_buffered_bytes, 0, 1L << 40},
      {"request_timeout", &ctx->cfg->request_timeout, 0, 3600},
  };
  if (!strcmp(name, "min_vote_seconds")) {
    if (parse_double(value, 0.0, 3600.0, &ctx->cfg->min_vote_seconds))
      return fail(ctx, ctx->line,
                  "min_vote_seconds: expected seconds from 0 to 3600, got '%s'%s",
                  value, "");
    return 1;
  }
  for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
    if (strcmp(name, keys[i].key))
      continue;
    if (parse_long(value, keys[i].min, keys[i].max, keys[i].dst))
      return fail(ctx, ctx->line, "%s: expected a whole number in range, got '%s'",
                  name, value);
    return 1;
  }
  return fail(ctx, ctx->line, "unknown key '%s' in [%s]", name, "limits");
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

/* A connection key shared by [model] and [judge] sections: 1 (taken),
 * 0 (error recorded) or -1 (not a connection key). */
static int conn_key(struct load_ctx *ctx, struct model_config *m,
                    const char *name, const char *value) {
  if (!strcmp(name, "base_url")) {
    char why[128];
    if (check_base_url(value, why, sizeof why))
      return fail(ctx, ctx->line, "base_url: %s, got '%s'", why, value);
    if (set_string(&m->base_url, value))
      return 0;
    size_t n = strlen(m->base_url);
    while (n > 0 && m->base_url[n - 1] == '/')
      m->base_url[--n] = '\0';
    return 1;
  }
  if (!strcmp(name, "model")) {
    if (!*value)
      return fail(ctx, ctx->line, "model: empty upstream model id%s%s", "", "");
    return set_string(&m->upstream, value) == 0;
  }
  if (!strcmp(name, "api_key_env")) {
    if (!*value)
      return fail(ctx, ctx->line, "api_key_env: empty variable name%s%s", "",
                  "");
    const char *key = getenv(value);
    if (!key || !*key)
      return fail(ctx, ctx->line,
                  "api_key_env: environment variable '%s' is not set%s", value,
                  "");
    return set_string(&m->api_key_env, value) == 0 &&
           set_string(&m->api_key, key) == 0;
  }
  if (!strcmp(name, "temperature")) {
    if (parse_double(value, 0.0, 2.0, &m->temperature))
      return fail(ctx, ctx->line,
                  "temperature: expected a number from 0 to 2, got '%s'%s",
                  value, "");
    return 1;
  }
  if (!strcmp(name, "max_tokens")) {
    if (parse_long(value, 1, 10000000, &m->max_tokens))
      return fail(ctx, ctx->line,
                  "max_tokens: expected a positive whole number, got '%s'%s",
                  value, "");
    return 1;
  }
  if (!strcmp(name, "timeout")) {
    if (parse_long(value, 1, 86400, &m->timeout_s))
      return fail(ctx, ctx->line,
                  "timeout: expected seconds from 1 to 86400, got '%s'%s",
                  value, "");
    return 1;
  }
  return -1;
}

static int handle_model(struct load_ctx *ctx, const char *section,
                        const char *name, const char *value) {
  struct config *cfg = ctx->cfg;
  if (!ctx->model || ctx->model->line != ctx->section_line) {
    const char *mname = section + 6; /* after "model "; the reader
                                        checked the name */
    while (*mname == ' ')
      mname++;
    if (config_find_model(cfg, mname))
      return fail(ctx, ctx->section_line, "model '%s' is defined twice%s",
                  mname, "");
    struct model_config m = {0};
    m.name = (char *)mname;
    m.temperature = -1;
    m.timeout_s = 120;
    m.enabled = 1;
    m.line = ctx->section_line;
    if (config_add_model(cfg, &m))
      return 0;
    ctx->model = &cfg->models[cfg->n_models - 1];
  }
  struct model_config *m = ctx->model;
  int r = conn_key(ctx, m, name, value);
  if (r >= 0)
    return r;
  if (!strcmp(name, "benchmarks")) {
    free(m->benchmarks);
    m->benchmarks = NULL;
    m->n_benchmarks = 0;
    char *copy = strdup(value);
    if (!copy)
      return 0;
    char *save = NULL;
    for (char *tok = strtok_r(copy, " \t,", &save); tok;
         tok = strtok_r(NULL, " \t,", &save)) {
      char *colon = strrchr(tok, ':');
      double v;
      if (!colon || colon == tok || (size_t)(colon - tok) >= 32 ||
          parse_double(colon + 1, -1e9, 1e9, &v)) {
        int bad = fail(ctx, ctx->line,
                       "benchmarks: expected NAME:NUMBER items, got '%s'%s",
                       tok, "");
        free(copy);
        return bad;
      }
      struct benchmark_score *b =
          realloc(m->benchmarks, (m->n_benchmarks + 1) * sizeof *b);
      if (!b) {
        free(copy);
        return 0;
      }
      m->benchmarks = b;
      b = &b[m->n_benchmarks++];
      snprintf(b->name, sizeof b->name, "%.*s", (int)(colon - tok), tok);
      b->score = v;
    }
    free(copy);
    return 1;
  }
  if (!strcmp(name, "aliases")) {
    config_strings_free(m->aliases, m->n_aliases);
    m->aliases = NULL;
    m->n_aliases = 0;
    return parse_list(value, &m->aliases, &m->n_aliases) == 0;
  }
  if (!strcmp(name, "enabled")) {
    if (parse_bool(value, &m->enabled))
      return fail(ctx, ctx->line, "enabled: expected true or false, got '%s'%s",
                  value, "");
    return 1;
  }
  return fail(ctx, ctx->line, "unknown key '%s' in [%s]", name, section);
}

static int read_prompt_file(struct load_ctx *ctx, const char *value,
                            char **out) {
  char path[4096];
  if (value[0] != '/' && strrchr(ctx->file, '/'))
    snprintf(path, sizeof path, "%.*s/%s",
             (int)(strrchr(ctx->file, '/') - ctx->file), ctx->file, value);
  else
    snprintf(path, sizeof path, "%s", value);
  FILE *f = fopen(path, "rb");
  if (!f)
    return fail(ctx, ctx->line, "prompt_file: cannot open '%s': %s", path,
                strerror(errno));
  char *text = calloc(1, 65537);
  size_t n = text ? fread(text, 1, 65536, f) : 0;
  int more = text && fgetc(f) != EOF;
  fclose(f);
  if (!text)
    return 0;
  if (more || n == 0 || !utf8_valid(text, n)) {
    free(text);
    return fail(ctx, ctx->line, "prompt_file: '%s' is %s", path,
                more       ? "larger than 64 KiB"
                : n == 0   ? "empty"
                           : "not valid UTF-8");
  }
  free(*out);
  *out = text;
  return 1;
}

static int handle_judge(struct load_ctx *ctx, const char *section,
                        const char *name, const char *value) {
  struct config *cfg = ctx->cfg;
  if (!ctx->judge || ctx->judge->line != ctx->section_line) {
    const char *jname = section + 6; /* after "judge "; the reader
                                        checked the name */
    while (*jname == ' ')
      jname++;
    if (config_find_judge(cfg, jname))
      return fail(ctx, ctx->section_line, "judge '%s' is defined twice%s",
                  jname, "");
    struct judge_config *j =
        realloc(cfg->judges, (cfg->n_judges + 1) * sizeof *j);
    if (!j)
      return 0;
    cfg->judges = j;
    j = &cfg->judges[cfg->n_judges++];
    memset(j, 0, sizeof *j);
    j->conn.name = strdup(jname);
    j->conn.temperature = 0;
    j->conn.timeout_s = 120;
    j->conn.enabled = 1;
    j->conn.line = ctx->section_line;
    j->mode = JUDGE_PAIRWISE;
    j->swap = 1;
    j->concurrency = 4;
    j->line = ctx->section_line;
    ctx->judge = j;
  }
  struct judge_config *j = ctx->judge;
  int r = conn_key(ctx, &j->conn, name, value);
  if (r >= 0)
    return r;
  if (!strcmp(name, "mode")) {
    if (!strcmp(value, "pairwise"))
      j->mode = JUDGE_PAIRWISE;
    else if (!strcmp(value, "single"))
      j->mode = JUDGE_SINGLE;
    else
      return fail(ctx, ctx->line, "mode: expected pairwise or single, got '%s'%s",
                  value, "");
    return 1;
  }
  if (!strcmp(name, "swap") || !strcmp(name, "auto")) {
    int *dst = !strcmp(name, "swap") ? &j->swap : &j->auto_judge;
    if (parse_bool(value, dst))
      return fail(ctx, ctx->line, "%s: expected true or false, got '%s'", name,
                  value);
    return 1;
  }
  if (!strcmp(name, "concurrency")) {
    if (parse_long(value, 1, 1000, &j->concurrency))
      return fail(ctx, ctx->line,
                  "concurrency: expected 1 to 1000, got '%s'%s", value, "");
    return 1;
  }
  if (!strcmp(name, "few_shot")) {
    if (parse_long(value, 0, 50, &j->few_shot))
      return fail(ctx, ctx->line, "few_shot: expected 0 to 50, got '%s'%s",
                  value, "");
    return 1;
  }
  if (!strcmp(name, "prompt_file"))
    return read_prompt_file(ctx, value, &j->instructions);
  return fail(ctx, ctx->line, "unknown key '%s' in [%s]", name, section);
}

static int handler(void *user, const char *cut_section, const char *name,
                   const char *value) {
  struct load_ctx *ctx = user;
  if (ctx->failed)
    return 0;
  const char *section = whole_section(ctx, cut_section);
  if (!utf8_valid(name, strlen(name)))
    return fail(ctx, ctx->line, "the key is not valid UTF-8");
  if (!utf8_valid(value, strlen(value)))
    return fail(ctx, ctx->line, "%s: the value is not valid UTF-8", name);
  if (strncmp(section, "model ", 6))
    ctx->model = NULL;
  if (strncmp(section, "judge ", 6))
    ctx->judge = NULL;
  if (!strncmp(section, "judge ", 6))
    return handle_judge(ctx, section, name, value);
  if (!strcmp(section, "server"))
    return handle_server(ctx, name, value);
  if (!strcmp(section, "ratings"))
    return handle_ratings(ctx, name, value);
  if (!strcmp(section, "limits"))
    return handle_limits(ctx, name, value);
  if (!strncmp(section, "model ", 6))
    return handle_model(ctx, section, name, value);
  if (!*section)
    return fail(ctx, ctx->line, "key '%s' outside of any section%s", name, "");
  return fail(ctx, ctx->section_line, "unknown section [%s]%s", section, "");
}

int config_load(struct config *cfg, const char *file, char *err,
                size_t errlen) {
  struct load_ctx ctx = {0};
  int rc = -1;
  ctx.cfg = cfg;
  ctx.file = file;
  ctx.err = err;
  ctx.errlen = errlen;
  pthread_once(&inih_once, inih_setup);
  ctx.f = fopen(file, "r");
  if (!ctx.f) {
    snprintf(err, errlen, "%s: cannot open: %s", file, strerror(errno));
    return -1;
  }
  int parsed = ini_parse_stream(reader, &ctx, handler, &ctx);
  fclose(ctx.f);
  if (ctx.failed)
    goto out;
  if (parsed != 0) {
    snprintf(err, errlen, "%s:%d: syntax error", file,
             parsed > 0 ? parsed : ctx.line);
    goto out;
  }
  /* sections without keys never reach the handler */
  for (size_t i = 0; i < ctx.n_headers; i++) {
    const char *h = ctx.headers[i].name;
    int line = ctx.headers[i].line;
    if (!strncmp(h, "model ", 6) || !strncmp(h, "judge ", 6)) {
      const char *name = h + 6 + strspn(h + 6, " ");
      int model = h[0] == 'm';
      if (model ? !config_find_model(cfg, name)
                : !config_find_judge(cfg, name)) {
        snprintf(err, errlen, "%s:%d: %s '%s' has no base_url", file, line,
                 model ? "model" : "judge", name);
        goto out;
      }
    } else if (strcmp(h, "server") && strcmp(h, "ratings") &&
               strcmp(h, "limits")) {
      snprintf(err, errlen, "%s:%d: unknown section [%s]", file, line, h);
      goto out;
    }
  }
  for (size_t i = 0; i < cfg->n_models; i++) {
    struct model_config *m = &cfg->models[i];
    if (!m->base_url) {
      snprintf(err, errlen, "%s:%d: model '%s' has no base_url", file, m->line,
               m->name);
      goto out;
    }
    if (!m->upstream && set_string(&m->upstream, m->name))
      goto out;
  }
  for (size_t i = 0; i < cfg->n_judges; i++) {
    struct judge_config *j = &cfg->judges[i];
    if (!j->conn.base_url) {
      snprintf(err, errlen, "%s:%d: judge '%s' has no base_url", file, j->line,
               j->conn.name);
      goto out;
    }
    if (!j->conn.upstream && set_string(&j->conn.upstream, j->conn.name))
      goto out;
  }
  if (set_string(&cfg->path, file))
    goto out;
  rc = 0;
out:
  for (size_t i = 0; i < ctx.n_headers; i++)
    free(ctx.headers[i].name);
  free(ctx.headers);
  return rc;
}
