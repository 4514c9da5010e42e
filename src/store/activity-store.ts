// What src/app.ts still imports from here, until it reads through latestSeq and eventsInSeqRange
// (event-queries.ts) and takes StoredEvent from rows.ts; then this file goes.
export { EVENT_COLUMNS, toStoredEvent, type EventRow, type StoredEvent } from './rows';
