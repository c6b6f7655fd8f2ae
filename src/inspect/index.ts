/**
 * taskchart/inspect: record a run's XState inspection events as JSON lines, and read them back.
 *
 * @example
 * import { recordInspection, readInspection } from 'taskchart/inspect';
 */
export { recordInspection, type RecordInspectionOptions, type InspectionRecorder } from './recorder.js';
export { readInspection, replayInspection } from './reader.js';
export type { InspectionLine, InspectionEventType, RecordedSnapshot } from './line.js';
export { toJsonSafe, type JsonValue, type SerializedError } from './serialize.js';
