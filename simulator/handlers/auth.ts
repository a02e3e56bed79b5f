// ApiVersionService (no auth) and AuthenticationService (Login without auth, SetPassword).
import type {
  ApiVersionInput,
  LoginRequestOutput,
  LoginResponseInput,
  SetPasswordRequestOutput,
} from '../../proto/types.ts';
import { unauthenticated } from '../rpc-error.ts';
import { unary, type ServiceHandlers } from './types.ts';

/** Public API version the simulator implements (bos-plus-api 1.11.0 ↔ Braiins OS 26.05). */
export const API_VERSION = { major: 1, minor: 11, patch: 0, pre: '', build: '' } as const;

export const apiVersionHandlers: ServiceHandlers = {
  GetApiVersion: unary<unknown, ApiVersionInput>(
    ({ miner }) => ({ ...API_VERSION, ...miner.apiVersion }),
    { auth: false },
  ),
};

export const authenticationHandlers: ServiceHandlers = {
  // The token goes in the body and, as the firmware's legacy delivery, in the response header
  // `authorization` (the official demos read it from there).
  Login: unary<LoginRequestOutput, LoginResponseInput>(
    ctx => {
      const { miner, now, request } = ctx;
      if (miner.fault('auth_reject'))
        throw unauthenticated('login rejected: authentication service refused the credentials');
      if (request.username !== 'root' || request.password !== miner.password) {
        throw unauthenticated('invalid username or password');
      }
      const token = miner.sessions.create(now);
      ctx.responseHeaders = { authorization: token };
      return { token, timeout_s: miner.sessions.timeoutS };
    },
    { auth: false },
  ),

  // An absent password removes it (login then takes an empty password).
  SetPassword: unary<SetPasswordRequestOutput, object>(({ miner, request }) => {
    miner.password = request.password ?? '';
    miner.changed();
    return {};
  }),
};
