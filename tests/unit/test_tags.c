/* Battle tags: the token rule, the language of prompts in the languages of
 * the language boards, the heuristic categories and refusals. */
#include "check.h"
#include "tag/categories.h"
#include "tag/language.h"
#include "tag/llm.h"
#include "tag/style_count.h"

static const char *lang(const char *s) {
  static char out[8];
  detect_language(s, strlen(s), out);
  return out;
}

static size_t tok(const char *s) { return (size_t)style_tokens(s, strlen(s)); }

int main(void) {
  /* tokens, by the one rule (tag/style_count.h) */
  CHECK(tok("") == 0);
  CHECK(tok("   \n\t") == 0);
  CHECK(tok("the") == 1);
  CHECK(tok("tokenizer") == 2);
  CHECK(tok("internationalization") == 4);
  CHECK(tok("2026") == 2);
  CHECK(tok("Hello, world!") == 4);           /* Hello , world ! */
  CHECK(tok("привет") == 1);                  /* 6 letters: 1 */
  CHECK(tok("你好世界") == 4);                /* one a character */
  CHECK(tok("안녕하세요") == 5);
  CHECK(tok("こんにちは") == 5);
  CHECK(tok("a\xff" "b") == 1);               /* an invalid byte is a letter */
  CHECK(tok("🙂🙂") == 2);

  /* languages: real sentences, short as arena prompts are */
  CHECK_STR(lang("What is the capital of Australia?"), "en");
  CHECK_STR(lang("¿Por qué el cielo es azul durante el día?"), "es");
  CHECK_STR(lang("Warum ist der Himmel am Abend manchmal rot?"), "de");
  CHECK_STR(lang("Écris un court poème sur la mer la nuit."), "fr");
  CHECK_STR(lang("Объясни теорию относительности простыми словами."), "ru");
  CHECK_STR(lang("밤바다에 대한 짧은 시를 써 주세요."), "ko");
  CHECK_STR(lang("夜の海についての短い詩を書いてください。"), "ja");
  CHECK_STR(lang("用简单的话解释一下相对论。"), "zh");
  CHECK_STR(lang("用簡單的話解釋一下相對論。"), "zh");  /* traditional */
  CHECK_STR(lang(""), "und");
  CHECK_STR(lang("12345 !!!"), "und");
  CHECK_STR(lang("ok"), "und");

  /* categories from prompts */
  const char *p1[] = {"Write a haiku about rain"};
  size_t t = 0;
  CHECK(prompt_tags(p1, 1, &t) == TAG_NO_SHORT && t == 5);
  const char *p2[] = {"hi"};
  CHECK(prompt_tags(p2, 1, &t) == 0 && t == 1);
  const char *p3[] = {"Fix this:\n```\nint main() { return 0 }\n```",
                      "and now explain it"};
  CHECK(prompt_tags(p3, 2, NULL) ==
        (TAG_CODING | TAG_MULTI_TURN | TAG_NO_SHORT));
  char big[4000];
  size_t off = 0;
  for (int i = 0; i < 600; i++)
    off += (size_t)snprintf(big + off, sizeof big - off, "%s", "word ");
  const char *p4[] = {big};
  CHECK(prompt_tags(p4, 1, &t) == (TAG_LONG_QUERY | TAG_NO_SHORT) &&
        t == 600);
  CHECK(is_coding("How do I sort a list in Python?"));
  CHECK(is_coding("for (int i = 0; i < n; i++) {"));
  CHECK(is_coding("def f(x):\n    return x"));
  CHECK(is_coding("SELECT * FROM users WHERE id = 1"));
  CHECK(is_coding("파이썬 코드를 설명해 줘"));
  CHECK(is_coding("如何用代码实现快速排序？"));
  CHECK(is_coding("Wie schreibe ich eine verkettete Liste in C?"));
  CHECK(!is_coding("What is the capital of Australia?"));
  CHECK(!is_coding("Write a short poem about the sea at night."));
  CHECK(!is_coding("Erzähl mir einen Witz über Katzen."));
  CHECK(!is_coding("夜の海についての短い詩を書いてください。"));
  CHECK(!is_coding("Give me five ideas for a birthday party; thanks"));
  CHECK(!is_coding(NULL));
  for (int i = 0; i < TAG_N_HEURISTIC; i++)
    CHECK(heuristic_tag_name(i) != NULL);
  CHECK(heuristic_tag_name(TAG_N_HEURISTIC) == NULL);
  CHECK_STR(heuristic_tag_name(4), "no_refusal");

  /* refusals */
  CHECK(is_refusal("I'm sorry, but I can't help with that."));
  CHECK(is_refusal("  **I cannot help with** making weapons."));
  CHECK(is_refusal("As an AI language model, I do not have opinions."));
  CHECK(is_refusal("Lo siento, pero no puedo ayudarte con eso."));
  CHECK(is_refusal("죄송하지만 그 요청은 도와드릴 수 없습니다."));
  CHECK(is_refusal("申し訳ありませんが、お手伝いできません。"));
  CHECK(is_refusal("抱歉，我无法提供这方面的帮助。"));
  CHECK(!is_refusal("Sure! Here is a haiku about rain."));
  CHECK(!is_refusal("The capital of Australia is Canberra."));
  CHECK(!is_refusal(NULL));
  /* LLM tags: replies read strictly */
  int sc = 0;
  CHECK(llm_tag_parse(LLM_TAG_CRITERIA, "[1, 2, 3, 4, 5, 6]", &sc) == 1 && sc == 6);
  CHECK(llm_tag_parse(LLM_TAG_CRITERIA, "[1,2,3,4,5,6,7]", &sc) == 1 && sc == 7);
  CHECK(llm_tag_parse(LLM_TAG_CRITERIA, "Criteria met: [2, 5]", &sc) == 0 && sc == 2);
  CHECK(llm_tag_parse(LLM_TAG_CRITERIA, "[]", &sc) == 0 && sc == 0);
  CHECK(llm_tag_parse(LLM_TAG_CRITERIA, "[1, 1, 1, 1, 1, 1]", &sc) == 0 && sc == 1);
  CHECK(llm_tag_parse(LLM_TAG_CRITERIA, "[1, 2] or maybe [3]", &sc) == -1 && sc == -1);
  CHECK(llm_tag_parse(LLM_TAG_CRITERIA, "none of them", &sc) == -1);
  CHECK(llm_tag_parse(LLM_TAG_CRITERIA, "[8, 9]", &sc) == -1);
  CHECK(llm_tag_parse(LLM_TAG_SCORE, "<score>4</score>", &sc) == 1 && sc == 4);
  CHECK(llm_tag_parse(LLM_TAG_SCORE, "<score> 5 </score>", &sc) == 1 && sc == 5);
  CHECK(llm_tag_parse(LLM_TAG_SCORE, "<score>[3]</score>", &sc) == 0 && sc == 3);
  CHECK(llm_tag_parse(LLM_TAG_SCORE, "<score>7</score>", &sc) == -1);
  CHECK(llm_tag_parse(LLM_TAG_SCORE, "<score>2</score><score>5</score>", &sc) == -1);
  CHECK(llm_tag_parse(LLM_TAG_SCORE, "4", &sc) == -1);
  CHECK(llm_tag_parse(LLM_TAG_YESNO, "<decision>\nyes\n</decision>", &sc) == 1 && sc == -1);
  CHECK(llm_tag_parse(LLM_TAG_YESNO, "<DECISION>No</DECISION>", NULL) == 0);
  CHECK(llm_tag_parse(LLM_TAG_YESNO, "<decision>maybe</decision>", NULL) == -1);
  CHECK(llm_tag_parse(LLM_TAG_YESNO, "yes", NULL) == -1);
  CHECK(llm_tag_parse(LLM_TAG_YESNO, NULL, NULL) == -1);
  CHECK(llm_tag_builtin("math") && llm_tag_builtin("math")->kind == LLM_TAG_YESNO);
  CHECK(llm_tag_builtin("hard_prompt")->kind == LLM_TAG_CRITERIA);
  CHECK(llm_tag_builtin("instruction_following")->kind == LLM_TAG_SCORE);
  CHECK(llm_tag_builtin("creative_writing") != NULL && llm_tag_builtin("coding") == NULL);
  char sys[512];
  llm_tag_custom_system("Does it ask for legal advice?", sys, sizeof sys);
  CHECK(strstr(sys, "Does it ask for legal advice?") && strstr(sys, "<decision>"));
  const char *turns[] = {"first", "second"};
  json_t *m = llm_tag_messages(sys, turns, 2);
  CHECK(m && json_array_size(m) == 2);
  CHECK_STR(json_string_value(json_object_get(json_array_get(m, 1), "content")),
            "<user_prompt>\nfirst\n\nsecond\n</user_prompt>");
  json_decref(m);
  return check_done("test_tags");
}
