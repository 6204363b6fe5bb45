// Rewrites the metrics table in docs/server.md from server/metrics/catalogue.ts.
import { readFileSync, writeFileSync } from 'node:fs';
import { withMetricsTable } from '../server/metrics/metricsDoc.ts';

const path = new URL('../docs/server.md', import.meta.url);
writeFileSync(path, withMetricsTable(readFileSync(path, 'utf8')));
