// The journal's public face: writer, reader, verifier, replay/resume and the retrospective.
export * from './journal.js';
export { canonicalJSON, parseLine } from './canonical.js';
export { report, reportFrom, type ReportOptions } from './report.js';
