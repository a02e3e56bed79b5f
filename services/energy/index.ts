/**
 * Energy-aware operation, the domain core: price and signal sources, curtailment policies and
 * plans, profitability. Pure computation over plain typed data (plus the price adapters' I/O);
 * transports and jobs wire it in.
 */
export { energyMinerSchema, MINER_POWER_STATES, type EnergyMiner, type MinerPowerState } from './energy-miner.ts';
export {
  curtailmentPolicySchema,
  parseCurtailmentPolicy,
  windowId,
  CURTAIL_METHODS,
  CURTAIL_ORDERS,
  type CurtailmentPolicy,
  type CurtailMethod,
  type CurtailTarget,
} from './policy.ts';
export {
  makePriceCurve,
  priceCurveSchema,
  resolvePrices,
  PRICE_FALLBACKS,
  type PriceCurve,
  type PriceInterval,
  type PriceFallback,
  type ResolvedPrices,
  type StalenessRule,
} from './price-curve.ts';
export { planCurtailment, type PricePlanInput } from './planner.ts';
export { planDemandResponse, type DemandResponsePlanInput } from './demand-response-plan.ts';
export type { CurtailmentPlan, PlanStep, PlanStepMiner, PlanWindow, PlanTotals, PriceStatus, SitePlan, SkipReason, WindowReason } from './plan.ts';
export { computeProfitability, losingMiners, breakEvenPricePerMwh, profitabilityInputSchema, type ProfitabilityReport, type MinerEconomics } from './profitability.ts';
export { fixedTariffCurve, parseFixedTariff, fixedTariffSchema, type FixedTariffConfig } from './prices/fixed-tariff.ts';
export { fetchHttpPriceFeed, parseHttpFeedConfig, httpFeedSchema, type HttpFeedConfig } from './prices/http-feed.ts';
export { parseDayAheadCsv, parseDayAheadJson, readDayAheadFile, type DayAheadOptions } from './prices/day-ahead-file.ts';
export { parseDemandResponseSignal, demandResponseInputSchema, type DemandResponseSignal } from './prices/demand-response.ts';
export { parseHashpriceSource, readHashprice, hashpriceSourceSchema, type Hashprice, type HashpriceSource } from './prices/hashprice-feed.ts';
