/** Caller roles, least to most privileged. */
export type Role = 'agent' | 'owner' | 'operator' | 'host';
export const ROLE_RANK: Readonly<Record<Role, number>> = { agent: 0, owner: 1, operator: 2, host: 3 };
