/**
 * The closing line of `npm test`, from vitest's JSON report: `N passed, N failed, N skipped`.
 * Usage: node --import tsx scripts/testSummary.ts <report.json> <vitest exit code>
 * Exits 1 when the run must fail (rules in docs/testing.md).
 */
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

/** The part of vitest's JSON reporter output the summary reads. */
export interface VitestJsonReport {
  numPassedTests: number;
  numFailedTests: number;
  numPendingTests: number;
  numTodoTests: number;
  numFailedTestSuites: number;
  success: boolean;
  testResults: { name: string; status: string; message?: string; assertionResults: { status: string }[] }[];
}

export interface TestSummary {
  passed: number;
  failed: number;
  skipped: number;
  ok: boolean;
  line: string;
}

/**
 * `report` is undefined when vitest wrote no JSON (it crashed, or the config did not load).
 * A file that failed without a failed test in it (it threw at import, or a hook failed) counts as
 * one failed test; so does a run vitest itself ended with a non-zero exit code while nothing
 * failed in the report (an unhandled error outside any test).
 */
export function summarize(report: VitestJsonReport | undefined, runnerExitCode: number): TestSummary {
  if (!report) return finish(0, 1, 0);
  const passed = report.numPassedTests;
  let failed = report.numFailedTests;
  for (const file of report.testResults) {
    const failedInFile = file.assertionResults.filter((t) => t.status === 'failed').length;
    if (file.status === 'failed' && failedInFile === 0) failed += 1;
  }
  if (failed === 0 && (report.numFailedTestSuites > 0 || !report.success || runnerExitCode !== 0)) failed = 1;
  // a skipped or todo test proved nothing: it fails the run
  const skipped = report.numPendingTests + report.numTodoTests;
  return finish(passed, failed, skipped);
}

function finish(passed: number, failed: number, skipped: number): TestSummary {
  const ok = failed === 0 && skipped === 0 && passed > 0;
  return { passed, failed, skipped, ok, line: `${passed} passed, ${failed} failed, ${skipped} skipped` };
}

function readReport(path: string): VitestJsonReport | undefined {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as VitestJsonReport;
  } catch {
    return undefined;
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [path = '', exitCode = '1'] = process.argv.slice(2);
  const summary = summarize(readReport(path), Number(exitCode));
  console.log(summary.line);
  process.exit(summary.ok ? 0 : 1);
}
