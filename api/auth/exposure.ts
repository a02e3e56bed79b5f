import { isIP } from 'node:net';
import { ConfigError } from '../../runtime/config-loader.ts';
import type { ApiConfig } from '../config.ts';

/**
 * AUTH_MODE=none gives every request one fixed caller (AUTH_NONE_TENANT / AUTH_NONE_ROLE): fine
 * for one user on one machine, an open door on any other interface. Off loopback it is refused
 * at start-up unless AUTH_NONE_ALLOW_REMOTE=true says the exposure is intended.
 */
export function isLoopbackHost(host: string): boolean {
  const h = host.trim().toLowerCase().replace(/^\[|\]$/g, '');
  if (h === 'localhost') return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  if (isIP(h) === 6) return h === '::1' || /^::ffff:127\./.test(h);
  return false;
}

export function checkAuthExposure(
  config: Pick<ApiConfig, 'AUTH_MODE' | 'AUTH_NONE_ROLE' | 'AUTH_NONE_TENANT' | 'AUTH_NONE_ALLOW_REMOTE'>,
  host: string,
): void {
  if (config.AUTH_MODE !== 'none' || config.AUTH_NONE_ALLOW_REMOTE || isLoopbackHost(host)) return;
  throw new ConfigError([
    `AUTH_MODE=none on ${host}: every request would act as ${config.AUTH_NONE_ROLE} of tenant ${config.AUTH_NONE_TENANT} without a token, from any machine that reaches this address. ` +
      'Listen on loopback (API_HOST=127.0.0.1), use AUTH_MODE=jwt (bos-fleet token --generate-key), or set AUTH_NONE_ALLOW_REMOTE=true if this exposure is intended',
  ]);
}
