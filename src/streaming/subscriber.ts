import type { DocumentNode, GraphQLSchema } from 'graphql';
import type { GatewayContext, SocketTarget } from '../context';
import { ClientError, ErrorCode } from '../errors';
import type { PushIterator } from './push-iterator';
import type { Outlet } from './frames';

/**
 * What a subscription's own iterator yields: only the end. Data never goes through it: the hub
 * writes `next` messages to the socket itself, rendered once per distinct selection.
 */
export class SubscriptionEnd {
  constructor(readonly error: ClientError) {}
}

/**
 * A subscription's selection: subscribers with equal keys receive byte-identical payloads. One
 * object per key is kept while any subscription has it, so a delivery groups subscribers by the
 * object, not by its key.
 */
export interface Selection {
  key: string;
  /** Subscriptions that have it. */
  users: number;
  schema: GraphQLSchema;
  document: DocumentNode;
  variableValues: Record<string, unknown>;
  operationName?: string;
}

/** One live subscription of one socket, whatever it streams. */
export interface Subscriber {
  target: SocketTarget;
  /** The socket's way out, shared by the socket's subscriptions. */
  outlet: Outlet;
  /** `{"id":…,"type":"next","payload":` for this subscription. */
  prefix: Buffer;
  selection: Selection;
  context: GatewayContext;
  control: PushIterator<unknown>;
  ended: boolean;
  /** The last event sent (or the position it started after), for streams of events: what `resumeAfter` names. */
  lastSeq?: number;
  /** Takes it out of the stream it belongs to; safe to call more than once. */
  detach(): void;
}

export const slowConsumer = (resumeAfter: string): ClientError =>
  new ClientError(ErrorCode.SLOW_CONSUMER, 'This subscription fell too far behind and was ended; resubscribe with `after: resumeAfter`.', {
    resumeAfter,
  });
