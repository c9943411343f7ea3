#include "errors/errors.h"

/* An entry: a code of its own (status, code, message, retry, close), or a
 * message of the code of entry `of`. */
struct ec_entry {
  enum agon_ec of;
  unsigned status;
  const char *code;
  const char *message;
  int retry;
  int close;
};

#define MESSAGE_OF(base, text) {.of = (base), .message = (text)}

static const struct ec_entry table[EC_COUNT] = {
    /* the HTTP layer */
    [EC_URI_TOO_LONG] = {.status = 414, .code = "uri_too_long", .close = 1,
                         .message = "the URI is too long or has too many "
                                    "query arguments"},
    [EC_HEADERS_TOO_LARGE] = {.status = 431, .code = "headers_too_large",
                              .close = 1,
                              .message = "the header fields are too large"},
    [EC_BAD_FRAMING] = {.status = 400, .code = "bad_framing", .close = 1,
                        .message = "a body must be framed by Content-Length "
                                   "or by Transfer-Encoding: chunked alone"},
    [EC_FRAMING_CONTENT_LENGTHS] =
        MESSAGE_OF(EC_BAD_FRAMING, "more than one Content-Length header"),
    [EC_FRAMING_LENGTH_AND_CODING] =
        MESSAGE_OF(EC_BAD_FRAMING,
                   "Content-Length and Transfer-Encoding together"),
    [EC_FRAMING_CODINGS] =
        MESSAGE_OF(EC_BAD_FRAMING, "more than one Transfer-Encoding header"),
    [EC_FRAMING_HTTP_1_0] =
        MESSAGE_OF(EC_BAD_FRAMING, "Transfer-Encoding in an HTTP/1.0 request"),
    [EC_UNSUPPORTED_TRANSFER_ENCODING] =
        {.status = 501, .code = "unsupported_transfer_encoding", .close = 1,
         .message = "no transfer coding but chunked is supported"},
    [EC_NOT_FOUND] = {.status = 404, .code = "not_found",
                      .message = "no such resource"},
    [EC_METHOD_NOT_ALLOWED] = {.status = 405, .code = "method_not_allowed",
                               .message = "this method is not allowed here"},
    [EC_CROSS_ORIGIN] = {.status = 403, .code = "cross_origin",
                         .message = "cross-site requests are not accepted"},
    [EC_UNSUPPORTED_MEDIA_TYPE] =
        {.status = 415, .code = "unsupported_media_type",
         .message = "the body must be sent as Content-Type: application/json"},
    [EC_BODY_TOO_LARGE] = {.status = 413, .code = "body_too_large",
                           .message = "the body is too large"},
    [EC_INVALID_JSON] = {.status = 400, .code = "invalid_json",
                         .message = "the body must be a JSON object"},
    [EC_OVERLOADED] = {.status = 503, .code = "overloaded", .retry = 1,
                       .close = 1,
                       .message = "the server is at its connection limit; "
                                  "try again shortly"},

    /* request bodies */
    [EC_INVALID_PROMPT] = {.status = 400, .code = "invalid_prompt",
                           .message = "\"prompt\" must be a string"},
    [EC_PROMPT_TOO_LONG] = {.status = 400, .code = "prompt_too_long",
                            .message = "\"prompt\" is too long"},
    [EC_INVALID_WINNER] = {.status = 400, .code = "invalid_winner",
                           .message = "\"winner\" must be one of \"a\", "
                                      "\"b\", \"tie\", \"bothbad\""},
    [EC_INVALID_MODELS] = {.status = 400, .code = "invalid_models",
                           .message = "\"models\" must be an array of one "
                                      "or two distinct enabled model "
                                      "names"},
    [EC_INVALID_REASON] = {.status = 400, .code = "invalid_reason",
                           .message = "\"reasons\" must be an array of "
                                      "distinct reasons of the arena's "
                                      "list"},
    [EC_INVALID_COMMENT] = {.status = 400, .code = "invalid_comment",
                            .message = "\"comment\" must be a string"},
    [EC_COMMENT_TOO_LONG] = {.status = 400, .code = "comment_too_long",
                             .message = "\"comment\" is too long"},

    /* limits */
    [EC_RATE_LIMITED] = {.status = 429, .code = "rate_limited",
                         .retry = EC_RETRY_GIVEN,
                         .message = "too many requests from this client; try "
                                    "again later"},
    [EC_TOO_MANY_PROMPTS] =
        MESSAGE_OF(EC_RATE_LIMITED,
                   "too many prompts from this client; try again later"),
    [EC_TOO_MANY_VOTES] =
        MESSAGE_OF(EC_RATE_LIMITED,
                   "too many votes from this client; try again later"),
    [EC_TOO_MANY_ADMIN_FAILURES] =
        MESSAGE_OF(EC_RATE_LIMITED, "too many failed admin authentications "
                                    "from this client; try again later"),
    [EC_TOO_MANY_STREAMS] = {.status = 429, .code = "too_many_streams",
                             .retry = 5,
                             .message = "too many event streams open from "
                                        "this client"},
    [EC_TOO_MANY_BATTLE_STREAMS] =
        MESSAGE_OF(EC_TOO_MANY_STREAMS,
                   "too many event streams open on this battle"),
    [EC_BUSY] = {.status = 503, .code = "busy", .retry = 5,
                 .message = "the arena is at its limit of concurrent "
                            "battles; try again shortly"},

    /* battles, turns and votes */
    [EC_BATTLE_NOT_FOUND] = {.status = 404, .code = "battle_not_found",
                             .message = "no such battle"},
    [EC_NOT_YOUR_BATTLE] = {.status = 403, .code = "not_your_battle",
                            .message = "this battle belongs to another "
                                       "session"},
    [EC_BATTLE_NOT_READY] = {.status = 409, .code = "battle_not_ready",
                             .message = "a follow-up needs a battle that is "
                                        "ready and not voted"},
    [EC_TOO_MANY_TURNS] = {.status = 409, .code = "too_many_turns",
                           .message = "this battle has reached its turn "
                                      "limit"},
    [EC_MODELS_UNAVAILABLE] = {.status = 409, .code = "models_unavailable",
                               .message = "this battle's models are no "
                                          "longer available"},
    [EC_NOT_ENOUGH_MODELS] = {.status = 503, .code = "not_enough_models",
                              .message = "fewer than two models are "
                                         "enabled"},
    [EC_ALREADY_VOTED] = {.status = 409, .code = "already_voted",
                          .message = "this battle has already been voted on"},
    [EC_STILL_STREAMING] = {.status = 409, .code = "still_streaming",
                            .message = "the answers are not complete yet"},
    [EC_BATTLE_FAILED] = {.status = 409, .code = "battle_failed",
                          .message = "a failed battle cannot be voted on"},
    [EC_DIRECT_CHAT_VOTE] = {.status = 409, .code = "direct_chat",
                             .message = "a direct chat has one answer: "
                                        "there is nothing to vote on"},
    [EC_IDENTICAL_ANSWERS] = {.status = 409, .code = "identical_answers",
                              .message = "both answers are the same, so "
                                         "this vote cannot count; start a "
                                         "new battle"},
    [EC_REGENERATE_NOT_READY] =
        MESSAGE_OF(EC_BATTLE_NOT_READY, "a regenerate needs a battle that "
                                        "is ready and not voted"),
    [EC_TOO_MANY_REGENERATIONS] = {.status = 409,
                                   .code = "too_many_regenerations",
                                   .message = "this turn has been "
                                              "regenerated as often as "
                                              "allowed"},
    [EC_NOTHING_TO_RETRY] = {.status = 409, .code = "nothing_to_retry",
                             .message = "only a battle whose latest turn "
                                        "has exactly one failed side can be "
                                        "retried"},
    [EC_TOO_MANY_RETRIES] = {.status = 409, .code = "too_many_retries",
                             .message = "this battle has replaced failed "
                                        "sides as often as allowed"},
    [EC_NO_REPLACEMENT_MODEL] = {.status = 409,
                                 .code = "no_replacement_model",
                                 .message = "no other enabled model can "
                                            "replace the failed side"},
    [EC_VOTE_NOT_QUEUED] = {.status = 503, .code = "unavailable", .retry = 1,
                            .message = "the vote could not be queued; try "
                                       "again"},
    [EC_BATTLE_NOT_VOTED] = {.status = 409, .code = "battle_not_voted",
                             .message = "only a voted battle can be "
                                        "shared"},
    [EC_SHARE_NOT_FOUND] = {.status = 404, .code = "share_not_found",
                            .message = "no such shared battle"},
    [EC_TOO_MANY_SHARES] = {.status = 503, .code = "too_many_shares",
                            .retry = 60,
                            .message = "the arena keeps no more shared "
                                       "battles for now; try again later"},
    [EC_NOT_QUEUED] = MESSAGE_OF(EC_VOTE_NOT_QUEUED,
                                 "the request could not be queued; try "
                                 "again"),

    /* storage */
    [EC_STORAGE_UNAVAILABLE] = {.status = 503, .code = "storage_unavailable",
                                .retry = 5,
                                .message = "the arena cannot store new "
                                           "battles right now; try again "
                                           "shortly"},
    [EC_STORAGE_TURN] =
        MESSAGE_OF(EC_STORAGE_UNAVAILABLE, "the arena cannot store the turn "
                                           "right now; try again shortly"),
    [EC_STORAGE_VOTE] =
        MESSAGE_OF(EC_STORAGE_UNAVAILABLE,
                   "the vote could not be stored right now; it was not "
                   "counted: try again shortly"),
    [EC_STORAGE_FAILING] = {.status = 503, .code = "storage_failing",
                            .retry = 5,
                            .message = "database writes are failing"},

    /* several nodes */
    [EC_FORWARD_REFUSED] = {.status = 403, .code = "forward_refused",
                            .close = 1,
                            .message = "this request says another node "
                                       "forwarded it, but its signature "
                                       "is not one of this arena's nodes'"},
    [EC_FORWARD_LOOP] = {.status = 508, .code = "forward_loop",
                         .message = "another node forwarded this request "
                                    "here, but this node does not run the "
                                    "battle: the nodes table gives its node "
                                    "another node's address"},
    [EC_NODE_GONE] = {.status = 503, .code = "node_gone",
                      .message = "the node that runs this battle is gone: "
                                 "it takes no more turns, and a turn it was "
                                 "streaming fails"},
    [EC_NODE_UNREACHABLE] = {.status = 502, .code = "node_unreachable",
                             .retry = 2,
                             .message = "the node that runs this battle "
                                        "did not answer; try again "
                                        "shortly"},

    /* the leaderboard */
    [EC_INVALID_SORT] = {.status = 400, .code = "invalid_sort",
                         .message = "sort must be \"elo\" or \"bt\""},
    [EC_INVALID_JUDGE] = {.status = 400, .code = "invalid_judge",
                          .message = "source=judge needs judge=NAME of a "
                                     "configured judge"},
    [EC_INVALID_SOURCE] = {.status = 400, .code = "invalid_source",
                           .message = "source must be \"human\" or "
                                      "\"judge\""},
    [EC_INVALID_LANGUAGE] = {.status = 400, .code = "invalid_language",
                             .message = "language must be an ISO 639 code "
                                        "(two or three letters a-z) or "
                                        "\"und\""},
    [EC_INVALID_CATEGORY] = {.status = 400, .code = "invalid_category",
                             .message = "category must be a built-in or "
                                        "configured category: see "
                                        "/api/leaderboard/slices"},
    [EC_INVALID_STYLE] = {.status = 400, .code = "invalid_style",
                          .message = "style must be \"control\" or "
                                     "\"none\""},
    [EC_SLICE_WITH_JUDGE] = MESSAGE_OF(
        EC_INVALID_SOURCE, "slices and style control are boards of the "
                           "human votes: source=judge takes neither"),
    [EC_INVALID_OPEN_WEIGHTS] = {.status = 400,
                                 .code = "invalid_open_weights",
                                 .message = "open_weights must be \"true\" "
                                            "or \"false\""},
    [EC_OPEN_WEIGHTS_COMBINATION] = {
        .status = 400, .code = "open_weights_combination",
        .message = "open_weights=true takes language= and category=, not "
                   "style=control, source=judge or as_of"},
    [EC_INVALID_AS_OF] = {.status = 400, .code = "invalid_as_of",
                          .message = "as_of must be an RFC 3339 UTC time "
                                     "(YYYY-MM-DDTHH:MM:SSZ) or a date "
                                     "(YYYY-MM-DD)"},
    [EC_AS_OF_COMBINATION] = {
        .status = 400, .code = "as_of_combination",
        .message = "as_of gives the whole board of the human votes: it takes "
                   "no language, category, style, source or open_weights"},

    /* the admin API */
    [EC_ADMIN_DISABLED] = {.status = 404, .code = "admin_disabled",
                           .message = "the admin API is off: set [server] "
                                      "admin_token_env"},
    [EC_UNAUTHORIZED] = {.status = 401, .code = "unauthorized",
                         .message = "this needs Authorization: Bearer <admin "
                                    "token>"},
    [EC_RELOAD_FAILED] = {.status = 422, .code = "reload_failed",
                          .message = "the configuration could not be read"},
    [EC_INVALID_STATUS] = {.status = 400, .code = "invalid_status",
                           .message = "status must be streaming, ready, "
                                      "failed or voted"},
    [EC_INVALID_TIME] = {.status = 400, .code = "invalid_time",
                         .message = "since and until take ms since the epoch "
                                    "or YYYY-MM-DDTHH:MM:SSZ"},
    [EC_INVALID_LIMIT] = {.status = 400, .code = "invalid_limit",
                          .message = "limit must be 1 to 1000"},
    [EC_INVALID_OFFSET] = {.status = 400, .code = "invalid_offset",
                           .message = "offset must be a whole number >= 0"},
    [EC_INVALID_FORMAT] = {.status = 400, .code = "invalid_format",
                           .message = "format must be fastchat, jsonl or "
                                      "csv"},
    [EC_INVALID_ENABLED] = {.status = 400, .code = "invalid_enabled",
                            .message = "\"enabled\" must be true or false"},
    [EC_MODEL_NOT_FOUND] = {.status = 404, .code = "model_not_found",
                            .message = "no such model"},

    /* internal */
    [EC_INTERNAL] = {.status = 500, .code = "internal",
                     .message = "internal error"},
    [EC_INTERNAL_SESSION] = MESSAGE_OF(EC_INTERNAL, "cannot create a session"),
    [EC_INTERNAL_BATTLE] = MESSAGE_OF(EC_INTERNAL, "cannot start a battle"),
    [EC_INTERNAL_TURN] = MESSAGE_OF(EC_INTERNAL, "cannot start the turn"),
    [EC_INTERNAL_VOTE] = MESSAGE_OF(EC_INTERNAL, "the vote could not be stored"),
    [EC_INTERNAL_LIST] = MESSAGE_OF(EC_INTERNAL, "cannot list battles"),
    [EC_INTERNAL_JUDGES] =
        MESSAGE_OF(EC_INTERNAL, "cannot read the judges' verdicts"),
    [EC_INTERNAL_JUDGE] =
        MESSAGE_OF(EC_INTERNAL, "cannot read the judge's verdicts"),
    [EC_INTERNAL_BENCHMARKS] =
        MESSAGE_OF(EC_INTERNAL, "cannot read the measured benchmarks"),
    [EC_INTERNAL_ASSET] = MESSAGE_OF(EC_INTERNAL, "asset too large"),
};

enum agon_ec ec_of(enum agon_ec ec) {
  if (ec <= EC_OK || ec >= EC_COUNT)
    return EC_OK;
  return table[ec].of != EC_OK ? table[ec].of : ec;
}

struct ec_info ec_info(enum agon_ec ec) {
  enum agon_ec base = ec_of(ec);
  if (base == EC_OK)
    ec = base = EC_INTERNAL;
  const struct ec_entry *b = &table[base];
  return (struct ec_info){.status = b->status,
                          .code = b->code,
                          .message = table[ec].message,
                          .retry = b->retry,
                          .close = b->close};
}
