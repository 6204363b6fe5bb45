/**
 * npm run hl7-listen -- --port <n> [--host <address>] [--answer AE|AR] [--jsonl <file>]
 * A small MLLP receiver for trying pumpwatch's IHE PCD feed: prints each message readably (one
 * segment a line, the checks it failed) and answers AA, or AE with the reason when it is not a
 * valid PCD-01/-04/-10 message; --answer forces AE or AR to try the sender's retry policy;
 * --jsonl appends each message as one JSON line to a file (for scripts), before answering it.
 */
import { appendFileSync } from 'node:fs';
import type { AckCode } from '../hl7/ack.ts';
import { Hl7Listener, type Received } from '../hl7/listener.ts';

const USAGE = 'usage: npm run hl7-listen -- --port <n> [--host <address>] [--answer AE|AR] [--jsonl <file>]';

interface Args { port: number; host: string; answer: AckCode | null; jsonl: string | null }

function parseArgs(argv: string[]): Args {
  let port = NaN;
  let host = '127.0.0.1';
  let answer: AckCode | null = null;
  let jsonl: string | null = null;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const v = argv[i + 1];
    if (a === '--port' && v !== undefined) { port = Number(v); i++; }
    else if (a === '--host' && v !== undefined) { host = v; i++; }
    else if (a === '--answer' && (v === 'AE' || v === 'AR' || v === 'AA')) { answer = v; i++; }
    else if (a === '--jsonl' && v !== undefined) { jsonl = v; i++; }
    else throw new Error(`unknown or incomplete argument "${a ?? ''}"`);
  }
  if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new Error('--port must be a TCP port');
  return { port, host, answer, jsonl };
}

/** one JSON line a message: when, its control id and type, the answer, the failed checks, the text as received */
function record(file: string, r: Received): void {
  const m = r.message;
  const type = m ? ['MSH.9.1', 'MSH.9.2', 'MSH.9.3'].map((f) => m.get(f).toString()).join('^') : null;
  appendFileSync(file, `${JSON.stringify({ receivedAt: new Date().toISOString(), controlId: r.controlId, type, profile: r.profile, answered: r.answered, errors: r.errors, text: r.text })}\n`);
}

function show(r: Received): void {
  const head = `${r.profile ?? 'unknown profile'} ${r.controlId} → ${r.answered}`;
  const body = r.text.split(/\r\n|\r|\n/).filter((s) => s !== '').map((s) => `  ${s}`).join('\n');
  const problems = r.errors.map((e) => `  ! ${e}`).join('\n');
  process.stdout.write(`${new Date().toISOString()} ${head}\n${body}\n${problems ? `${problems}\n` : ''}\n`);
}

async function main(): Promise<void> {
  let args;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n${USAGE}\n`);
    process.exit(2);
  }
  const jsonl = args.jsonl;
  const listener = new Hl7Listener({
    port: args.port, host: args.host, answer: args.answer,
    onMessage: (r) => {
      if (jsonl) record(jsonl, r);
      show(r);
    },
  });
  const port = await listener.listen();
  process.stdout.write(`listening for MLLP on ${args.host}:${port}${args.answer ? `, answering ${args.answer}` : ''}\n`);
  const stop = (): void => {
    void listener.close().then(() => process.exit(0));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

void main();
