import { createKafka, deleteTopicsAndGroups } from '../../src/kafka/client';
import { createLogger } from '../../src/logger';
import { BROKERS } from './config';

/**
 * The names of a run's topics and consumer groups: each starts with a prefix handed out here, so
 * that the run can delete all of them at its end (a full run leaves hundreds of MB in the
 * broker's log otherwise) and nothing of a concurrent run.
 */
export class RunTopics {
  private readonly prefixes = new Set<string>();

  /** A new prefix: a gateway given it names its topics and groups `<prefix>.…`. */
  prefix(): string {
    const p = `bench-${Date.now().toString(36)}-${Math.floor(Math.random() * 1e6)}`;
    this.prefixes.add(p);
    return p;
  }

  /** Creates a topic for a process that does not create its own (say `${prefix()}.peer`). */
  async create(topic: string, numPartitions: number): Promise<void> {
    const admin = this.kafka('bench-topics').admin();
    await admin.connect();
    try {
      await admin.createTopics({ topics: [{ topic, numPartitions }] });
    } finally {
      await admin.disconnect();
    }
  }

  /** Deletes the topics and consumer groups of this run's prefixes (a group with members left is left to the broker). */
  async deleteAll(): Promise<{ topics: number; groups: number }> {
    return deleteTopicsAndGroups(this.kafka('bench-cleanup'), (name) => [...this.prefixes].some((p) => name.startsWith(`${p}.`)));
  }

  private kafka(clientId: string) {
    return createKafka({ brokers: BROKERS.split(','), clientId, logger: createLogger('silent') });
  }
}
