import 'reflect-metadata';
import type { GraphQLSchema } from 'graphql';
import { buildSchema, type ContainerType } from 'type-graphql';
import { authChecker } from '../auth/auth-checker';
import { SystemResolver } from '../resolvers/system.resolver';
import type { TypedPubSub } from '../pubsub/pubsub';
import { DateTimeScalar } from './common/scalars';
import './common/enums';

/** Everything resolvers depend on; passed in, never imported as singletons. */
export interface ResolverDeps {
  readonly development: boolean;
  /** In-process pub/sub for subscriptions. */
  readonly pubSub: TypedPubSub<Record<string, unknown>>;
}

/** The resolver classes, in the order their types appear in the emitted schema. */
export const RESOLVERS = [SystemResolver] as const;

/** Builds resolver instances with their dependencies: type-graphql asks this container for them. */
function containerFor(deps: ResolverDeps): ContainerType {
  const instances = new Map<Function, unknown>();
  return {
    get(cls: new (deps: ResolverDeps) => unknown) {
      let instance = instances.get(cls);
      if (!instance) {
        instance = new cls(deps);
        instances.set(cls, instance);
      }
      return instance;
    },
  } as ContainerType;
}

/** Builds the executable schema. `emitTo` writes its SDL there too (see `npm run schema`). */
export async function buildGatewaySchema(deps: ResolverDeps, emitTo?: string): Promise<GraphQLSchema> {
  return buildSchema({
    resolvers: [...RESOLVERS],
    scalarsMap: [{ type: Date, scalar: DateTimeScalar }],
    authChecker,
    authMode: 'error',
    container: containerFor(deps),
    validate: false,
    pubSub: deps.pubSub,
    ...(emitTo ? { emitSchemaFile: { path: emitTo, sortedSchema: true } } : {}),
  });
}
