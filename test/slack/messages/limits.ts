// Slack's documented limits for a chat.postMessage with blocks, as a list of what a
// message breaks (empty when it fits): https://docs.slack.dev/reference/block-kit/blocks
import type { KnownBlock } from '@slack/web-api';
import type { RenderedMessage } from '../../../slack/render.js';

export function slackProblems(m: RenderedMessage): string[] {
  const problems: string[] = [];
  const check = (ok: boolean, what: string) => {
    if (!ok) problems.push(what);
  };
  check(typeof m.text === 'string' && m.text.trim() !== '', 'no fallback text');
  check(m.text.length <= 40_000, `text of ${m.text.length} characters`);
  check(m.blocks.length <= 50, `${m.blocks.length} blocks`);
  for (const [i, b] of (m.blocks as KnownBlock[]).entries()) {
    if (b.type === 'header') check(b.text.text.length <= 150, `header ${i} of ${b.text.text.length} characters`);
    if (b.type === 'section') {
      check(b.text !== undefined || (b.fields?.length ?? 0) > 0, `section ${i} is empty`);
      if (b.text) check(b.text.text.length >= 1 && b.text.text.length <= 3000, `section ${i} of ${b.text.text.length} characters`);
      const fields = b.fields ?? [];
      check(fields.length <= 10, `section ${i} with ${fields.length} fields`);
      for (const f of fields) {
        check(f.text.length <= 2000, `a field of ${f.text.length} characters`);
        // A raw JSON value in a field reads as noise: objects and lists must be turned into words.
        check(!/^\s*[[{]/.test(f.text.split('\n').slice(1).join('\n')), `a field holds JSON: ${f.text}`);
      }
    }
    if (b.type === 'context') check(b.elements.length >= 1 && b.elements.length <= 10, `context ${i} with ${b.elements.length} elements`);
    if (b.type === 'actions') {
      check(b.elements.length >= 1 && b.elements.length <= 25, `actions ${i} with ${b.elements.length} elements`);
      for (const e of b.elements) {
        if (e.type !== 'button') continue;
        check(e.text.text.length <= 75, `button label of ${e.text.text.length} characters`);
        check(!e.url || (/^https?:\/\//.test(e.url) && e.url.length <= 3000), `button url ${e.url}`);
      }
    }
  }
  return problems;
}
