/**
 * Energy-aware operation's storage: curtailment policies (per tenant), the price curves the
 * feed pollers fetched, and curtailment executions: the plan of one window frozen when the
 * window opens, the record of each step that ran, and the claim that lets one process (of
 * several API replicas) run a step exactly once. What each step changed per miner is kept in
 * the schedules port's window memo (the control service writes it there).
 *
 * The port keeps policy and execution objects as given and reads them back as written; only
 * the fields named here are its own business (ownership, order, open or finished).
 */

export interface EnergyPolicyRecord {
  id: string;
  tenant: string;
  created_ms: number;
}

export interface EnergyExecutionRecord {
  id: string;
  tenant: string;
  policy_id: string;
  created_ms: number;
  /** set once every restore has succeeded (or the execution was abandoned on purpose) */
  finished_ms: number | null;
}

/** What happened to one step (a claim won, jobs enqueued); the port stores it as given. */
export type EnergyStepRun = Record<string, unknown> & { key: string };

/** The latest price curve of a policy's source, and how fetching it went. */
export interface StoredPrices {
  /** the PriceCurve as JSON-able data, null when none was ever fetched */
  curve: unknown;
  last_attempt_ms: number;
  last_success_ms: number | null;
  last_error: string | null;
  /** when the source first had no curve at all (anchors missing-price windows) */
  missing_since_ms: number | null;
}

export interface EnergyPort {
  savePolicy(policy: EnergyPolicyRecord): Promise<void>;
  /** The tenant's policy, or null (another tenant's id reads as unknown). */
  getPolicy(tenant: string, id: string): Promise<EnergyPolicyRecord | null>;
  /** The tenant's policies, oldest first. */
  listPolicies(tenant: string): Promise<EnergyPolicyRecord[]>;
  /** Every tenant's policies (the executor evaluates them all). */
  listAllPolicies(): Promise<EnergyPolicyRecord[]>;
  deletePolicy(tenant: string, id: string): Promise<boolean>;

  savePrices(policyKey: string, prices: StoredPrices): Promise<void>;
  prices(policyKey: string): Promise<StoredPrices | null>;

  /**
   * Store a new execution unless one with this id exists: true for the one caller (in all
   * processes) that created it; everyone else reads the stored one.
   */
  createExecution(execution: EnergyExecutionRecord, keep: number): Promise<boolean>;
  /** Overwrite an existing execution (finished_ms, notes). */
  updateExecution(execution: EnergyExecutionRecord): Promise<void>;
  getExecution(tenant: string, id: string): Promise<EnergyExecutionRecord | null>;
  /** The tenant's executions, newest first. */
  listExecutions(tenant: string, limit: number): Promise<EnergyExecutionRecord[]>;
  /** Executions of every tenant with finished_ms null. */
  openExecutions(): Promise<EnergyExecutionRecord[]>;

  /**
   * Exactly one claimer in all processes wins (true); the claim is held for ttlMs, after which
   * anyone may claim the step again.
   */
  claimStep(executionId: string, stepKey: string, holder: string, ttlMs: number): Promise<boolean>;
  /** Hold a claim `holder` still has for ttlMs from now; false when it lapsed or another holds it. */
  renewClaim(executionId: string, stepKey: string, holder: string, ttlMs: number): Promise<boolean>;
  saveStepRun(executionId: string, run: EnergyStepRun): Promise<void>;
  stepRuns(executionId: string): Promise<EnergyStepRun[]>;
}
