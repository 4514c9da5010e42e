import type { GraphQLResolveInfo } from 'graphql';
import WebSocket from 'ws';
import { canReadAll } from '../auth/principal';
import type { GatewayContext } from '../context';
import { maskError, type ClientError } from '../errors';
import { PushIterator } from './push-iterator';
import type { SocketOutbox } from './frames';
import type { Selections } from './selections';
import { SubscriptionEnd, type Subscriber } from './subscriber';

const SUFFIX = Buffer.from('}');

/**
 * Opens and ends subscriptions, whatever they stream, and knows the subscriptions of each
 * socket, so that a socket whose token expires ends all of them at once.
 */
export class SubscriptionRegistry {
  private readonly bySocket = new WeakMap<WebSocket, Set<Subscriber>>();

  constructor(
    private readonly outbox: SocketOutbox,
    private readonly selections: Selections,
    private readonly development: boolean,
  ) {}

  /**
   * A new subscriber on the operation's socket. `detach` takes it out of its stream; it runs when
   * the subscription ends, from either side.
   * @throws when the operation did not arrive over WebSocket.
   */
  open(context: GatewayContext, info: GraphQLResolveInfo, detach: () => void): Subscriber {
    const target = context.ws;
    if (!target) throw new Error('subscriptions are served over WebSocket only');
    const seesAll = context.principal !== null && canReadAll(context.principal);
    const sub: Subscriber = {
      target,
      outlet: this.outbox.outlet(target.socket),
      prefix: Buffer.from(`{"id":${JSON.stringify(target.id)},"type":"next","payload":`),
      selection: this.selections.acquire(info, seesAll),
      context,
      ended: false,
      detach,
      control: new PushIterator<unknown>({
        capacity: 2,
        onClose: () => {
          sub.ended = true;
          this.selections.release(sub.selection);
          sub.detach();
          this.bySocket.get(target.socket)?.delete(sub);
        },
      }),
    };
    let set = this.bySocket.get(target.socket);
    if (!set) this.bySocket.set(target.socket, (set = new Set()));
    set.add(sub);
    return sub;
  }

  /** Ends a subscription with an error: graphql-ws sends it as the last `next`, then `complete`. */
  end(sub: Subscriber, error: ClientError): void {
    if (sub.ended) return;
    sub.ended = true;
    sub.detach();
    // graphql-ws writes the error and `complete` through ws: what was queued goes first.
    this.outbox.flush(sub.outlet);
    sub.control.push(new SubscriptionEnd(error));
    sub.control.end();
  }

  /**
   * Ends every subscription of a socket with `error`, writing the error and `complete` for each
   * directly, so they are on the wire before the caller closes the socket.
   */
  endSocket(socket: WebSocket, error: ClientError): void {
    const subs = this.bySocket.get(socket);
    if (!subs) return;
    const payload = JSON.stringify({ errors: [maskError(error.toJSON(), this.development)] });
    this.outbox.flush(this.outbox.outlet(socket));
    for (const sub of subs) {
      if (sub.ended) continue;
      if (socket.readyState === WebSocket.OPEN) {
        socket.send(Buffer.concat([sub.prefix, Buffer.from(payload), SUFFIX]), { binary: false });
        socket.send(`{"id":${JSON.stringify(sub.target.id)},"type":"complete"}`);
      }
      sub.ended = true;
      sub.detach();
    }
  }
}
