/* The configuration model: defaults, models, copies and references. */
#include "config/config.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static char *dup_or_null(const char *s) { return s ? strdup(s) : NULL; }

void config_init(struct config *cfg) {
  memset(cfg, 0, sizeof *cfg);
  cfg->listen = strdup("127.0.0.1:8080");
  cfg->database = strdup("agon.db");
  cfg->elo_k = 4.0;
  cfg->bootstrap_rounds = 1000;
  cfg->min_battles = 0;
  cfg->dedup_min_count = 100;
  /* Words whose presence in a battle's text reveals who answered, as in
   * FastChat's identity filter. Model names and aliases are added. */
  static const char *const words[] = {
      "chatgpt", "openai", "gpt-3", "gpt-3.5", "gpt-4", "gpt-4o", "claude",
      "anthropic", "gemini", "bard", "google deepmind", "deepmind", "llama",
      "meta ai", "mistral", "mixtral", "qwen", "alibaba cloud", "deepseek",
      "vicuna", "lmsys", "grok", "xai", "cohere", "command-r", "phi-3",
      "microsoft"};
  cfg->identity_words = calloc(sizeof words / sizeof words[0], sizeof(char *));
  if (cfg->identity_words) {
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
      cfg->identity_words[cfg->n_identity_words++] = strdup(words[i]);
  }
  static const char *const reasons[] = {"more accurate", "clearer", "safer",
                                       "better formatted"};
  cfg->vote_reasons = calloc(sizeof reasons / sizeof reasons[0],
                             sizeof(char *));
  if (cfg->vote_reasons) {
    for (size_t i = 0; i < sizeof reasons / sizeof reasons[0]; i++)
      cfg->vote_reasons[cfg->n_vote_reasons++] = strdup(reasons[i]);
  }
  cfg->max_vote_comment_chars = 500;
  cfg->max_shares = 100000;
  cfg->own_board_sessions = 10000;
  cfg->own_board_votes = 1000;
  cfg->max_prompt_chars = 30000;
  cfg->max_answer_bytes = 1024 * 1024;
  cfg->max_turns = 20;
  cfg->max_regenerations = 3;
  cfg->max_side_retries = 2;
  cfg->max_body_bytes = 256 * 1024;
  cfg->min_vote_seconds = 1.0;
  cfg->idle_timeout = 60;
  cfg->lease_seconds = 10;
  cfg->heartbeat_seconds = 2;
  /* Safe on the internet with no [limits] at all: every limit has a
   * default; an admin's 0 means "no limit" (see config.h). */
  cfg->battles_per_minute = 20;
  cfg->votes_per_minute = 60;
  cfg->max_concurrent_battles = -1;        /* from the descriptor budget */
  cfg->max_connections = -1;               /* from the descriptor budget */
  cfg->max_connections_per_client = 64;
  cfg->max_streams_per_client = 16;
  cfg->max_streams_per_battle = 4;
  cfg->max_buffered_bytes = 64L * 1024 * 1024;
  cfg->max_cached_battle_bytes = 256L * 1024 * 1024;
  cfg->request_timeout = 10;
  cfg->admin_failures_per_minute = 10;
  /* weighted with every weight 1 and no boost draws as uniform did */
  cfg->pairing = CONFIG_PAIRING_WEIGHTED;
}

void config_strings_free(char **items, size_t n) {
  for (size_t i = 0; i < n; i++)
    free(items[i]);
  free(items);
}

int config_add_model(struct config *cfg, const struct model_config *m) {
  if (config_find_model(cfg, m->name))
    return -1;
  struct model_config *p =
      realloc(cfg->models, (cfg->n_models + 1) * sizeof *p);
  if (!p)
    return -1;
  cfg->models = p;
  model_config_copy(&cfg->models[cfg->n_models++], m);
  return 0;
}

const struct model_config *config_find_model(const struct config *cfg,
                                             const char *name) {
  for (size_t i = 0; i < cfg->n_models; i++)
    if (!strcmp(cfg->models[i].name, name))
      return &cfg->models[i];
  return NULL;
}

size_t config_enabled_models(const struct config *cfg) {
  size_t n = 0;
  for (size_t i = 0; i < cfg->n_models; i++)
    n += cfg->models[i].enabled != 0;
  return n;
}

void model_config_copy(struct model_config *dst,
                       const struct model_config *src) {
  *dst = *src;
  dst->name = dup_or_null(src->name);
  dst->base_url = dup_or_null(src->base_url);
  dst->upstream = dup_or_null(src->upstream);
  dst->api_key_env = dup_or_null(src->api_key_env);
  dst->api_key = dup_or_null(src->api_key);
  dst->aliases = NULL;
  dst->n_aliases = 0;
  dst->system_prompt = dup_or_null(src->system_prompt);
  dst->stop = NULL;
  dst->n_stop = 0;
  if (src->n_stop) {
    dst->stop = calloc(src->n_stop, sizeof(char *));
    for (size_t i = 0; dst->stop && i < src->n_stop; i++)
      dst->stop[dst->n_stop++] = strdup(src->stop[i]);
  }
  dst->card.organization = dup_or_null(src->card.organization);
  dst->card.license = dup_or_null(src->card.license);
  dst->card.url = dup_or_null(src->card.url);
  dst->card.price = dup_or_null(src->card.price);
  dst->benchmarks = NULL;
  dst->n_benchmarks = 0;
  if (src->n_benchmarks) {
    dst->benchmarks = malloc(src->n_benchmarks * sizeof *dst->benchmarks);
    if (dst->benchmarks) {
      memcpy(dst->benchmarks, src->benchmarks,
             src->n_benchmarks * sizeof *dst->benchmarks);
      dst->n_benchmarks = src->n_benchmarks;
    }
  }
  if (src->n_aliases) {
    dst->aliases = calloc(src->n_aliases, sizeof(char *));
    for (size_t i = 0; dst->aliases && i < src->n_aliases; i++)
      dst->aliases[dst->n_aliases++] = strdup(src->aliases[i]);
  }
}

void model_config_release(struct model_config *m) {
  free(m->name);
  free(m->base_url);
  free(m->upstream);
  free(m->api_key_env);
  config_strings_free(m->aliases, m->n_aliases);
  config_strings_free(m->stop, m->n_stop);
  free(m->system_prompt);
  free(m->benchmarks);
  free(m->card.organization);
  free(m->card.license);
  free(m->card.url);
  free(m->card.price);
  if (m->api_key) {
    memset(m->api_key, 0, strlen(m->api_key));
    free(m->api_key);
  }
  memset(m, 0, sizeof *m);
}

void config_release(struct config *cfg) {
  for (size_t i = 0; i < cfg->n_models; i++)
    model_config_release(&cfg->models[i]);
  free(cfg->models);
  for (size_t i = 0; i < cfg->n_judges; i++) {
    model_config_release(&cfg->judges[i].conn);
    free(cfg->judges[i].instructions);
  }
  free(cfg->judges);
  for (size_t i = 0; i < cfg->n_taggers; i++) {
    model_config_release(&cfg->taggers[i].conn);
    config_strings_free(cfg->taggers[i].categories,
                        cfg->taggers[i].n_categories);
  }
  free(cfg->taggers);
  for (size_t i = 0; i < cfg->n_categories; i++) {
    free(cfg->categories[i].name);
    free(cfg->categories[i].question);
  }
  free(cfg->categories);
  config_strings_free(cfg->identity_words, cfg->n_identity_words);
  config_strings_free(cfg->trusted_proxies, cfg->n_trusted_proxies);
  config_strings_free(cfg->allowed_origins, cfg->n_allowed_origins);
  config_strings_free(cfg->vote_reasons, cfg->n_vote_reasons);
  free(cfg->admin_token_env);
  if (cfg->admin_token) {
    memset(cfg->admin_token, 0, strlen(cfg->admin_token));
    free(cfg->admin_token);
  }
  free(cfg->path);
  free(cfg->listen);
  free(cfg->database);
  free(cfg->node);
  free(cfg->internal_url);
  memset(cfg, 0, sizeof *cfg);
}

struct config *config_new(void) {
  struct config *cfg = malloc(sizeof *cfg);
  if (!cfg)
    return NULL;
  config_init(cfg);
  atomic_init(&cfg->refs, 1);
  return cfg;
}

void config_ref(struct config *cfg) { atomic_fetch_add(&cfg->refs, 1); }

void config_unref(struct config *cfg) {
  if (!cfg || atomic_fetch_sub(&cfg->refs, 1) != 1)
    return;
  config_release(cfg);
  free(cfg);
}

static char **copy_list(char **items, size_t n, int *bad) {
  if (!n)
    return NULL;
  char **out = calloc(n, sizeof *out);
  if (!out) {
    *bad = 1;
    return NULL;
  }
  for (size_t i = 0; i < n; i++)
    if (!(out[i] = strdup(items[i])))
      *bad = 1;
  return out;
}

struct config *config_copy(const struct config *src) {
  struct config *c = malloc(sizeof *c);
  if (!c)
    return NULL;
  *c = *src;
  atomic_init(&c->refs, 1);
  c->judges = NULL;
  c->n_judges = 0;
  c->taggers = NULL;
  c->n_taggers = 0;
  c->categories = NULL;
  c->n_categories = 0;
  int bad = 0;
  c->path = dup_or_null(src->path);
  c->listen = dup_or_null(src->listen);
  c->database = dup_or_null(src->database);
  c->node = dup_or_null(src->node);
  c->internal_url = dup_or_null(src->internal_url);
  if ((src->node && !c->node) || (src->internal_url && !c->internal_url))
    bad = 1;
  c->admin_token_env = dup_or_null(src->admin_token_env);
  c->admin_token = dup_or_null(src->admin_token);
  c->identity_words = copy_list(src->identity_words, src->n_identity_words, &bad);
  c->trusted_proxies = copy_list(src->trusted_proxies, src->n_trusted_proxies, &bad);
  c->allowed_origins = copy_list(src->allowed_origins, src->n_allowed_origins, &bad);
  c->vote_reasons = copy_list(src->vote_reasons, src->n_vote_reasons, &bad);
  c->models = calloc(src->n_models + 1, sizeof *c->models);
  c->n_models = 0;
  if (!c->models) {
    bad = 1;
  } else {
    for (size_t i = 0; i < src->n_models; i++)
      model_config_copy(&c->models[c->n_models++], &src->models[i]);
  }
  c->judges = calloc(src->n_judges + 1, sizeof *c->judges);
  c->n_judges = 0;
  if (!c->judges) {
    bad = 1;
  } else {
    for (size_t i = 0; i < src->n_judges; i++) {
      struct judge_config *j = &c->judges[c->n_judges++];
      *j = src->judges[i];
      model_config_copy(&j->conn, &src->judges[i].conn);
      j->instructions = dup_or_null(src->judges[i].instructions);
    }
  }
  c->taggers = calloc(src->n_taggers + 1, sizeof *c->taggers);
  if (!c->taggers) {
    bad = 1;
  } else {
    for (size_t i = 0; i < src->n_taggers; i++) {
      struct tagger_config *t = &c->taggers[c->n_taggers++];
      *t = src->taggers[i];
      model_config_copy(&t->conn, &src->taggers[i].conn);
      t->categories = copy_list(src->taggers[i].categories,
                                src->taggers[i].n_categories, &bad);
    }
  }
  c->categories = calloc(src->n_categories + 1, sizeof *c->categories);
  if (!c->categories) {
    bad = 1;
  } else {
    for (size_t i = 0; i < src->n_categories; i++) {
      struct category_config *k = &c->categories[c->n_categories++];
      *k = src->categories[i];
      k->name = dup_or_null(src->categories[i].name);
      k->question = dup_or_null(src->categories[i].question);
      if (!k->name || !k->question)
        bad = 1;
    }
  }
  if (bad) {
    config_unref(c);
    return NULL;
  }
  return c;
}

const struct tagger_config *config_find_tagger(const struct config *cfg,
                                               const char *name) {
  for (size_t i = 0; i < cfg->n_taggers; i++)
    if (!strcmp(cfg->taggers[i].conn.name, name))
      return &cfg->taggers[i];
  return NULL;
}

const struct category_config *config_find_category(const struct config *cfg,
                                                   const char *name) {
  for (size_t i = 0; i < cfg->n_categories; i++)
    if (!strcmp(cfg->categories[i].name, name))
      return &cfg->categories[i];
  return NULL;
}

int tagger_tags(const struct tagger_config *t, const char *name) {
  if (!t->n_categories)
    return 1;
  for (size_t i = 0; i < t->n_categories; i++)
    if (!strcmp(t->categories[i], name))
      return 1;
  return 0;
}

const struct judge_config *config_find_judge(const struct config *cfg,
                                             const char *name) {
  for (size_t i = 0; i < cfg->n_judges; i++)
    if (!strcmp(cfg->judges[i].conn.name, name))
      return &cfg->judges[i];
  return NULL;
}

/* Whether s starts with a libpq connection keyword and its '=' (blanks
 * around allowed): "host=db dbname=agon", "dbname = agon". */
static int libpq_keywords(const char *s) {
  static const char *const keys[] = {
      "host", "hostaddr", "port", "dbname", "user", "password", "passfile",
      "service", "options", "sslmode", "connect_timeout", "application_name",
      "target_session_attrs", "client_encoding", "gssencmode", "sslrootcert",
      "sslcert", "sslkey", "channel_binding", "require_auth"};
  while (isspace((unsigned char)*s))
    s++;
  size_t n = 0;
  while (s[n] == '_' || islower((unsigned char)s[n]))
    n++;
  const char *p = s + n;
  while (isspace((unsigned char)*p))
    p++;
  if (!n || *p != '=')
    return 0;
  for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
    if (strlen(keys[i]) == n && !strncmp(keys[i], s, n))
      return 1;
  return 0;
}

enum config_db_engine config_db_engine(const char *database,
                                       const char **where) {
  const char *w = database;
  enum config_db_engine e = CONFIG_DB_SQLITE;
  if (!strncasecmp(database, "postgresql://", 13) ||
      !strncasecmp(database, "postgres://", 11) || libpq_keywords(database))
    e = CONFIG_DB_POSTGRES;
  else if (!strncasecmp(database, "sqlite:", 7))
    w = database + 7;
  if (where)
    *where = w;
  return e;
}

/* Append n bytes of s to out (len bytes, *used so far), cut to fit. */
static void put(char *out, size_t len, size_t *used, const char *s,
                size_t n) {
  while (n-- && *used + 1 < len)
    out[(*used)++] = *s++;
  out[*used] = '\0';
}

#define DB_REDACTED "[redacted]"

/* A URL's query (after '?'): each password=VALUE's value redacted. */
static void display_query(const char *q, char *out, size_t len,
                          size_t *used) {
  while (*q) {
    size_t n = strcspn(q, "&");
    if (n >= 9 && !strncasecmp(q, "password=", 9)) {
      put(out, len, used, q, 9);
      put(out, len, used, DB_REDACTED, strlen(DB_REDACTED));
    } else {
      put(out, len, used, q, n);
    }
    q += n;
    if (*q)
      put(out, len, used, q++, 1);
  }
}

/* A keyword string: each password keyword's value (quoted, with its
 * backslash escapes, or up to the next blank) redacted. */
static void display_keywords(const char *s, char *out, size_t len,
                             size_t *used) {
  while (*s) {
    size_t blanks = strspn(s, " \t\n\r\f\v");
    put(out, len, used, s, blanks);
    s += blanks;
    if (!*s)
      break;
    size_t k = strcspn(s, "= \t\n\r\f\v");
    int secret = k == 8 && !strncmp(s, "password", 8);
    const char *eq = s + k + strspn(s + k, " \t\n\r\f\v");
    if (*eq != '=') { /* not a keyword: copied as it is */
      put(out, len, used, s, k ? k : 1);
      s += k ? k : 1;
      continue;
    }
    eq++;
    eq += strspn(eq, " \t\n\r\f\v");
    put(out, len, used, s, (size_t)(eq - s));
    const char *v = eq;
    if (*v == '\'') {
      for (v++; *v && *v != '\''; v++)
        if (*v == '\\' && v[1])
          v++;
      if (*v)
        v++;
    } else {
      v += strcspn(v, " \t\n\r\f\v");
    }
    if (secret)
      put(out, len, used, DB_REDACTED, strlen(DB_REDACTED));
    else
      put(out, len, used, eq, (size_t)(v - eq));
    s = v;
  }
}

void config_db_display(const char *database, char *out, size_t len) {
  size_t used = 0;
  if (!len)
    return;
  out[0] = '\0';
  const char *where;
  if (config_db_engine(database, &where) == CONFIG_DB_SQLITE) {
    put(out, len, &used, where, strlen(where));
    return;
  }
  const char *u = strstr(where, "://");
  if (!u) {
    display_keywords(where, out, len, &used);
    return;
  }
  u += 3;
  put(out, len, &used, where, (size_t)(u - where));
  /* the authority: [user[:password]@]hosts */
  size_t span = strcspn(u, "/?");
  const char *at = NULL;
  for (const char *p = u; p < u + span; p++)
    if (*p == '@')
      at = p;
  if (at) {
    const char *colon = memchr(u, ':', (size_t)(at - u));
    put(out, len, &used, u, (size_t)((colon ? colon : at) - u));
    if (colon)
      put(out, len, &used, ":" DB_REDACTED, strlen(":" DB_REDACTED));
    put(out, len, &used, at, (size_t)(u + span - at));
  } else {
    put(out, len, &used, u, span);
  }
  const char *rest = u + span;
  const char *q = strchr(rest, '?');
  put(out, len, &used, rest, q ? (size_t)(q - rest) : strlen(rest));
  if (q) {
    put(out, len, &used, q, 1);
    display_query(q + 1, out, len, &used);
  }
}

const char *config_db_engine_name(enum config_db_engine e) {
  return e == CONFIG_DB_POSTGRES ? "PostgreSQL" : "SQLite";
}

int config_db_engine_built(enum config_db_engine e) {
#ifdef AGON_HAVE_POSTGRES
  if (e == CONFIG_DB_POSTGRES)
    return 1;
#endif
  return e == CONFIG_DB_SQLITE;
}
