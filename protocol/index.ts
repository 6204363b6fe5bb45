export * from './api.ts';
export * from './checksum.ts';
export * from './decode.ts';
export * from './encode.ts';
export * from './errors.ts';
export * from './payloads.ts';
export * from './sentence.ts';
export * from './topics.ts';
