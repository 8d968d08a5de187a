// Which batcher priority level a request enters (docs/resilience.md "Tenant
// priorities"): its tenant's class for online work, the lowest level for
// jobs. Pure; the runtime applies it to every request.
import type { DynamicBatchingConfig } from '../catalog/config-types';
import type { WorkClass } from '../inference/call';

export const TENANT_PRIORITIES = ['premium', 'standard'] as const;
export type TenantPriority = (typeof TENANT_PRIORITIES)[number];

export function isTenantPriority(v: unknown): v is TenantPriority {
  return v === 'premium' || v === 'standard';
}

// Levels of one model's batcher (1 is served first).
export interface LevelPlan {
  levels: number;
  premium: number;
  standard: number; // also what a request without a tenant and without a `priority` gets
  job: number;
}

// A model without priority_levels gets three: premium, standard, jobs. One
// with its own keeps them: premium is level 1, standard its
// default_priority_level, jobs its lowest level.
export const GATEWAY_LEVELS: LevelPlan = Object.freeze({ levels: 3, premium: 1, standard: 2, job: 3 });

export function levelPlan(db: DynamicBatchingConfig | undefined): LevelPlan {
  const levels = db?.priority_levels ?? 0;
  if (levels <= 0) return GATEWAY_LEVELS;
  const standard = db?.default_priority_level || levels;
  return { levels, premium: 1, standard, job: levels };
}

// A request's own `priority` parameter (1..levels; 0 = none) may lower its
// place, never raise it above its tenant's class; without a tenant (no
// auth) it applies as in Triton.
export function requestLevel(
  plan: LevelPlan,
  tenant: TenantPriority | undefined,
  workClass: WorkClass | undefined,
  requested: number,
): number {
  if (workClass === 'job') return plan.job;
  const floor = tenant === 'premium' ? plan.premium : tenant === 'standard' ? plan.standard : 1;
  if (Number.isInteger(requested) && requested >= 1 && requested <= plan.levels) return Math.max(floor, requested);
  return tenant === undefined ? plan.standard : floor;
}
