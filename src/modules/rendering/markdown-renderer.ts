import { Injectable } from '@nestjs/common';
import MarkdownIt from 'markdown-it';
import sanitizeHtml from 'sanitize-html';
import { readingTimeMinutes } from './reading-time';

export interface RenderedMarkdown {
  readonly html: string;
  readonly readingTimeMinutes: number;
}

// Raw HTML in markdown is allowed through the parser on purpose: the sanitizer below is the one security
// boundary, so there is exactly one place to review, whatever the parser lets through.
const markdown = new MarkdownIt({ html: true, linkify: true });

/** An allow-list: anything not named here (scripts, event handlers, iframes, styles, javascript: URLs) is dropped. */
const POLICY: sanitizeHtml.IOptions = {
  allowedTags: [...sanitizeHtml.defaults.allowedTags, 'img', 'del'],
  allowedAttributes: {
    a: ['href', 'title', 'rel'],
    img: ['src', 'alt', 'title'],
    code: ['class'],
    th: ['style'],
    td: ['style'],
    ol: ['start'],
  },
  allowedClasses: { code: [/^language-[\w-]+$/] },
  // markdown-it writes table alignment as inline style; nothing else may style the page.
  allowedStyles: { th: { 'text-align': [/^(left|right|center)$/] }, td: { 'text-align': [/^(left|right|center)$/] } },
  allowedSchemes: ['http', 'https', 'mailto'],
  allowedSchemesByTag: { img: ['http', 'https'] },
  allowProtocolRelative: false,
  // User-supplied links must not pass reputation to, or get a handle on, this page.
  transformTags: { a: sanitizeHtml.simpleTransform('a', { rel: 'nofollow noopener noreferrer' }) },
};

const TEXT_ONLY: sanitizeHtml.IOptions = { allowedTags: [], allowedAttributes: {} };

/** Markdown to safe HTML (markdown-it, CommonMark) plus the reading time of the text a reader sees. */
@Injectable()
export class MarkdownRenderer {
  render(source: string): RenderedMarkdown {
    const html = sanitizeHtml(markdown.render(source), POLICY);
    return { html, readingTimeMinutes: readingTimeMinutes(sanitizeHtml(html, TEXT_ONLY)) };
  }
}
