import { pino } from 'pino';
import { ConfigError, parseConfig, USAGE } from './config.ts';
import { blockEventLoop } from './faults.ts';
import { Gateway } from './gateway.ts';
import { MemoryGovernor } from './memoryGovernor.ts';

if (process.argv.includes('--help') || process.argv.includes('-h')) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}

let cfg;
try {
  cfg = parseConfig(process.argv.slice(2), process.env);
} catch (err) {
  if (!(err instanceof ConfigError)) throw err;
  process.stderr.write(`gateway: ${err.message} (${USAGE.split(' ').slice(0, 4).join(' ')} ...)\n`);
  process.exit(2);
}

const log = pino({ base: { gateway: cfg.id } });
const gateway = new Gateway(cfg, log);
const mainLog = log.child({ component: 'gateway' });

process.on('uncaughtException', (err) => {
  // last resort: log it; the durable queue keeps what was accepted and a restart picks it up
  mainLog.fatal({ event: 'crash', err: err.message, stack: err.stack }, 'uncaught exception');
  process.exit(1);
});

let stopping = false;
const shutdown = (signal: string): void => {
  if (stopping) return;
  stopping = true;
  mainLog.info({ event: 'shutdown', signal }, 'shutting down');
  memory.stop();
  gateway.stop().then(() => process.exit(0), (err: unknown) => {
    mainLog.error({ event: 'shutdown_failed', err: (err as Error).message }, 'shutdown failed');
    process.exit(1);
  });
};
process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGINT', () => shutdown('SIGINT'));

process.on('unhandledRejection', (err) => {
  mainLog.error({ event: 'unhandled_rejection', err: (err as Error | undefined)?.message }, 'unhandled rejection');
});

const memory = new MemoryGovernor();
memory.start();
try {
  gateway.start();
} catch (err) {
  // e.g. a queue folder that cannot be created or read: a configuration problem
  process.stderr.write(`gateway: cannot start: ${(err as Error).message}\n`);
  process.exit(1);
}

const fault = cfg.testFault;
if (fault?.kind === 'block-loop') {
  setTimeout(() => {
    mainLog.warn({ event: 'fault_block_loop' }, 'test fault: blocking the event loop');
    blockEventLoop();
  }, fault.afterMs);
}
if (fault) mainLog.warn({ event: 'fault', fault }, 'test fault injected (PUMPWATCH_GATEWAY_FAULT)');
