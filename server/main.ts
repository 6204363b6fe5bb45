/** `npm run server`: configuration from the environment, then listen on HOST:PORT until SIGTERM/SIGINT. */
import pino from 'pino';
import { createEpisodeTracker } from './billing/index.ts';
import { buildServer } from './app.ts';
import { ConfigError, loadConfig, type ServerConfig } from './config.ts';
import { createDetectionEngine, DEFAULT_DETECTION_CONFIG } from './engine/index.ts';
import { tlsFiles } from './http/options.ts';
import { registerHttp } from './http/registerHttp.ts';

let config: Readonly<ServerConfig>;
try {
  config = loadConfig(process.env);
} catch (err) {
  if (err instanceof ConfigError) {
    process.stderr.write(`pumpwatch server: ${err.message}\n`);
    process.exit(2);
  }
  throw err;
}

const root = pino({ level: config.logLevel, base: { pid: process.pid } });
const log = root.child({ component: 'server' });

async function main(): Promise<void> {
  const https = config.httpsCertFile && config.httpsKeyFile ? tlsFiles(config.httpsCertFile, config.httpsKeyFile) : null;
  const server = await buildServer({
    config, log: root,
    createEngine: createDetectionEngine,
    detectionDefaults: DEFAULT_DETECTION_CONFIG,
    createTracker: createEpisodeTracker,
    registerHttp,
    fastify: {
      // warn and above: requests are not logged one by one (dashboards poll), errors are
      loggerInstance: root.child({ component: 'http' }, { level: 'warn' }),
      ...(https ? { https } : {}),
      ...(config.trustProxy ? { trustProxy: config.trustProxy } : {}),
    },
    http: { https: https !== null, allowedOrigins: config.allowedOrigins },
  });
  let stopping = false;
  const shutdown = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    server.stop().then(
      () => {
        log.info({}, 'stopped');
        process.exit(0);
      },
      (err: unknown) => {
        log.error({ err: (err as Error).message }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  await server.start();
  const address = await server.app.listen({ host: config.host, port: config.port });
  log.info({ url: address, mqtt: config.mqttUrl, influx: config.influxUrl, shard: config.shard }, 'listening');
}

main().catch((err: unknown) => {
  const e = err as NodeJS.ErrnoException;
  process.stderr.write(`pumpwatch server: ${e.code ? `${e.code} ` : ''}${e.message}\n`);
  process.exit(1);
});
