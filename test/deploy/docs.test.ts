// The operator documentation keeps up with the configuration and the compose stack:
// every key of .env.example is explained in docs/configuration.md, and every compose service
// and profile appears in docs/operations.md. (compose.test.ts checks that every ${VAR} of
// compose.yaml is documented in docs/operations.md.)
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';

const ROOT = path.join(import.meta.dirname, '../..');
const read = (p: string): string => readFileSync(path.join(ROOT, p), 'utf8');

const envKeys = [...read('.env.example').matchAll(/^#?\s?([A-Z][A-Z0-9_]+)=/gm)].map(m => m[1]!);
const configuration = read('docs/configuration.md');
const operations = read('docs/operations.md');
/** The "## Keys" section: one table row per key, `| \`KEY\` | default | read by | meaning |`. */
const keysSection = /^## Keys$([\s\S]*?)^## /m.exec(configuration)?.[1] ?? '';
const tableKeys = new Set([...keysSection.matchAll(/^\|\s*`([A-Z][A-Z0-9_]+)`\s*\|/gm)].map(m => m[1]!));

describe('docs/configuration.md', () => {
  it('reads .env.example and the Keys section', () => {
    expect(envKeys.length).toBeGreaterThan(20);
    expect(keysSection).not.toBe('');
  });

  for (const key of envKeys) {
    it(`explains ${key} in a table row`, () => {
      expect(tableKeys.has(key), `${key} has a row in docs/configuration.md`).toBe(true);
    });
  }

  it('documents no key that .env.example does not have', () => {
    expect([...tableKeys].filter(k => !envKeys.includes(k))).toEqual([]);
  });

  it('gives each key the default .env.example gives it', () => {
    const defaults = new Map(
      [...read('.env.example').matchAll(/^#?\s?([A-Z][A-Z0-9_]+)=(.*)$/gm)].map(m => [m[1]!, m[2]!]),
    );
    for (const row of keysSection.matchAll(/^\|\s*`([A-Z][A-Z0-9_]+)`\s*\|([^|]+)\|/gm)) {
      const [, key, cell] = row as unknown as [string, string, string];
      const def = defaults.get(key);
      if (def === undefined) continue;
      const shown = /^`(.*)`$/.exec(cell.trim())?.[1];
      if (def === '') expect(shown, `${key}: documented as unset/empty`).toBeUndefined();
      else expect(shown, `${key} default`).toBe(def);
    }
  });
});

describe('docs/operations.md', () => {
  const compose = parseYaml(read('compose.yaml'), { merge: true }) as {
    services: Record<string, { profiles?: string[] }>;
  };

  it('describes every compose service and profile', () => {
    for (const [name, s] of Object.entries(compose.services)) {
      expect(operations, `service ${name}`).toContain(`\`${name}\``);
      for (const p of s.profiles ?? []) expect(operations, `profile ${p}`).toContain(`\`${p}\``);
    }
  });

  it('covers deploy, scale, back up, upgrade, troubleshoot and security', () => {
    for (const heading of [
      '## Deploy',
      '## Scale',
      '## Back up',
      '## Upgrade',
      '## Troubleshoot',
      '## Security',
    ]) {
      expect(operations).toContain(heading);
    }
  });

  it('links to files that exist', () => {
    for (const m of (configuration + operations).matchAll(/\]\(([^)#:]+)(#[^)]*)?\)/g)) {
      expect(() => read(path.join('docs', m[1]!)), m[1]).not.toThrow();
    }
  });
});
