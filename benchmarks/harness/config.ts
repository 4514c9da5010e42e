import { join } from 'node:path';

/** Where the repository is: compiled bench processes, the gateway's build and bench-results live below it. */
export const ROOT = join(__dirname, '..', '..');
/** The HS256 secret every gateway and client of a run shares. */
export const SECRET = 'bench-secret-that-is-long-enough-for-hs256-0123456789';
export const PG_URL = process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const BROKERS = process.env.BENCH_KAFKA_BROKERS ?? '127.0.0.1:9092';
