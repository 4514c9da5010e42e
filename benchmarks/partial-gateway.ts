// References for scenario 1: the compiled gateway, started as `npm start` would, with part of
// recording taken out: (a), the no-op mutation, and (a2). Runs compiled (dist/benchmarks), as
// every process the bench starts does, so no loader hook costs it anything.
//   PART=graphql   recordActivity answers without recording: the HTTP stack, authentication,
//                  GraphQL's coercion of the input, authorization and the resolver only.
//   PART=no-kafka  events are authorized, stamped, validated, rate-limited and remembered as
//                  the gateway does, then acknowledged in this process instead of by Kafka.
// Nothing else differs from the gateway (same configuration, same process layout).
import { randomUUID } from 'node:crypto';
import { configOrExit, run } from '../src/main';
import { ActivityRecorder } from '../src/recording/recorder';

type Recorder = InstanceType<typeof ActivityRecorder>;
type Receipt = Awaited<ReturnType<Recorder['record']>>[number];

class Unrecorded extends ActivityRecorder {
  override async record(...[, , inputs]: Parameters<Recorder['record']>): Promise<Receipt[]> {
    const receivedAt = new Date();
    return inputs.map((i) => ({ eventId: i.eventId ?? randomUUID(), duplicate: false, receivedAt, topic: 'none', partition: 0, offset: '0' }));
  }
}

const part = process.env.PART;
if (part !== 'graphql' && part !== 'no-kafka') throw new Error('PART must be graphql or no-kafka');

void run(configOrExit(process.env), {
  recorder: (deps) =>
    part === 'graphql'
      ? new Unrecorded(deps)
      : new ActivityRecorder({ ...deps, publisher: { publish: async (records) => records.map((r, i) => ({ topic: r.topic, partition: 0, offset: String(i) })) } }),
});
