import type { EnergyExecutionRecord, EnergyPolicyRecord, EnergyPort, EnergyStepRun, StoredPrices } from '../ports/energy.ts';
import type { EmbeddedDatabase } from './database.ts';

const MIGRATIONS = [
  `CREATE TABLE energy_policies (
     id TEXT NOT NULL,
     tenant TEXT NOT NULL,
     created_ms INTEGER NOT NULL,
     body TEXT NOT NULL,
     PRIMARY KEY (tenant, id)
   ) WITHOUT ROWID;
   CREATE TABLE energy_prices (
     policy_key TEXT PRIMARY KEY,
     body TEXT NOT NULL
   ) WITHOUT ROWID;
   CREATE TABLE energy_executions (
     id TEXT PRIMARY KEY,
     tenant TEXT NOT NULL,
     created_ms INTEGER NOT NULL,
     open INTEGER NOT NULL,
     body TEXT NOT NULL
   );
   CREATE INDEX energy_executions_by_tenant ON energy_executions (tenant, created_ms);
   CREATE TABLE energy_step_runs (
     execution_id TEXT NOT NULL,
     step_key TEXT NOT NULL,
     body TEXT NOT NULL,
     PRIMARY KEY (execution_id, step_key)
   ) WITHOUT ROWID;
   CREATE TABLE energy_claims (
     execution_id TEXT NOT NULL,
     step_key TEXT NOT NULL,
     holder TEXT NOT NULL,
     expires_ms INTEGER NOT NULL,
     PRIMARY KEY (execution_id, step_key)
   ) WITHOUT ROWID;`,
];

/**
 * Energy policies and curtailment executions in the embedded SQLite file. A step claim is the
 * primary key of energy_claims (an insert that finds a live row loses), and an execution is
 * created with INSERT OR IGNORE, so the first writer's frozen plan is the one everyone runs.
 */
export function embeddedEnergy(database: EmbeddedDatabase): EnergyPort {
  database.migrate('energy', MIGRATIONS);
  const db = database.db;
  const q = {
    savePolicy: db.prepare(
      `INSERT INTO energy_policies (id, tenant, created_ms, body) VALUES (?, ?, ?, ?)
       ON CONFLICT(tenant, id) DO UPDATE SET body = excluded.body`,
    ),
    getPolicy: db.prepare('SELECT body FROM energy_policies WHERE tenant = ? AND id = ?'),
    listPolicies: db.prepare('SELECT body FROM energy_policies WHERE tenant = ? ORDER BY created_ms, id'),
    listAllPolicies: db.prepare('SELECT body FROM energy_policies ORDER BY created_ms, id'),
    deletePolicy: db.prepare('DELETE FROM energy_policies WHERE tenant = ? AND id = ?'),
    savePrices: db.prepare(
      `INSERT INTO energy_prices (policy_key, body) VALUES (?, ?) ON CONFLICT(policy_key) DO UPDATE SET body = excluded.body`,
    ),
    prices: db.prepare('SELECT body FROM energy_prices WHERE policy_key = ?'),
    create: db.prepare('INSERT OR IGNORE INTO energy_executions (id, tenant, created_ms, open, body) VALUES (?, ?, ?, ?, ?)'),
    update: db.prepare('UPDATE energy_executions SET open = ?, body = ? WHERE id = ?'),
    trim: db.prepare(
      `DELETE FROM energy_executions WHERE tenant = ? AND open = 0 AND id NOT IN
         (SELECT id FROM energy_executions WHERE tenant = ? ORDER BY created_ms DESC LIMIT ?)`,
    ),
    trimRuns: db.prepare('DELETE FROM energy_step_runs WHERE execution_id NOT IN (SELECT id FROM energy_executions)'),
    getExecution: db.prepare('SELECT body FROM energy_executions WHERE tenant = ? AND id = ?'),
    listExecutions: db.prepare('SELECT body FROM energy_executions WHERE tenant = ? ORDER BY created_ms DESC, id LIMIT ?'),
    open: db.prepare('SELECT body FROM energy_executions WHERE open = 1 ORDER BY created_ms, id'),
    claim: db.prepare(
      `INSERT INTO energy_claims (execution_id, step_key, holder, expires_ms) VALUES (?, ?, ?, ?)
       ON CONFLICT(execution_id, step_key) DO UPDATE SET holder = excluded.holder, expires_ms = excluded.expires_ms
       WHERE energy_claims.expires_ms <= ?`,
    ),
    renewClaim: db.prepare('UPDATE energy_claims SET expires_ms = ? WHERE execution_id = ? AND step_key = ? AND holder = ? AND expires_ms > ?'),
    pruneClaims: db.prepare('DELETE FROM energy_claims WHERE expires_ms <= ?'),
    saveRun: db.prepare(
      `INSERT INTO energy_step_runs (execution_id, step_key, body) VALUES (?, ?, ?)
       ON CONFLICT(execution_id, step_key) DO UPDATE SET body = excluded.body`,
    ),
    runs: db.prepare('SELECT body FROM energy_step_runs WHERE execution_id = ? ORDER BY step_key'),
  };
  const bodies = <T>(rows: unknown[]): T[] => (rows as { body: string }[]).map(r => JSON.parse(r.body) as T);
  let prunedMs = 0;

  return {
    async savePolicy(p) {
      q.savePolicy.run(p.id, p.tenant, p.created_ms, JSON.stringify(p));
    },
    async getPolicy(tenant, id) {
      const row = q.getPolicy.get(tenant, id) as { body: string } | undefined;
      return row ? (JSON.parse(row.body) as EnergyPolicyRecord) : null;
    },
    async listPolicies(tenant) {
      return bodies<EnergyPolicyRecord>(q.listPolicies.all(tenant));
    },
    async listAllPolicies() {
      return bodies<EnergyPolicyRecord>(q.listAllPolicies.all());
    },
    async deletePolicy(tenant, id) {
      return Number(q.deletePolicy.run(tenant, id).changes) > 0;
    },
    async savePrices(key, prices) {
      q.savePrices.run(key, JSON.stringify(prices));
    },
    async prices(key) {
      const row = q.prices.get(key) as { body: string } | undefined;
      return row ? (JSON.parse(row.body) as StoredPrices) : null;
    },
    async createExecution(e, keep) {
      return database.transaction(() => {
        const created = Number(q.create.run(e.id, e.tenant, e.created_ms, e.finished_ms === null ? 1 : 0, JSON.stringify(e)).changes) === 1;
        if (created) {
          q.trim.run(e.tenant, e.tenant, keep);
          q.trimRuns.run();
        }
        return created;
      });
    },
    async updateExecution(e) {
      q.update.run(e.finished_ms === null ? 1 : 0, JSON.stringify(e), e.id);
    },
    async getExecution(tenant, id) {
      const row = q.getExecution.get(tenant, id) as { body: string } | undefined;
      return row ? (JSON.parse(row.body) as EnergyExecutionRecord) : null;
    },
    async listExecutions(tenant, limit) {
      return bodies<EnergyExecutionRecord>(q.listExecutions.all(tenant, limit));
    },
    async openExecutions() {
      return bodies<EnergyExecutionRecord>(q.open.all());
    },
    async claimStep(executionId, stepKey, holder, ttlMs) {
      const now = Date.now();
      return database.transaction(() => {
        if (now - prunedMs > 3_600_000) {
          prunedMs = now;
          q.pruneClaims.run(now);
        }
        return Number(q.claim.run(executionId, stepKey, holder, now + ttlMs, now).changes) === 1;
      });
    },
    async renewClaim(executionId, stepKey, holder, ttlMs) {
      const now = Date.now();
      return Number(q.renewClaim.run(now + ttlMs, executionId, stepKey, holder, now).changes) === 1;
    },
    async saveStepRun(executionId, run) {
      q.saveRun.run(executionId, run.key, JSON.stringify(run));
    },
    async stepRuns(executionId) {
      return bodies<EnergyStepRun>(q.runs.all(executionId));
    },
  };
}
