// tests/unit/start-flags.test.ts imports startFlags from here; the harness lives in ./harness.
export { startFlags } from './harness/gateway';
