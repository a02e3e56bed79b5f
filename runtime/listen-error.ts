/**
 * Thrown at start-up when a server cannot listen. The message names the address and the
 * setting to change, so the CLI prints it without a stack trace.
 */
export class ListenError extends Error {
  readonly code: 'port_in_use' | 'port_not_allowed' | 'address_not_available';
  constructor(code: ListenError['code'], message: string, cause: unknown) {
    super(message, { cause });
    this.name = 'ListenError';
    this.code = code;
  }
}

export interface ListenTarget {
  /** what was listening, e.g. "the API" */
  what: string;
  host: string;
  port: number;
  /** the settings that choose the address, e.g. "API_HOST / API_PORT" */
  settings: string;
}

/** Turns the OS's listen failures into a ListenError; anything else is returned as it was. */
export function listenError(err: unknown, t: ListenTarget): unknown {
  const where = `${t.what} cannot listen on ${t.host}:${t.port}`;
  switch ((err as NodeJS.ErrnoException | null)?.code) {
    case 'EADDRINUSE':
      return new ListenError(
        'port_in_use',
        `${where}: the port is in use. Stop what holds it, or choose another port with ${t.settings} (0 picks a free one).`,
        err,
      );
    case 'EACCES':
      return new ListenError(
        'port_not_allowed',
        `${where}: ports below 1024 need privileges. Choose a port of 1024 or more with ${t.settings}.`,
        err,
      );
    case 'EADDRNOTAVAIL':
      return new ListenError(
        'address_not_available',
        `${where}: ${t.host} is not an address of this machine. Choose one with ${t.settings}.`,
        err,
      );
    default:
      return err;
  }
}
