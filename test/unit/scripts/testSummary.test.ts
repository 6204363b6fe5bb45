import assert from 'node:assert/strict';
import { describe, test } from 'vitest';
import { summarize, type VitestJsonReport } from '../../../scripts/testSummary.ts';

type FileResult = VitestJsonReport['testResults'][number];

function file(name: string, statuses: string[], status = statuses.includes('failed') ? 'failed' : 'passed', message = ''): FileResult {
  return { name, status, message, assertionResults: statuses.map((s) => ({ status: s })) };
}

/** A report as vitest's JSON reporter writes it, with the counts derived from the files. */
function report(files: FileResult[], over: Partial<VitestJsonReport> = {}): VitestJsonReport {
  const all = files.flatMap((f) => f.assertionResults.map((a) => a.status));
  const failedFiles = files.filter((f) => f.status === 'failed').length;
  return {
    numPassedTests: all.filter((s) => s === 'passed').length,
    numFailedTests: all.filter((s) => s === 'failed').length,
    numPendingTests: all.filter((s) => s === 'skipped' || s === 'pending').length,
    numTodoTests: all.filter((s) => s === 'todo').length,
    numFailedTestSuites: failedFiles,
    success: failedFiles === 0,
    testResults: files,
    ...over,
  };
}

describe('npm test closing line', () => {
  test('all passed: the run succeeds', () => {
    const s = summarize(report([file('a', ['passed', 'passed']), file('b', ['passed'])]), 0);
    assert.deepEqual(s, { passed: 3, failed: 0, skipped: 0, ok: true, line: '3 passed, 0 failed, 0 skipped' });
  });

  test('a failed test fails the run', () => {
    const s = summarize(report([file('a', ['passed', 'failed'])]), 1);
    assert.equal(s.line, '1 passed, 1 failed, 0 skipped');
    assert.equal(s.ok, false);
  });

  test('a file that threw at import has no tests and counts as one failed', () => {
    const s = summarize(report([file('a', ['passed']), file('b', [], 'failed', 'boom at import')]), 1);
    assert.equal(s.line, '1 passed, 1 failed, 0 skipped');
    assert.equal(s.ok, false);
  });

  test('a file whose hook failed counts as one failed even though its tests show as skipped', () => {
    const s = summarize(report([file('a', ['passed']), file('c', ['skipped', 'skipped'], 'failed', 'hook')]), 1);
    assert.equal(s.line, '1 passed, 1 failed, 2 skipped');
    assert.equal(s.ok, false);
  });

  test('a failed file is not counted twice when its failed tests already count', () => {
    const s = summarize(report([file('a', ['failed', 'failed', 'passed'])]), 1);
    assert.equal(s.failed, 2);
  });

  test('a skipped test fails the run', () => {
    const s = summarize(report([file('a', ['passed', 'skipped'])]), 0);
    assert.equal(s.line, '1 passed, 0 failed, 1 skipped');
    assert.equal(s.ok, false);
  });

  test('a todo test fails the run and counts as skipped', () => {
    const s = summarize(report([file('a', ['passed', 'todo'])]), 0);
    assert.equal(s.line, '1 passed, 0 failed, 1 skipped');
    assert.equal(s.ok, false);
  });

  test('nothing passed: the run fails', () => {
    const s = summarize(report([]), 0);
    assert.equal(s.line, '0 passed, 0 failed, 0 skipped');
    assert.equal(s.ok, false);
  });

  test('no JSON report: one failed', () => {
    const s = summarize(undefined, 1);
    assert.equal(s.line, '0 passed, 1 failed, 0 skipped');
    assert.equal(s.ok, false);
  });

  test('vitest exited non-zero with every test passed (an unhandled error): one failed', () => {
    const s = summarize(report([file('d', ['passed', 'passed'])]), 1);
    assert.equal(s.line, '2 passed, 1 failed, 0 skipped');
    assert.equal(s.ok, false);
  });

  test('a failed suite the file status does not show still fails the run', () => {
    const s = summarize(report([file('a', ['passed'])], { numFailedTestSuites: 1, success: false }), 1);
    assert.equal(s.failed, 1);
    assert.equal(s.ok, false);
  });
});
