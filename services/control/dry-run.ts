import { z } from 'zod';

/**
 * `dry_run`, and its camelCase spelling `dryRun` accepted for one release (deprecated): both
 * optional so that giving both is caught. Read the answer with `dryRunOf`.
 */
export const dryRunFields = {
  dry_run: z
    .boolean()
    .optional()
    .describe(
      'Only report which miners would change, how, and the expected effect on power and hashrate; nothing is sent to the miners (default false).',
    ),
  dryRun: z.boolean().optional().describe('Deprecated alias of dry_run; removed in the next release.'),
};
export const oneDryRun = (b: { dry_run?: unknown; dryRun?: unknown }): boolean => b.dry_run === undefined || b.dryRun === undefined;
export const oneDryRunMsg = { error: 'give dry_run only (dryRun is its deprecated alias)', path: ['dryRun'] };

export function dryRunOf(b: { dry_run?: boolean | undefined; dryRun?: boolean | undefined }): boolean {
  return b.dry_run ?? b.dryRun ?? false;
}
