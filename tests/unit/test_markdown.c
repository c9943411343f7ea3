/* Markdown rendering: GitHub tables and code, raw HTML only as text, links
 * only to http, https, mailto and #fragments, and no images. */
#include <stdlib.h>

#include "check.h"
#include "render/markdown.h"

static char *render(const char *md) { return markdown_to_html(md, strlen(md)); }

static size_t count(const char *h, const char *needle) {
  size_t n = 0;
  for (const char *p = h; p && (p = strstr(p, needle)); p += strlen(needle))
    n++;
  return n;
}

/* Links whose target is not allowed: their text stays, in <a> without an
 * href (the page marks those as removed). */
static void check_refused_links(void) {
  const char *refused[] = {
      "[x](javascript:alert(1))",
      "[x](JaVaScRiPt:alert(1))",
      "[x]( javascript:alert(1) )",
      "[x](&#32;javascript:alert(1))",
      "[x](&#x0A;JaVaScRiPt:alert(1))",
      "[x](java&#x09;script:alert(1))",
      "[x](java&#9;script:alert(1))",
      "[x](java&Tab;script:alert(1))",
      "[x](java&NewLine;script:alert(1))",
      "[x](&#x6A;avascript:alert(1))",
      "[x](&#106;avascript:alert(1))",
      "[x](javascript&colon;alert(1))",
      "[x](javascript&#58;alert(1))",
      "[x](&#0;javascript:alert(1))",
      "[x](<java script:alert(1)>)",
      "[x](java\\script:alert(1))",
      "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
      "[x](DATA:text/html,<script>alert(1)</script>)",
      "[x](vbscript:msgbox)",
      "[x](file:///etc/passwd)",
      "[x](/api/admin/export)",
      "[x](//evil.example/)",
      "[x](relative/path)",
      "[x]()",
      "[x](<>)",
      "[x][r]\n\n[r]: javascript:alert(1)\n",
  };
  for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
    char *h = render(refused[i]);
    CHECK(h != NULL);
    if (!h)
      continue;
    if (strstr(h, "href") || !strstr(h, "<a>x</a>"))
      fprintf(stderr, "refused link %zu: %s -> %s", i, refused[i], h);
    CHECK(!strstr(h, "href"));
    CHECK(strstr(h, "<a>x</a>") != NULL);
    free(h);
  }
  /* an autolink with a refused scheme */
  char *h = render("<javascript:alert(1)> and <vbscript:x>");
  CHECK(h && !strstr(h, "href") && strstr(h, "<a>javascript:alert(1)</a>"));
  free(h);
  /* a target longer than any real link */
  size_t n = 80000;
  char *md = malloc(n + 32);
  CHECK(md != NULL);
  if (md) {
    strcpy(md, "[x](https://example.org/");
    size_t k = strlen(md);
    memset(md + k, 'a', n);
    strcpy(md + k + n, ")");
    h = render(md);
    CHECK(h && !strstr(h, "href") && strstr(h, "<a>x</a>"));
    free(h);
    free(md);
  }
}

/* Links that keep their target, written exactly as checked. */
static void check_allowed_links(void) {
  const char *cases[][2] = {
      {"[a](https://example.org/x?a=1&b=2)",
       "<a href=\"https://example.org/x?a=1&amp;b=2\">a</a>"},
      {"[a](http://example.org)", "<a href=\"http://example.org\">a</a>"},
      {"[a](HTTPS://EXAMPLE.ORG/)", "<a href=\"HTTPS://EXAMPLE.ORG/\">a</a>"},
      {"[a]( https://example.org )", "<a href=\"https://example.org\">a</a>"},
      {"[a](mailto:someone@example.org)",
       "<a href=\"mailto:someone@example.org\">a</a>"},
      {"[a](#top)", "<a href=\"#top\">a</a>"},
      {"[a](&#104;ttps://example.org)", "<a href=\"https://example.org\">a</a>"},
      {"[a](https&colon;//example.org)", "<a href=\"https://example.org\">a</a>"},
      {"[a](https://example.org/a&#x09;b)",
       "<a href=\"https://example.org/ab\">a</a>"},
      {"[a](<https://example.org/a b>)",
       "<a href=\"https://example.org/a%20b\">a</a>"},
      {"[a](https://example.org/\\\"q\\'<x>)",
       "<a href=\"https://example.org/%22q%27%3Cx%3E\">a</a>"},
      {"[a](https://example.org/caf\xc3\xa9)",
       "<a href=\"https://example.org/caf%C3%A9\">a</a>"},
      {"[a](https://example.org/&copy;)",
       "<a href=\"https://example.org/&amp;copy;\">a</a>"},
      {"[a](https://example.org \"a \\\"title\\\" <b>\")",
       "<a href=\"https://example.org\" title=\"a &quot;title&quot; &lt;b&gt;\">a</a>"},
      {"see www.example.com", "<a href=\"http://www.example.com\">www.example.com</a>"},
      {"mail someone@example.org",
       "<a href=\"mailto:someone@example.org\">someone@example.org</a>"},
      {"<https://example.org/auto>",
       "<a href=\"https://example.org/auto\">https://example.org/auto</a>"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char *h = render(cases[i][0]);
    if (!h || !strstr(h, cases[i][1]))
      fprintf(stderr, "allowed link %zu: %s -> %s", i, cases[i][0],
              h ? h : "(null)\n");
    CHECK(h && strstr(h, cases[i][1]));
    free(h);
  }
  /* a link inside a link's text adds no second <a> */
  char *h = render("[see http://inner.example](http://outer.example)");
  CHECK(h && count(h, "<a") == 1 && count(h, "</a>") == 1);
  CHECK(h && strstr(h, "<a href=\"http://outer.example\">see http://inner.example</a>"));
  free(h);
}

/* No image is loaded: its alt text, as a link to it when it may be one. */
static void check_images(void) {
  const char *cases[][2] = {
      {"![i](http://evil/x.png)",
       "<a class=\"md-image\" href=\"http://evil/x.png\">i</a>"},
      {"![i](https://example.org/x.png \"t\")",
       "<a class=\"md-image\" href=\"https://example.org/x.png\">i</a>"},
      {"![i](/x-pixel.png)", "<span class=\"md-image\">i</span>"},
      {"![i](javascript:alert(1))", "<span class=\"md-image\">i</span>"},
      {"![i](data:image/png;base64,AAAA)", "<span class=\"md-image\">i</span>"},
      {"![a *b* `c` [d](http://e)](http://x/y.png)",
       "<a class=\"md-image\" href=\"http://x/y.png\">a b c d</a>"},
      {"![](http://x/y.png)", "<a class=\"md-image\" href=\"http://x/y.png\"></a>"},
      {"[![badge](https://x/b.svg)](https://example.org)",
       "<a href=\"https://example.org\"><span class=\"md-image\">badge</span></a>"},
      {"![r][img]\n\n[img]: http://evil/r.png\n",
       "<a class=\"md-image\" href=\"http://evil/r.png\">r</a>"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char *h = render(cases[i][0]);
    if (!h || !strstr(h, cases[i][1]) || strstr(h, "<img"))
      fprintf(stderr, "image %zu: %s -> %s", i, cases[i][0],
              h ? h : "(null)\n");
    CHECK(h && strstr(h, cases[i][1]));
    CHECK(h && !strstr(h, "<img") && !strstr(h, "src=") &&
          !strstr(h, "<em>") && !strstr(h, "<code>"));
    free(h);
  }
}

/* Everything else that reaches an attribute or the text. */
static void check_text_and_attributes(void) {
  char *h = render("```c\"><script>alert(1)</script>\nx\n```\n");
  CHECK(h && !strstr(h, "<script") &&
        strstr(h, "<code class=\"language-c&quot;&gt;&lt;script&gt;"));
  free(h);
  h = render("&#60;script&#62; &lt;b&gt; &copy; &#x110000; &#0;");
  CHECK(h && !strstr(h, "<script") && !strstr(h, "<b>"));
  CHECK(h && strstr(h, "&lt;script&gt; &lt;b&gt; &copy; \xEF\xBF\xBD \xEF\xBF\xBD"));
  free(h);
  h = markdown_to_html("a\0b", 3);
  CHECK(h && strstr(h, "<p>a\xEF\xBF\xBD" "b</p>"));
  free(h);
  h = render("1. x\n\n- [x] done\n- [ ] open\n");
  CHECK(h && strstr(h, "<li class=\"task-list-item\"><input type=\"checkbox\" "
                       "class=\"task-list-item-checkbox\" disabled checked>done</li>"));
  CHECK(h && strstr(h, "disabled>open</li>"));
  free(h);
  h = render("3. x\n4. y\n\n> *q* **s** ~~d~~ `c`  \nnext\n\n---\n\n## H\n");
  CHECK(h && strstr(h, "<ol start=\"3\">\n<li>x</li>"));
  CHECK(h && strstr(h, "<blockquote>\n<p><em>q</em> <strong>s</strong> <del>d</del> "
                       "<code>c</code><br>\nnext</p>\n</blockquote>"));
  CHECK(h && strstr(h, "<hr>") && strstr(h, "<h2>H</h2>"));
  free(h);
  h = render("| a | b | c |\n|:--|:-:|--:|\n| 1 | 2 | 3 |\n");
  CHECK(h && strstr(h, "<th align=\"left\">a</th>") &&
        strstr(h, "<td align=\"center\">2</td>") &&
        strstr(h, "<td align=\"right\">3</td>"));
  free(h);
}

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
  check_refused_links();
  check_allowed_links();
  check_images();
  check_text_and_attributes();
  return check_done("test_markdown");
}
