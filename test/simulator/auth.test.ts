import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startSimulator, type SimulatedFleet } from '../../simulator/index.ts';
import { connect, expectStatus, sleep, type MinerClients } from './helpers.ts';

describe('simulator auth', () => {
  let fleet: SimulatedFleet;
  let c: MinerClients;

  beforeAll(async () => {
    fleet = await startSimulator({
      miners: 3,
      seed: 'auth',
      baseAddress: '127.2.0.1',
      // 2 s, so a request 700 ms after the last one keeps a 1.3 s margin on a loaded machine.
      tokenTimeoutS: 2,
      passwords: { 'sim-0003': 'hunter2' },
    });
    c = connect(fleet.miners[0]!.address);
  });
  afterAll(async () => {
    c.close();
    await fleet.stop();
  });

  it('answers GetApiVersion without a token', async () => {
    const { res } = await c.call('ApiVersionService', 'GetApiVersion', {}, new grpc.Metadata());
    expect(res).toMatchObject({ major: 1, minor: 11, patch: 0 });
  });

  it('returns the token in the body and in the authorization response header', async () => {
    const { res, headers } = await c.call<{ token: string; timeout_s: number }>(
      'AuthenticationService',
      'Login',
      { username: 'root', password: 'root' },
      new grpc.Metadata(),
    );
    expect(res.token).toMatch(/^[A-Za-z0-9]{16}$/);
    expect(res.timeout_s).toBe(2);
    expect(headers.get('authorization')).toEqual([res.token]);
  });

  it('rejects a wrong password and accepts per-miner passwords', async () => {
    await expectStatus(
      c.call('AuthenticationService', 'Login', { username: 'root', password: 'nope' }, new grpc.Metadata()),
      grpc.status.UNAUTHENTICATED,
    );
    await expectStatus(
      c.call('AuthenticationService', 'Login', { username: 'admin', password: 'root' }, new grpc.Metadata()),
      grpc.status.UNAUTHENTICATED,
    );
    const other = connect(fleet.miners[2]!.address);
    try {
      await expectStatus(other.login('root'), grpc.status.UNAUTHENTICATED);
      expect(await other.login('hunter2')).toMatch(/^[A-Za-z0-9]{16}$/);
    } finally {
      other.close();
    }
  });

  it('answers UNAUTHENTICATED without a token and with an unknown token', async () => {
    const e = await expectStatus(
      c.call('MinerService', 'GetMinerDetails', {}, new grpc.Metadata()),
      grpc.status.UNAUTHENTICATED,
    );
    expect(e.details).toMatch(/authorization/);
    const bad = new grpc.Metadata();
    bad.set('authorization', 'AAAAAAAAAAAAAAAA');
    await expectStatus(c.call('MinerService', 'GetMinerDetails', {}, bad), grpc.status.UNAUTHENTICATED);
    const bearer = new grpc.Metadata();
    bearer.set('authorization', `Bearer ${await c.login()}`);
    await expectStatus(c.call('MinerService', 'GetMinerDetails', {}, bearer), grpc.status.UNAUTHENTICATED);
  });

  it('slides the token expiry with each request and expires it after inactivity', async () => {
    await c.login();
    for (let i = 0; i < 4; i++) {
      await sleep(700); // 2.8 s in total > the 2 s timeout, but never 2 s idle
      await c.call('MinerService', 'GetMinerStats');
    }
    await sleep(2_300);
    await expectStatus(c.call('MinerService', 'GetMinerStats'), grpc.status.UNAUTHENTICATED);
  });

  it('a token is only valid on the miner that issued it', async () => {
    const token = await c.login();
    const md = new grpc.Metadata();
    md.set('authorization', token);
    const other = connect(fleet.miners[1]!.address);
    try {
      await expectStatus(other.call('MinerService', 'GetMinerDetails', {}, md), grpc.status.UNAUTHENTICATED);
    } finally {
      other.close();
    }
  });

  it('SetPassword changes the password for later logins', async () => {
    const other = connect(fleet.miners[1]!.address);
    try {
      await other.login('root');
      await other.call('AuthenticationService', 'SetPassword', { password: 's3cret' });
      await expectStatus(other.login('root'), grpc.status.UNAUTHENTICATED);
      await other.login('s3cret');
      await other.call('AuthenticationService', 'SetPassword', { password: 'root' });
      await other.login('root');
    } finally {
      other.close();
    }
  });
});
