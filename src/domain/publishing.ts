/** One record to publish. */
export interface OutgoingRecord {
  topic: string;
  /** The partitioning key; null spreads records over partitions. */
  key: string | null;
  value: string | Buffer;
  headers: Record<string, string>;
}

/** Where a record was durably written. */
export interface RecordPosition {
  topic: string;
  partition: number;
  offset: string;
}

export interface PublishOptions {
  /**
   * The records are already a batch (the processor's group): they go at the end of this turn
   * of the event loop, or as soon as the request in flight returns, without waiting `lingerMs`
   * for company.
   */
  immediate?: boolean;
}

/**
 * What recording, processing and fraud detection need of Kafka: records written durably, in
 * order per key, each with its position.
 * @throws when the records could not be written within the publisher's bounds.
 */
export interface Publisher {
  publish(records: OutgoingRecord[], options?: PublishOptions): Promise<RecordPosition[]>;
}
