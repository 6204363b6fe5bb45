/** One row of the `npm run bench` table. */
export interface BenchRow {
  /** area, e.g. "gateway", "server", "billing", "dashboard", "scale-out" */
  area: string;
  metric: string;
  value: number;
  unit: string;
  /** the target as text, e.g. ">= 5000" */
  target?: string;
  /** whether value meets target */
  pass?: boolean;
}

/** Each bench/<area>.bench.ts exports `run` and stops by itself; only 127.0.0.1 is ever targeted. */
export type BenchRun = () => Promise<BenchRow[]>;
