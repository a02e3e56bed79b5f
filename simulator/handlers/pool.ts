// PoolService: pool groups with live per-pool stats; create/update/remove/replace groups.
// Applying a change restarts bosminer, as the firmware does (counters restart from 0).
import { status as grpcStatus } from '@grpc/grpc-js';

import type {
  CreatePoolGroupRequestOutput,
  CreatePoolGroupResponseInput,
  GetPoolGroupsResponseInput,
  RemovePoolGroupRequestOutput,
  SetPoolGroupsRequestOutput,
  SetPoolGroupsResponseInput,
  UpdatePoolGroupRequestOutput,
  UpdatePoolGroupResponseInput,
} from '../../proto/types.ts';
import { activePool, groupFromConfig, groupToConfig, poolAlive } from '../pools.ts';
import { invalidArgument, notFound, RpcError } from '../rpc-error.ts';
import type { VirtualMiner } from '../virtual-miner.ts';
import { applies, poolStats } from './common.ts';
import { unary, type ServiceHandlers } from './types.ts';

export function poolGroupsResponse(miner: VirtualMiner, now: number): GetPoolGroupsResponseInput {
  miner.advance(now);
  const dead = miner.deadPool;
  const mining = miner.isMining && miner.status === 'MINER_STATUS_NORMAL';
  return {
    pool_groups: miner.poolGroups.map(g => {
      const active = mining ? activePool(g, dead) : undefined;
      return {
        uid: g.uid,
        name: g.name,
        ...(g.fixedShareRatio !== undefined
          ? { fixed_share_ratio: { value: g.fixedShareRatio } }
          : { quota: { value: g.quota ?? 1 } }),
        pools: g.pools.map(p => ({
          uid: p.uid,
          url: p.url,
          user: p.user,
          enabled: p.enabled,
          alive: p.enabled && poolAlive(p, dead),
          active: p === active,
          stats: poolStats([p]),
        })),
      };
    }),
  };
}

function requireGroup(
  group: CreatePoolGroupRequestOutput['group'],
): NonNullable<CreatePoolGroupRequestOutput['group']> {
  if (!group) throw invalidArgument('group is required');
  return group;
}

export const poolHandlers: ServiceHandlers = {
  GetPoolGroups: unary<unknown, GetPoolGroupsResponseInput>(
    ({ miner, now }) => poolGroupsResponse(miner, now),
    { cache: true },
  ),

  CreatePoolGroup: unary<CreatePoolGroupRequestOutput, CreatePoolGroupResponseInput>(
    ({ miner, now, request }) => {
      const cfg = requireGroup(request.group);
      if (miner.poolGroups.some(g => g.name === cfg.name.trim())) {
        throw new RpcError(grpcStatus.ALREADY_EXISTS, `a pool group named '${cfg.name}' already exists`);
      }
      if (cfg.uid !== undefined && miner.poolGroups.some(g => g.uid === cfg.uid)) {
        throw new RpcError(grpcStatus.ALREADY_EXISTS, `a pool group with uid '${cfg.uid}' already exists`);
      }
      const group = groupFromConfig(
        cfg,
        miner.uids,
        undefined,
        cfg.uid !== undefined ? { uid: cfg.uid } : {},
      );
      miner.setPoolGroups(now, [...miner.poolGroups, group], applies(request.save_action));
      return { group: groupToConfig(group) };
    },
  ),

  UpdatePoolGroup: unary<UpdatePoolGroupRequestOutput, UpdatePoolGroupResponseInput>(
    ({ miner, now, request }) => {
      const cfg = requireGroup(request.group);
      if (!cfg.uid) throw invalidArgument('group.uid is required to update a pool group');
      const i = miner.poolGroups.findIndex(g => g.uid === cfg.uid);
      if (i < 0) throw notFound(`no pool group with uid '${cfg.uid}'`);
      const group = groupFromConfig(cfg, miner.uids, miner.poolGroups[i], { uid: cfg.uid });
      const next = [...miner.poolGroups];
      next[i] = group;
      miner.setPoolGroups(now, next, applies(request.save_action));
      return { group: groupToConfig(group) };
    },
  ),

  RemovePoolGroup: unary<RemovePoolGroupRequestOutput, object>(({ miner, now, request }) => {
    if (!miner.poolGroups.some(g => g.uid === request.uid))
      throw notFound(`no pool group with uid '${request.uid}'`);
    miner.setPoolGroups(
      now,
      miner.poolGroups.filter(g => g.uid !== request.uid),
      applies(request.save_action),
    );
    return {};
  }),

  // Replaces every group; uids are assigned by the miner and must not be given.
  SetPoolGroups: unary<SetPoolGroupsRequestOutput, SetPoolGroupsResponseInput>(({ miner, now, request }) => {
    for (const g of request.pool_groups) {
      if (g.uid !== undefined || g.pools.some(p => p.uid !== undefined)) {
        throw invalidArgument('SetPoolGroups assigns uids itself: leave group and pool uids unset');
      }
    }
    const names = new Set<string>();
    const groups = request.pool_groups.map(cfg => {
      if (names.has(cfg.name.trim())) throw invalidArgument(`duplicate pool group name '${cfg.name}'`);
      names.add(cfg.name.trim());
      const previous = miner.poolGroups.find(g => g.name === cfg.name.trim());
      return groupFromConfig(cfg, miner.uids, previous, {});
    });
    miner.setPoolGroups(now, groups, applies(request.save_action));
    return { pool_groups: groups.map(groupToConfig) };
  }),
};
