import type { TopicNames } from '../config';

/** The topics of CONTRACT.md section 5, by role. */
export type TopicRole = keyof TopicNames;

export interface TopicSpec {
  role: TopicRole;
  name: string;
  partitions: number;
}

/**
 * The topics the gateway creates at start-up. The three keyed-by-user topics share the
 * configured partition count so a user's events, processed events and alerts line up; the DLQ
 * is small and ordered.
 */
export function topicSpecs(names: TopicNames, partitions: number): TopicSpec[] {
  return [
    { role: 'activity', name: names.activity, partitions },
    { role: 'processed', name: names.processed, partitions },
    { role: 'alerts', name: names.alerts, partitions },
    { role: 'dlq', name: names.dlq, partitions: 1 },
  ];
}

/** Consumer group ids (CONTRACT.md section 5). */
export const ConsumerGroups = {
  processor: 'activity-processor',
  fraud: 'fraud-detector',
  /** One group per gateway instance: every instance sees every processed event and alert. */
  fanout: (instanceId: string) => `activity-gateway-fanout-${instanceId}`,
} as const;
