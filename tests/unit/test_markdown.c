/* Markdown rendering: GitHub tables and code, and raw HTML only as text. */
#include <stdlib.h>

#include "check.h"
#include "render/markdown.h"

static char *render(const char *md) { return markdown_to_html(md, strlen(md)); }

int main(void) {
  char *h = render("# Title\n\n- one\n- two\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n"
                   "```c\nint x = 1 < 2;\n```\n");
  CHECK(h && strstr(h, "<h1>Title</h1>"));
  CHECK(h && strstr(h, "<li>one</li>"));
  CHECK(h && strstr(h, "<table>") && strstr(h, "<td>1</td>"));
  CHECK(h && strstr(h, "<pre><code class=\"language-c\">int x = 1 &lt; 2;"));
  free(h);

  const char *evil[] = {
      "<script>alert(1)</script>",
      "hello <img src=x onerror=\"alert(1)\"> world",
      "<div onmouseover=alert(1)>block</div>\n",
      "`<script>` and **<b>bold</b>**",
      "<svg/onload=alert(1)>",
  };
  for (size_t i = 0; i < sizeof evil / sizeof evil[0]; i++) {
    h = render(evil[i]);
    CHECK(h != NULL);
    if (!h)
      continue;
    CHECK(!strstr(h, "<script"));
    CHECK(!strstr(h, "<img"));
    CHECK(!strstr(h, "<div"));
    CHECK(!strstr(h, "<svg"));
    CHECK(!strstr(h, "<b>"));
    CHECK(strstr(h, "&lt;") != NULL);
    free(h);
  }
  h = render("");
  CHECK(h && strcmp(h, "") == 0);
  free(h);
  return check_done("test_markdown");
}
