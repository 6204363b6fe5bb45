/**
 * Which folder may import which (docs/architecture.md, "Layers"). Each entry may import itself and
 * the entries listed before it, never one listed after it, type-only imports included: a folder
 * cycle is impossible by construction. import-x/no-cycle adds the file-level check for value
 * imports. eslint.config.js applies this; test/unit/lint/importLayers.test.ts proves both rules fire.
 */
import importX, { createNodeResolver } from 'eslint-plugin-import-x';

/** bottom first */
export const SERVER_LAYERS = [
  ['protocol'],
  ['durable'],
  ['server/clock.ts'],
  ['server/thresholds'],
  // the pure detection and billing domain: data and a clock in, decisions out
  ['server/pumps'],
  ['server/alerts'],
  ['server/detectors'],
  ['server/engine'],
  ['server/billing'],
  // facts the core publishes, and the live shapes built from them
  ['server/events'],
  ['server/config.ts', 'server/config'],
  ['server/auth'],
  // adapters: InfluxDB storage, MQTT ingest and its journal, metrics, WebSocket hub, HTTP API
  ['server/storage'],
  // PostgreSQL: the pool, then patients, orders and pump assignments kept there
  ['server/db'],
  ['server/clinical'],
  ['server/ingest'],
  ['server/metrics'],
  // outputs that act on the core's facts: paging people on call, HL7 to the hospital's systems
  ['server/paging'],
  ['server/hl7'],
  ['server/live'],
  ['server/http'],
  // the core service that applies input to the domain, then scale-out around it, then the wiring
  ['server/core'],
  ['server/cluster'],
  ['server/app.ts'],
  ['server/main.ts', 'server/cli'],
];

/** the domain may import none of these, whatever the order above says */
const IO_LAYERS = ['server/http', 'server/live', 'server/storage', 'server/db', 'server/clinical', 'server/ingest', 'server/metrics', 'server/paging', 'server/hl7', 'server/core', 'server/cluster', 'server/app.ts', 'server/main.ts'];
const DOMAIN = ['server/pumps', 'server/alerts', 'server/detectors', 'server/engine', 'server/billing', 'server/thresholds'];

function layerZones() {
  const zones = [];
  SERVER_LAYERS.forEach((layer, i) => {
    const above = SERVER_LAYERS.slice(i + 1).flat();
    if (above.length === 0) return;
    for (const target of layer) {
      zones.push({ target, from: above, message: `${target} is below these in the layer order of eslint.layers.js` });
    }
  });
  for (const target of DOMAIN) zones.push({ target, from: IO_LAYERS, message: 'the pure domain never imports an I/O layer' });
  zones.push(
    { target: 'protocol', from: ['server', 'gateway', 'durable', 'simulators', 'dashboard', 'scripts', 'bench'], message: 'protocol/ is the wire contract: it imports nothing of ours' },
    { target: 'durable', from: ['server', 'gateway', 'protocol', 'simulators', 'dashboard', 'scripts', 'bench'], message: 'durable/ imports nothing but itself' },
    { target: 'gateway', from: ['server', 'simulators', 'dashboard'], message: 'the gateway runs alone in a home: protocol/ and durable/ only' },
    { target: 'simulators', from: ['server', 'gateway', 'dashboard'], message: 'simulators speak the protocol, nothing else' },
    { target: 'dashboard/src', from: ['server', 'gateway', 'durable', 'simulators'], message: 'the dashboard knows the server through protocol/ only' },
    // the core and the cluster implement the HTTP layer's port; nothing else of HTTP is theirs
    { target: 'server/core', from: 'server/http', except: ['./backend.ts'], message: 'server/core may import the port server/http/backend.ts only' },
    { target: 'server/cluster', from: 'server/http', except: ['./backend.ts'], message: 'server/cluster may import the port server/http/backend.ts only' },
  );
  return zones;
}

/** the import rules, as one flat-config entry (no type information needed) */
export function importLayersConfig(basePath) {
  return {
    files: ['**/*.ts'],
    plugins: { 'import-x': importX },
    settings: {
      // the project imports with explicit .ts specifiers, which the plain node resolver follows
      'import-x/resolver-next': [createNodeResolver({ extensions: ['.ts', '.js', '.mjs'] })],
      'import-x/extensions': ['.ts', '.js', '.mjs'],
    },
    rules: {
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
      'import-x/no-restricted-paths': ['error', { basePath, zones: layerZones() }],
    },
  };
}
