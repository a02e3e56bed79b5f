import { describe, expect, it } from 'vitest';
import { html, raw } from '../../console/html.ts';

describe('console html templates', () => {
  it('escapes every interpolated value, so a miner name cannot inject markup', () => {
    const name = `<script>alert("x")</script>' onmouseover='x`;
    const out = html`<a title="${name}">${name}</a>`.text;
    expect(out).not.toContain('<script>');
    expect(out).toBe(`<a title="&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&#39; onmouseover=&#39;x">&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&#39; onmouseover=&#39;x</a>`);
  });

  it('keeps nested fragments and lists as markup, and drops null, undefined and false', () => {
    const items = ['a&b', 'c'].map(x => html`<li>${x}</li>`);
    expect(html`<ul>${items}</ul>${null}${undefined}${false}${raw('<hr>')}${0}`.text).toBe('<ul><li>a&amp;b</li><li>c</li></ul><hr>0');
  });
});
