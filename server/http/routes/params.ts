/** JSON-schema pieces shared by the routes. */
export const PUMP_PARAM = { type: 'string', pattern: '^[A-Z0-9-]{3,20}$' } as const;
export const ID_PARAM = { type: 'string', pattern: '^[A-Za-z0-9._:~-]{1,200}$' } as const;

export const NURSE: readonly ('nurse' | 'admin')[] = ['nurse', 'admin'];
export const BILLING: readonly ('billing' | 'admin')[] = ['billing', 'admin'];
export const ADMIN: readonly 'admin'[] = ['admin'];
