// Who may do what (docs/security.md "Roles"): pure decisions, no I/O.
//   admin      the platform: every tenant, every route
//   owner      one tenant: its keys, models, versions, aliases, audit
//   developer  one tenant: models, versions, aliases; no keys
//   viewer     one tenant: read and infer only
export const ROLES = ['admin', 'owner', 'developer', 'viewer'] as const;
export type Role = (typeof ROLES)[number];

export type Action =
  | 'tenants.manage' // create and list tenants
  | 'keys.manage'
  | 'keys.read'
  | 'models.write' // create, delete, upload, alias
  | 'models.read'
  | 'audit.read'
  | 'infer'
  | 'usage.read' // the usage API (docs/usage.md)
  | 'repository.manage'; // the Triton repository API over the filesystem models

const ALLOWED: Record<Role, ReadonlySet<Action>> = {
  admin: new Set<Action>([
    'tenants.manage',
    'keys.manage',
    'keys.read',
    'models.write',
    'models.read',
    'audit.read',
    'infer',
    'usage.read',
    'repository.manage',
  ]),
  owner: new Set<Action>([
    'keys.manage',
    'keys.read',
    'models.write',
    'models.read',
    'audit.read',
    'infer',
    'usage.read',
  ]),
  developer: new Set<Action>(['models.write', 'models.read', 'infer']),
  viewer: new Set<Action>(['models.read', 'infer']),
};

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}

export function mayDo(roles: readonly string[], action: Action): boolean {
  return roles.some((r) => isRole(r) && ALLOWED[r].has(action));
}

// A key may only be made with a role at most the maker's own (an owner cannot mint admins).
export function mayGrant(roles: readonly string[], role: Role): boolean {
  if (roles.includes('admin')) return true;
  return roles.includes('owner') && role !== 'admin';
}
