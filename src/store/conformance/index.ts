/**
 * The conformance suites a Store driver runs to prove itself (`spool-queue/conformance`).
 * Both define node:test suites: call them at the top level of a test file run by `node --test`.
 * - {@link runDriverConformance}: the Store called directly, method by method.
 * - {@link runStoreConformance}: Spool's behaviour through the public contract (API level), on the store: in-process and through a broker.
 * @module spool-queue/conformance
 */
export { runDriverConformance } from './driver/suite.ts';
export type { DriverArea, DriverConformanceOptions, DriverData, DriverFactory, DriverSkip, SchemaProbe } from './driver/types.ts';
export { runStoreConformance, type StoreConformanceOptions } from './conformance.ts';
export type { StoreFactory, StoreTestOptions } from './harness.ts';
