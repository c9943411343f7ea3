/* The error table: every error the API answers with. An error names what
 * went wrong once; its entry gives the HTTP status, the code sent in
 * {"error": {"code", "message"}}, the message, the Retry-After seconds and
 * whether the connection is closed after it (GNU Taler's error codes are
 * the model: the status follows from the code, never chosen by hand).
 *
 * A code has one entry of its own, with its status, Retry-After and close;
 * an entry may instead be a message of another entry's code (`of`), for a
 * code that says different things in different places (`internal`,
 * `rate_limited`): its status, code, Retry-After and close are that
 * code's. So a code always means the same status.
 *
 * The lower layers (storage, battle) return these values as their result
 * codes, EC_OK (0) for success, so that a handler answers with what they
 * return: `rc = f(); if (rc) return reply_ec(rq, rc);`. Pure data, no
 * I/O: the HTTP layer (http/reply.h) builds the replies. */
#ifndef AGON_ERRORS_ERRORS_H
#define AGON_ERRORS_ERRORS_H

enum agon_ec {
  EC_OK = 0,

  /* the HTTP layer, before any handler (http/server.c) */
  EC_URI_TOO_LONG,
  EC_HEADERS_TOO_LARGE,
  EC_BAD_FRAMING,
  EC_FRAMING_CONTENT_LENGTHS,   /* bad_framing */
  EC_FRAMING_LENGTH_AND_CODING, /* bad_framing */
  EC_FRAMING_CODINGS,           /* bad_framing */
  EC_FRAMING_HTTP_1_0,          /* bad_framing */
  EC_UNSUPPORTED_TRANSFER_ENCODING,
  EC_NOT_FOUND,
  EC_METHOD_NOT_ALLOWED,
  EC_CROSS_ORIGIN,
  EC_UNSUPPORTED_MEDIA_TYPE,
  EC_BODY_TOO_LARGE,
  EC_INVALID_JSON,
  EC_OVERLOADED,

  /* request bodies (http/body.c) */
  EC_INVALID_PROMPT,
  EC_PROMPT_TOO_LONG,
  EC_INVALID_WINNER,
  EC_INVALID_MODELS,
  EC_INVALID_REASON,
  EC_INVALID_COMMENT,
  EC_COMMENT_TOO_LONG,

  /* limits per client and of the whole server */
  EC_RATE_LIMITED,
  EC_TOO_MANY_PROMPTS,          /* rate_limited */
  EC_TOO_MANY_VOTES,            /* rate_limited */
  EC_TOO_MANY_ADMIN_FAILURES,   /* rate_limited */
  EC_TOO_MANY_STREAMS,
  EC_TOO_MANY_BATTLE_STREAMS,   /* too_many_streams */
  EC_BUSY,

  /* battles, turns and votes (battle/arena.h, storage/store.h) */
  EC_BATTLE_NOT_FOUND,
  EC_NOT_YOUR_BATTLE,
  EC_BATTLE_NOT_READY,
  EC_TOO_MANY_TURNS,
  EC_MODELS_UNAVAILABLE,
  EC_NOT_ENOUGH_MODELS,
  EC_ALREADY_VOTED,
  EC_STILL_STREAMING,
  EC_BATTLE_FAILED,
  EC_VOTE_NOT_QUEUED,
  EC_DIRECT_CHAT_VOTE,
  EC_IDENTICAL_ANSWERS,
  EC_BATTLE_NOT_VOTED,
  EC_SHARE_NOT_FOUND,
  EC_TOO_MANY_SHARES,
  EC_NOT_QUEUED,                /* unavailable */
  EC_REGENERATE_NOT_READY,      /* battle_not_ready */
  EC_TOO_MANY_REGENERATIONS,
  EC_NOTHING_TO_RETRY,
  EC_TOO_MANY_RETRIES,
  EC_NO_REPLACEMENT_MODEL,

  /* storage */
  EC_STORAGE_UNAVAILABLE,       /* a new battle */
  EC_STORAGE_TURN,              /* storage_unavailable */
  EC_STORAGE_VOTE,              /* storage_unavailable */
  EC_STORAGE_FAILING,

  /* several nodes (http/forward.c) */
  EC_FORWARD_REFUSED,
  EC_FORWARD_LOOP,
  EC_NODE_GONE,
  EC_NODE_UNREACHABLE,

  /* the leaderboard */
  EC_INVALID_SORT,
  EC_INVALID_JUDGE,
  EC_INVALID_SOURCE,
  EC_INVALID_LANGUAGE,
  EC_INVALID_CATEGORY,
  EC_INVALID_STYLE,
  EC_SLICE_WITH_JUDGE,
  EC_INVALID_OPEN_WEIGHTS,
  EC_OPEN_WEIGHTS_COMBINATION,
  EC_INVALID_AS_OF,
  EC_AS_OF_COMBINATION,

  /* the admin API */
  EC_ADMIN_DISABLED,
  EC_UNAUTHORIZED,
  EC_RELOAD_FAILED,
  EC_INVALID_STATUS,
  EC_INVALID_TIME,
  EC_INVALID_LIMIT,
  EC_INVALID_OFFSET,
  EC_INVALID_FORMAT,
  EC_INVALID_ENABLED,
  EC_MODEL_NOT_FOUND,

  /* what should not happen: out of memory, a failing read */
  EC_INTERNAL,
  EC_INTERNAL_SESSION,          /* internal */
  EC_INTERNAL_BATTLE,           /* internal */
  EC_INTERNAL_TURN,             /* internal */
  EC_INTERNAL_VOTE,             /* internal */
  EC_INTERNAL_LIST,             /* internal */
  EC_INTERNAL_JUDGES,           /* internal */
  EC_INTERNAL_JUDGE,            /* internal */
  EC_INTERNAL_BENCHMARKS,       /* internal */
  EC_INTERNAL_ASSET,            /* internal */

  EC_COUNT
};

/* Retry-After of an entry whose caller gives the seconds (a rate limit's
 * wait): see reply_ec_retry. */
#define EC_RETRY_GIVEN (-1)

/* One error, as sent. */
struct ec_info {
  unsigned status;     /* HTTP status, 400 to 599 */
  const char *code;    /* error.code: lowercase snake_case */
  const char *message; /* error.message, unless the caller gives one; it
                          never names a model before its battle is voted */
  int retry;           /* Retry-After seconds; 0: none; EC_RETRY_GIVEN */
  int close;           /* Connection: close (the request's framing cannot
                          be trusted, it is too big, or load is shed) */
};

/* The error ec as sent: a message entry with its code's status, code,
 * Retry-After and close. EC_OK and values out of range give EC_INTERNAL,
 * so that a reply is always an error. This function can't fail. */
struct ec_info ec_info(enum agon_ec ec);

/* The entry whose code ec uses: ec itself when it has a code of its own.
 * EC_OK for EC_OK and values out of range (for the unit test). */
enum agon_ec ec_of(enum agon_ec ec);

#endif
