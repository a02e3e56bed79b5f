import type { Caller } from '../services/context.ts';
import { hasRole } from '../services/context.ts';
import { assetUrl } from './assets.ts';
import { html, type Html } from './html.ts';
import type { ConsoleSession } from './sessions.ts';

export interface PageContext {
  session: ConsoleSession | null;
  /** path of the page, to mark the current nav entry */
  path: string;
}

const NAV: [string, string][] = [
  ['/', 'Fleet'],
  ['/miners', 'Miners'],
  ['/racks', 'Racks'],
  ['/jobs', 'Jobs'],
  ['/schedules', 'Schedules'],
  ['/energy', 'Energy'],
  ['/curtailment', 'Curtailment'],
  ['/events', 'Events'],
];

export function canControl(caller: Caller): boolean {
  return hasRole(caller, 'operator');
}

/** The CSRF field every state-changing form carries. */
export function csrfField(session: ConsoleSession): Html {
  return html`<input type="hidden" name="_csrf" value="${session.csrf}">`;
}

/**
 * opts.preload: chart data the page will fetch, requested while the scripts load;
 * opts.wide: the page uses the whole screen width (the miners table)
 */
export function page(title: string, ctx: PageContext, body: Html, opts: { charts?: boolean; preload?: string[]; wide?: boolean } = {}): Html {
  const s = ctx.session;
  const current = (href: string): boolean => (href === '/' ? ctx.path === '/' : ctx.path.startsWith(href));
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · bos-fleet</title>
${s ? html`<meta name="csrf-token" content="${s.csrf}">` : ''}
<link rel="stylesheet" href="${assetUrl('console.css')}">
${opts.charts ? html`<link rel="stylesheet" href="${assetUrl('uPlot.min.css')}"><script src="${assetUrl('uPlot.iife.min.js')}" async data-uplot></script>` : ''}
<script src="${assetUrl('console.js')}" defer></script>
${(opts.preload ?? []).map(u => html`<link rel="preload" href="${u}" as="fetch" crossorigin="anonymous">`)}
</head>
<body>
<a class="skip" href="#main">Skip to content</a>
<header class="top">
  <span class="brand">bos-fleet</span>
  ${
    s
      ? html`<nav aria-label="Main"><ul>${NAV.map(
          ([href, label]) =>
            html`<li><a href="${href}"${current(href) ? html` aria-current="page"` : ''}>${label}</a></li>`,
        )}</ul></nav>
  <div class="who"><span>${s.caller.sub} · ${s.caller.tenant} · ${s.caller.roles.join(', ')}</span>
    <form method="post" action="/logout">${csrfField(s)}<button type="submit" class="link">Log out</button></form></div>`
      : ''
  }
</header>
<main id="main"${opts.wide ? html` class="wide"` : ''}>
<h1>${title}</h1>
${body}
</main>
</body>
</html>`;
}

export function errorPage(status: number, title: string, message: string, ctx: PageContext): Html {
  return page(
    title,
    ctx,
    html`<p class="error" role="alert">${message}</p><p><a href="/">Back to the fleet</a></p><p class="muted">HTTP ${status}</p>`,
  );
}
