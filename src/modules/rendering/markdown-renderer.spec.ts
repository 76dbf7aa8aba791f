import { MarkdownRenderer } from './markdown-renderer';

describe('MarkdownRenderer', () => {
  const html = (md: string) => new MarkdownRenderer().render(md).html;

  it('renders CommonMark', () => {
    expect(html('# Title\n\nSome *emphasis* and **strong**.')).toBe(
      '<h1>Title</h1>\n<p>Some <em>emphasis</em> and <strong>strong</strong>.</p>\n',
    );
    expect(html('```ts\nconst a = 1 < 2;\n```')).toBe(
      '<pre><code class="language-ts">const a = 1 &lt; 2;\n</code></pre>\n',
    );
    expect(html('| a | b |\n|:-|-:|\n| 1 | 2 |')).toContain('<td style="text-align:right">2</td>');
  });

  it('keeps safe links, marks them nofollow, and linkifies bare URLs', () => {
    expect(html('[docs](https://example.com/a?b=1)')).toBe(
      '<p><a href="https://example.com/a?b=1" rel="nofollow noopener noreferrer">docs</a></p>\n',
    );
    expect(html('see https://example.com')).toContain(
      '<a href="https://example.com" rel="nofollow noopener noreferrer">',
    );
  });

  it.each([
    ['a script tag', '<script>alert(1)</script>'],
    ['a script in a paragraph', 'hello <script src="https://evil.example/x.js"></script> world'],
    ['an event handler', '<img src="https://example.com/x.png" onerror="alert(1)">'],
    ['an event handler on any tag', '<p onclick="alert(1)" onmouseover="alert(2)">hi</p>'],
    ['a javascript: link in markdown', '[click](javascript:alert(1))'],
    ['a javascript: link in HTML', '<a href="javascript:alert(1)">click</a>'],
    ['an entity-encoded javascript: link', '<a href="&#106;avascript:alert(1)">click</a>'],
    ['a mixed-case javascript: link', '<a href="JaVaScRiPt:alert(1)">click</a>'],
    ['a data: image', '![x](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)'],
    ['an iframe', '<iframe src="https://evil.example"></iframe>'],
    ['an svg with script', '<svg><script>alert(1)</script></svg>'],
    ['a style attribute', '<p style="background:url(javascript:alert(1))">x</p>'],
    ['a style tag', '<style>body{display:none}</style>'],
    ['a form', '<form action="https://evil.example"><input name="p"></form>'],
    // The vectors of the advisories fixed in sanitize-html 2.17.6 and 2.17.7 (tools/audit/advisories.json).
    ['a textarea end tag with a slash (mutation XSS)', '<textarea></textarea/><img src=x onerror=alert(1)></textarea>'],
    ['an xmp raw-text passthrough', '<xmp><img src=x onerror=alert(1)></xmp>'],
    [
      'an SVG SMIL animation of a URL attribute',
      '<svg><a><animate attributeName="href" values="javascript:alert(1)"/><text y="20">x</text></a></svg>',
    ],
    ['a set element rewriting href', '<svg><set attributeName="href" to="javascript:alert(1)"/></svg>'],
  ])('removes %s', (_, md) => {
    // Harmless leftovers may stay as text (e.g. "[click](javascript:…)" that is not a link); no active markup may.
    expect(html(md)).not.toMatch(
      /<script|<iframe|<style|<form|<input|<svg|<animate|<set|<img[^>]*onerror|\son\w+\s*=|href="[^"]*script:|="javascript:|src="\s*data:|style="background/i,
    );
  });

  it('keeps the text around what it removes', () => {
    expect(html('hello <script>alert(1)</script> world')).toBe('<p>hello  world</p>\n');
    expect(html('<p onclick="x()">kept</p>')).toBe('<p>kept</p>');
    expect(html('[click](javascript:alert(1))')).toBe('<p>[click](javascript:alert(1))</p>\n');
  });

  it('computes the reading time from the visible text only', () => {
    const longUrl = `https://example.com/${'a/'.repeat(2000)}`;
    expect(new MarkdownRenderer().render(`[one word](${longUrl})`).readingTimeMinutes).toBe(1);
    expect(new MarkdownRenderer().render('word '.repeat(1000)).readingTimeMinutes).toBe(5);
  });
});
