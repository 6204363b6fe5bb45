/** JSON-schema pieces shared by the routes. */
export const PUMP_PARAM = { type: 'string', pattern: '^[A-Z0-9-]{3,20}$' } as const;
export const ID_PARAM = { type: 'string', pattern: '^[A-Za-z0-9._:~-]{1,200}$' } as const;

export const NURSE: readonly ('nurse' | 'admin')[] = ['nurse', 'admin'];
export const BILLING: readonly ('billing' | 'admin')[] = ['billing', 'admin'];
export const ADMIN: readonly 'admin'[] = ['admin'];
/** the board, read-only: pumps, telemetry, alerts and the live socket (a pharmacist sees what is running, acknowledges nothing) */
export const BOARD: readonly ('nurse' | 'pharmacist' | 'admin')[] = ['nurse', 'pharmacist', 'admin'];
/** clinical records, read (§6): a nurse must see whom to call, billing whom it bills */
export const CLINICAL_READ: readonly ('nurse' | 'billing' | 'pharmacist' | 'admin')[] = ['nurse', 'billing', 'pharmacist', 'admin'];
/** clinical records, change (§6) */
export const CLINICAL_WRITE: readonly ('pharmacist' | 'admin')[] = ['pharmacist', 'admin'];
