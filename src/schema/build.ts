import 'reflect-metadata';
import type { GraphQLSchema } from 'graphql';
import { buildSchema, type ContainerType, type PubSub } from 'type-graphql';
import { authChecker } from '../auth/auth-checker';
import { ActivityResolver, directRecordingResolvers } from '../resolvers/activity.resolver';
import { SystemResolver } from '../resolvers/system.resolver';
import { EventConnectionResolver, EventResolver } from '../resolvers/event.resolver';
import { FailedEventResolver } from '../resolvers/failed-event.resolver';
import { ProfileResolver } from '../resolvers/profile.resolver';
import { ProfileAlertsResolver, StreamResolver } from '../resolvers/stream.resolver';
import type { ResolverDeps } from '../resolvers/deps';
import { DateTimeScalar } from './common/scalars';
import { registerEnums } from './common/enums';

/** The resolver classes, in the order their types appear in the emitted schema. */
export const RESOLVERS = [
  SystemResolver,
  ActivityResolver,
  EventResolver,
  EventConnectionResolver,
  ProfileResolver,
  ProfileAlertsResolver,
  FailedEventResolver,
  StreamResolver,
] as const;

/**
 * type-graphql insists on a pub/sub once the schema has a subscription, but every subscription
 * here brings its own `subscribe` (the stream hub, the heartbeat), so no topic is ever used.
 */
const NO_TOPICS: PubSub = {
  publish() {
    throw new Error('the gateway publishes to no type-graphql topic');
  },
  subscribe() {
    throw new Error('the gateway subscribes to no type-graphql topic');
  },
};

/** Builds resolver instances with their dependencies: type-graphql asks this container for them. */
function containerFor(deps: ResolverDeps | null): ContainerType {
  const instances = new Map<Function, unknown>();
  return {
    get(cls: new (deps: ResolverDeps) => unknown) {
      let instance = instances.get(cls);
      if (!instance) {
        if (!deps) throw new Error('this schema was built without resolver dependencies (emit only)');
        instance = new cls(deps);
        instances.set(cls, instance);
      }
      return instance;
    },
  } as ContainerType;
}

/**
 * Builds the executable schema. `emitTo` writes its SDL there too (see `npm run schema`);
 * `deps` may be null only for that, since no resolver runs.
 */
export async function buildGatewaySchema(deps: ResolverDeps | null, emitTo?: string): Promise<GraphQLSchema> {
  registerEnums();
  const schema = await buildSchema({
    resolvers: [...RESOLVERS],
    scalarsMap: [{ type: Date, scalar: DateTimeScalar }],
    authChecker,
    authMode: 'error',
    container: containerFor(deps),
    validate: false,
    pubSub: NO_TOPICS,
    ...(emitTo ? { emitSchemaFile: { path: emitTo, sortedSchema: true } } : {}),
  });
  if (deps) {
    // The hot path of ingest: see directRecordingResolvers.
    const fields = schema.getMutationType()!.getFields();
    for (const [name, resolve] of Object.entries(directRecordingResolvers(deps))) fields[name]!.resolve = resolve;
  }
  return schema;
}
