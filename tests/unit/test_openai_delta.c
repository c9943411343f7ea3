/* OpenAI-compatible chunks: the answer's text, the reasoning kept apart
 * from it (reasoning_content, reasoning), tool calls, and the same for a
 * whole non-streamed completion. */
#include <stdlib.h>

#include "upstream/openai_delta.h"
#include "check.h"

static void parse(const char *data, struct openai_delta *c) {
  openai_delta_parse(data, strlen(data), c);
}

static int text_is(const struct openai_delta *c, const char *want) {
  return c->text && c->text_len == strlen(want) &&
         !memcmp(c->text, want, c->text_len);
}

static int reasoning_is(const struct openai_delta *c, const char *want) {
  return c->reasoning && c->reasoning_len == strlen(want) &&
         !memcmp(c->reasoning, want, c->reasoning_len);
}

static void check_deltas(void) {
  struct openai_delta c;
  parse("{\"choices\":[{\"index\":0,\"delta\":{\"content\":\"hi\"},"
        "\"finish_reason\":null}]}",
        &c);
  CHECK(c.kind == DELTA_DATA && text_is(&c, "hi") && !c.reasoning &&
        !c.tool_calls && !c.finished);
  openai_delta_release(&c);

  /* DeepSeek and vLLM: reasoning_content while content is null */
  parse("{\"choices\":[{\"delta\":{\"content\":null,"
        "\"reasoning_content\":\"let me think\"}}]}",
        &c);
  CHECK(c.kind == DELTA_DATA && !c.text && reasoning_is(&c, "let me think"));
  openai_delta_release(&c);

  /* vLLM's newer name, OpenRouter's */
  parse("{\"choices\":[{\"delta\":{\"reasoning\":\"hmm \\u00e9\"}}]}", &c);
  CHECK(!c.text && reasoning_is(&c, "hmm \xc3\xa9"));
  openai_delta_release(&c);

  /* both: reasoning_content; a null one gives way to reasoning */
  parse("{\"choices\":[{\"delta\":{\"reasoning_content\":\"a\","
        "\"reasoning\":\"b\",\"content\":\"c\"}}]}",
        &c);
  CHECK(reasoning_is(&c, "a") && text_is(&c, "c"));
  openai_delta_release(&c);
  parse("{\"choices\":[{\"delta\":{\"reasoning_content\":null,"
        "\"reasoning\":\"b\"}}]}",
        &c);
  CHECK(reasoning_is(&c, "b"));
  openai_delta_release(&c);

  /* tool calls: a non-empty array, or the older function_call */
  parse("{\"choices\":[{\"delta\":{\"content\":null,\"tool_calls\":[{"
        "\"index\":0,\"function\":{\"arguments\":\"{\\\"q\"}}]}}]}",
        &c);
  CHECK(!c.text && !c.reasoning && c.tool_calls);
  openai_delta_release(&c);
  parse("{\"choices\":[{\"delta\":{\"tool_calls\":[]}}]}", &c);
  CHECK(!c.tool_calls);
  openai_delta_release(&c);
  parse("{\"choices\":[{\"delta\":{\"function_call\":{\"name\":\"f\"}}}]}",
        &c);
  CHECK(c.tool_calls);
  openai_delta_release(&c);

  parse("{\"choices\":[{\"delta\":{},\"finish_reason\":\"tool_calls\"}]}", &c);
  CHECK(c.kind == DELTA_DATA && c.finished && !c.text && !c.tool_calls);
  openai_delta_release(&c);
  parse("{\"choices\":[],\"usage\":{\"total_tokens\":3}}", &c);
  CHECK(c.kind == DELTA_DATA && !c.text && !c.reasoning && !c.finished);
  openai_delta_release(&c);
  parse("[DONE]", &c);
  CHECK(c.kind == DELTA_DONE);
  openai_delta_release(&c);
  parse("{\"error\":{\"message\":\"overloaded\"}}", &c);
  CHECK(c.kind == DELTA_ERROR && strstr(c.detail, "overloaded"));
  openai_delta_release(&c);
  parse("{not json", &c);
  CHECK(c.kind == DELTA_MALFORMED);
  openai_delta_release(&c);
}

static void completion(const char *data, struct openai_delta *c) {
  openai_delta_parse_completion(data, strlen(data), c);
}

static void check_completions(void) {
  struct openai_delta c;
  completion("{\"choices\":[{\"message\":{\"role\":\"assistant\","
             "\"content\":\"whole\"},\"finish_reason\":\"stop\"}]}",
             &c);
  CHECK(c.kind == DELTA_DATA && text_is(&c, "whole") && c.finished);
  openai_delta_release(&c);

  /* no text: reasoning only, or tool calls only; content null or absent */
  completion("{\"choices\":[{\"message\":{\"content\":null,"
             "\"reasoning_content\":\"thought\"}}]}",
             &c);
  CHECK(c.kind == DELTA_DATA && !c.text && reasoning_is(&c, "thought"));
  openai_delta_release(&c);
  completion("{\"choices\":[{\"message\":{\"tool_calls\":[{\"id\":\"x\"}]}}]}",
             &c);
  CHECK(c.kind == DELTA_DATA && !c.text && c.tool_calls);
  openai_delta_release(&c);

  const char *malformed[] = {
      "{\"choices\":[]}",
      "{\"choices\":[{\"message\":\"text\"}]}",
      "{\"choices\":[{\"message\":{\"content\":42}}]}",
      "{\"choices\":[{\"message\":{\"content\":[{\"text\":\"parts\"}]}}]}",
      "[1]",
      "",
  };
  for (size_t i = 0; i < sizeof malformed / sizeof malformed[0]; i++) {
    completion(malformed[i], &c);
    CHECK(c.kind == DELTA_MALFORMED);
    openai_delta_release(&c);
  }
  completion("{\"error\":{\"message\":\"no\"}}", &c);
  CHECK(c.kind == DELTA_ERROR);
  openai_delta_release(&c);
}

int main(void) {
  check_deltas();
  check_completions();
  return check_done("test_chunk");
}
