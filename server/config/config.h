/* The configuration: its model and defaults (config.c), read from an INI
 * file with libinih (load.c). */
#ifndef AGON_CONFIG_H
#define AGON_CONFIG_H

#include <stdatomic.h>
#include <stddef.h>

#define AGON_MAX_MODEL_NAME 100 /* bytes of a model or judge name */
#define AGON_MAX_BASE_URL 2000  /* bytes of a base_url */
#define AGON_CONFIG_MAX_LINE 4096 /* bytes of a config line, without its
                                     line ending */

/* One [model NAME] section. */
/* The most stop sequences a model may send (OpenAI's limit), and the
 * longest one, in bytes. */
#define AGON_MAX_STOP 4
#define AGON_MAX_STOP_BYTES 256

struct model_config {
  char *name;         /* public name */
  char *base_url;     /* without the trailing "/chat/completions" */
  char *upstream;     /* upstream model id */
  char *api_key_env;  /* NULL when no key */
  char *api_key;      /* read from the environment; never logged or sent
                         anywhere but the model's own base_url */
  double temperature; /* < 0: not sent */
  long max_tokens;    /* 0: not sent */
  double top_p;       /* 0: not sent, else in (0, 1] */
  char **stop;        /* stop sequences sent as given (at most
                         AGON_MAX_STOP), or NULL: not sent */
  size_t n_stop;
  char *system_prompt; /* [model] only: the system message sent first in
                          every request of this model, never shown to
                          anyone; NULL: none */
  long timeout_s;     /* seconds for one whole answer */
  int enabled;
  char **aliases;     /* other names that reveal this model (lowercase) */
  size_t n_aliases;
  struct benchmark_score {
    char name[32];
    double score;
  } *benchmarks;      /* published scores: "benchmarks = arc:71.1 mmlu:66" */
  size_t n_benchmarks;
  /* its card (organization, license, url, open_weights, context, price):
   * public, shown on the leaderboard and /api/models, and beside a
   * battle's names once it is voted, never before */
  struct model_card {
    char *organization;     /* NULL: not given */
    char *license;          /* NULL: not given */
    char *url;              /* an http:// or https:// URL, or NULL */
    char *price;            /* free text, or NULL */
    int open_weights;       /* 0 unless open_weights = true */
    long context;           /* tokens; 0: not given */
  } card;
  int line;           /* line of its section header, for messages */
  /* pairing (rating/pairing.h): how often the arena draws it */
  double weight;      /* > 0; 1 by default */
  double boost;       /* >= 1: weight times this while it is new; 1: none */
  long boost_until;   /* new: fewer counted battles than this */
};

/* [arena] pairing: how a battle's two models are drawn (rating/pairing.h
 * has the rules). */
enum config_pairing {
  CONFIG_PAIRING_UNIFORM,
  CONFIG_PAIRING_WEIGHTED,
  CONFIG_PAIRING_ACTIVE
};

#define AGON_MAX_CARD_TEXT 200 /* bytes of a card's organization, license
                                  or price */
#define AGON_MAX_CARD_URL 2000 /* bytes of a card's url */

enum judge_mode { JUDGE_PAIRWISE, JUDGE_SINGLE };

/* One [judge NAME] section: an LLM that judges battles. */
struct judge_config {
  struct model_config conn;   /* name, base_url, upstream, key, timeout */
  enum judge_mode mode;
  int swap;                   /* pairwise: judge both orders */
  int auto_judge;             /* judge every finished battle */
  long concurrency;           /* requests in flight at most */
  long few_shot;              /* human-voted battles shown as examples */
  char *instructions;         /* prompt_file's text, or NULL: built-in */
  int line;
};

/* One [tagger NAME] section: an LLM that tags battles with categories
 * from their prompts (tag/llm.h), in the background. */
struct tagger_config {
  struct model_config conn;   /* name, base_url, upstream, key, timeout */
  char **categories;          /* what it tags: built-in names and
                                 [category] names; none given: every
                                 built-in one and every [category] */
  size_t n_categories;
  long concurrency;           /* requests in flight at most */
  long retries;               /* more tries of a failed or unreadable reply */
  int auto_tag;               /* tag each battle once it is voted */
  int line;
};

/* One [category NAME] section: the admin's own category, a yes/no
 * question about the prompts that taggers ask. */
struct category_config {
  char *name;                 /* [a-z0-9_], not a built-in tag's name */
  char *question;
  int line;
};

struct config {
  atomic_int refs;             /* for config_new'd ones: see config_unref */
  long generation;             /* set by the arena when it installs it */
  char *path;                  /* file it came from, NULL for built-ins */
  char *listen;                /* HOST:PORT */
  char *database;
  double elo_k;                /* [ratings] k */
  long bootstrap_rounds;       /* [ratings] bootstrap_rounds */
  long min_battles;            /* [ratings] min_battles: fewer is provisional */
  long dedup_min_count;        /* [ratings] dedup_min_count: de-duplication
                                  leaves a prompt's votes out of the BT
                                  boards only past this many; 0: off */
  char **identity_words;       /* [ratings] identity_words (lowercase) */
  size_t n_identity_words;
  long max_prompt_chars;       /* [limits] */
  long max_answer_bytes;
  long max_turns;
  long max_regenerations;      /* per turn, before the vote; 0 = off */
  long max_side_retries;       /* failed sides replaced per battle; 0 = off */
  long max_body_bytes;
  long battles_per_minute;     /* per client; 0 = unlimited */
  long votes_per_minute;
  long admin_failures_per_minute; /* per client: then 429, right token or not */
  long max_concurrent_battles; /* streaming turns, whole server; 0 = no cap,
                                  -1 = derived from the descriptor budget */
  long max_connections;        /* HTTP connections; 0 = no cap (libmicro-
                                  httpd's own), -1 = from the budget */
  long max_connections_per_client; /* per peer address; 0 = no cap */
  long max_streams_per_client; /* open event streams per client; 0 = no cap */
  long max_streams_per_battle; /* open event streams per battle; 0 = no cap */
  long max_buffered_bytes;     /* event bytes held for slow readers, whole
                                  server; 0 = no cap */
  long max_cached_battle_bytes; /* bytes of the battles kept in memory that
                                  are not streaming (a cache of the
                                  database), whole server; 0 = no cap */
  long request_timeout;        /* seconds for a whole request (headers and
                                  body) to arrive; 0 = none */
  double min_vote_seconds;     /* faster votes are stored, not counted */
  long max_vote_comment_chars; /* a vote's comment, in characters */
  long max_shares;             /* shared battles kept (each a link) */
  long own_board_sessions;     /* sessions whose own board is in memory */
  long own_board_votes;        /* the votes of one session's own board */
  char **vote_reasons;         /* [arena]: the reasons a vote may give */
  size_t n_vote_reasons;
  long idle_timeout;           /* seconds before an idle connection closes */
  char **trusted_proxies;      /* [server]: peers whose X-Forwarded-For counts */
  size_t n_trusted_proxies;
  char *admin_token_env;       /* [server]: variable holding the admin token */
  char *admin_token;           /* its value; NULL: admin API off */
  char **allowed_origins;      /* [server]: other origins allowed to POST */
  size_t n_allowed_origins;
  /* several nodes on one database (docs/deploy.md) */
  char *node;                  /* [server] node: this node's name
                                  (util/node_id.h); NULL: the default, from
                                  the host name and the port */
  char *internal_url;          /* [server] internal_url: where the other
                                  nodes reach this one (http://HOST:PORT,
                                  no path); NULL: from the listen address */
  long lease_seconds;          /* [cluster] lease_seconds: a node whose
                                  lease is older is dead, its streaming
                                  battles failed */
  long heartbeat_seconds;      /* [cluster] heartbeat_seconds: how often a
                                  node renews its lease (and reaps) */
  enum config_pairing pairing; /* [arena] pairing */
  struct model_config *models;
  size_t n_models;
  struct judge_config *judges;
  size_t n_judges;
  struct tagger_config *taggers;
  size_t n_taggers;
  struct category_config *categories;
  size_t n_categories;
};

/* The tagger or category named name, or NULL. */
const struct tagger_config *config_find_tagger(const struct config *cfg,
                                               const char *name);
const struct category_config *config_find_category(const struct config *cfg,
                                                   const char *name);

/* Whether tagger t tags the category named name. */
int tagger_tags(const struct tagger_config *t, const char *name);

/* The storage engines a `database` value can name. */
enum config_db_engine { CONFIG_DB_SQLITE, CONFIG_DB_POSTGRES };

/* Which engine the `database` value names, with in *where (when not NULL)
 * what that engine opens: a postgresql:// or postgres:// URL, or a libpq
 * keyword string ("host=db dbname=agon"), is PostgreSQL, *where the whole
 * value; anything else is a SQLite file, *where its path (an "sqlite:"
 * before it dropped). Pure: no file is looked at. */
enum config_db_engine config_db_engine(const char *database,
                                       const char **where);

/* What a message may say of the `database` value: a SQLite file's path
 * (without "sqlite:"), or the PostgreSQL URL or keyword string with its
 * password, wherever it stands (a URL's user:PASSWORD@, a password=
 * parameter or keyword, quoted or not), as "[redacted]"; cut to fit out
 * (len bytes). Pure; never fails. */
void config_db_display(const char *database, char *out, size_t len);

/* The engine's name, for messages ("SQLite", "PostgreSQL"). */
const char *config_db_engine_name(enum config_db_engine e);

/* Whether this build can store with engine e: SQLite always; PostgreSQL
 * in a build with libpq (meson's `postgres` feature: AGON_HAVE_POSTGRES,
 * storage/postgres/). */
int config_db_engine_built(enum config_db_engine e);

/* The judge named name, or NULL. */
const struct judge_config *config_find_judge(const struct config *cfg,
                                             const char *name);

/* Fill cfg with the defaults. Never fails. */
void config_init(struct config *cfg);

/* Read FILE into cfg (which config_init prepared). On error returns -1 and
 * writes "FILE:LINE: what is wrong" into err (errlen bytes). */
int config_load(struct config *cfg, const char *file, char *err,
                size_t errlen);

/* Add a model with the given settings (copied). Returns 0, or -1 when the
 * name is already taken. */
int config_add_model(struct config *cfg, const struct model_config *m);

/* The model named name, or NULL. */
const struct model_config *config_find_model(const struct config *cfg,
                                             const char *name);

/* Number of enabled models. */
size_t config_enabled_models(const struct config *cfg);

/* Deep copies and release of one model's settings. */
void model_config_copy(struct model_config *dst,
                       const struct model_config *src);
void model_config_release(struct model_config *m);

void config_release(struct config *cfg);

/* Free a list of n strings (identity_words, aliases...). Accepts NULL. */
void config_strings_free(char **items, size_t n);

/* A configuration on the heap with the defaults and one reference; NULL
 * when out of memory. Shared read-only once published: a reload makes a
 * new one, and readers keep theirs until they drop it. */
struct config *config_new(void);

/* A deep copy of cfg with one reference (for run-time changes); NULL when
 * out of memory. */
struct config *config_copy(const struct config *cfg);
void config_ref(struct config *cfg);
/* Drop a reference; the last frees it. Accepts NULL. */
void config_unref(struct config *cfg);

#endif
