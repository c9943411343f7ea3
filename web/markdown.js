// The answers' Markdown as the server renders it (md4c), made safe for a page: the HTML is
// parsed into an inert document, passed through an allowlist of elements and attributes (links
// only to http:, https:, mailto: and #; an image becomes a link, never loaded) and only then
// moved into the page. Shared by the arena page (arena.js) and the shared battle's (share.js).

const XHTML = 'http://www.w3.org/1999/xhtml';
// Elements md4c produces (GitHub dialect); anything else is unwrapped to its text.
const MD_TAGS = new Set(['P', 'H1', 'H2', 'H3', 'H4', 'H5', 'H6', 'UL', 'OL', 'LI', 'BLOCKQUOTE', 'PRE',
  'CODE', 'EM', 'STRONG', 'DEL', 'S', 'A', 'SPAN', 'TABLE', 'THEAD', 'TBODY', 'TR', 'TH', 'TD', 'HR', 'BR',
  'INPUT', 'SUP', 'SUB', 'U']);
// Elements removed with everything inside them.
const MD_DROP = new Set(['SCRIPT', 'STYLE', 'IFRAME', 'FRAME', 'FRAMESET', 'OBJECT', 'EMBED', 'TEMPLATE', 'NOSCRIPT',
  'LINK', 'META', 'BASE', 'FORM', 'BUTTON', 'SELECT', 'TEXTAREA', 'OPTION', 'VIDEO', 'AUDIO', 'SOURCE',
  'CANVAS', 'DIALOG', 'SLOT', 'PORTAL', 'TITLE', 'HEAD']);
const MD_ATTRS = {
  A: ['href', 'title', 'class'], SPAN: ['class'], OL: ['start'], TH: ['align'], TD: ['align'],
  CODE: ['class'], LI: ['class'], INPUT: ['type', 'class', 'checked', 'disabled'],
};
const SAFE_HREF = /^(?:https?:|mailto:|#)/i;
const LINK_REL = 'noopener noreferrer nofollow';

// The link target if it is allowed, else null. Browsers skip leading C0 controls and spaces
// and drop tabs and newlines anywhere in a URL, so the scheme is checked without them.
export function safeHref(v) {
  const h = String(v ?? '').replace(/^[\u0000-\u0020]+|[\u0000-\u0020]+$/g, '');
  return SAFE_HREF.test(h.replace(/[\u0000-\u0020\u007f]+/g, '')) ? h : null;
}

function attrOk(tag, name, value) {
  if (!(MD_ATTRS[tag] || []).includes(name)) return false;
  if (name === 'class') {
    if (tag === 'CODE') return /^language-[\w#+.-]{1,40}$/.test(value);
    if (tag === 'A' || tag === 'SPAN') return value === 'md-image';
    return /^task-list-item(?:-checkbox)?$/.test(value);
  }
  if (name === 'align') return /^(?:left|center|right)$/.test(value);
  if (name === 'start') return /^\d{1,9}$/.test(value);
  if (name === 'type') return value === 'checkbox';
  return true;
}

function sanitize(root) {
  for (const node of Array.from(root.childNodes)) {
    if (node.nodeType === Node.TEXT_NODE) continue;
    if (node.nodeType !== Node.ELEMENT_NODE) { node.remove(); continue; }
    const tag = node.tagName;
    if (node.namespaceURI !== XHTML || MD_DROP.has(tag)) { node.remove(); continue; }
    if (tag === 'IMG') {
      // Images are never loaded from model output: a link to the image instead.
      const alt = node.getAttribute('alt') || 'image';
      const href = safeHref(node.getAttribute('src'));
      const a = node.ownerDocument.createElement(href ? 'a' : 'span');
      a.className = 'md-image';
      a.textContent = `🖼 ${alt}`;
      if (href) a.setAttribute('href', href);
      node.replaceWith(a);
      if (href) fixLink(a);
      continue;
    }
    if (!MD_TAGS.has(tag)) {
      sanitize(node);
      node.replaceWith(...node.childNodes);
      continue;
    }
    for (const at of Array.from(node.attributes)) {
      if (!attrOk(tag, at.name, at.value)) node.removeAttribute(at.name);
    }
    if (tag === 'INPUT') {
      if (node.getAttribute('type') !== 'checkbox') { node.remove(); continue; }
      node.disabled = true;
      node.setAttribute('aria-label', node.checked ? 'done' : 'not done');
    }
    if (node.classList.contains('md-image')) {
      // The server's stand-in for an image: its alt text (a link to it when allowed).
      node.textContent = `🖼 ${node.textContent.trim() || 'image'}`;
    }
    if (tag === 'A') fixLink(node);
    sanitize(node);
  }
}

function fixLink(a) {
  const href = safeHref(a.getAttribute('href'));
  if (!href) {
    a.removeAttribute('href');
    a.classList.add('link-removed');
    a.title = 'Link removed: only http, https and mailto links are allowed';
    return;
  }
  a.setAttribute('href', href);
  if (href[0] !== '#') {
    a.target = '_blank';
    a.rel = LINK_REL;
  }
}

// Turn the server's rendered HTML into a safe fragment, with tables and code blocks wrapped
// so that they scroll sideways on their own.
export function markdownFragment(html) {
  // Parsed and cleaned in a separate, inert document (nothing in it runs or loads); only the
  // cleaned nodes are then moved into this page.
  const doc = document.implementation.createHTMLDocument('');
  doc.body.innerHTML = html;
  sanitize(doc.body);
  for (const t of Array.from(doc.body.querySelectorAll('table'))) {
    const w = doc.createElement('div');
    w.className = 'table-scroll';
    t.replaceWith(w);
    w.append(t);
  }
  for (const pre of Array.from(doc.body.querySelectorAll('pre'))) {
    const box = doc.createElement('div');
    box.className = 'code-block';
    const bar = doc.createElement('div');
    bar.className = 'code-bar';
    const lang = doc.createElement('span');
    const code = pre.querySelector('code');
    const m = code && /^language-(.+)$/.exec(code.className);
    lang.textContent = m ? m[1] : 'code';
    const copy = doc.createElement('button');
    copy.type = 'button';
    copy.className = 'copy';
    copy.textContent = 'Copy';
    copy.setAttribute('aria-label', 'Copy code');
    bar.append(lang, copy);
    pre.replaceWith(box);
    box.append(bar, pre);
  }
  const frag = document.createDocumentFragment();
  for (const n of Array.from(doc.body.childNodes)) {
    // The whitespace between blocks is dropped: the text of a rendered answer is its content.
    if (n.nodeType === Node.TEXT_NODE && n.data.trim() === '') continue;
    frag.append(document.adoptNode(n));
  }
  return frag;
}

