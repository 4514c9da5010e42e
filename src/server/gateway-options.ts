import type { IncomingMessage, ServerResponse } from 'node:http';
import type { GraphQLSchema, ValidationRule } from 'graphql';
import type { TokenVerifier } from '../auth/jwt';
import type { ClientInfo } from '../domain/client-address';
import type { Logger } from '../logger';
import type { Loaders } from '../resolvers/loaders';
import type { StreamHub } from '../streaming/hub';
import type { Metrics } from './metrics';
import type { QueryLimits } from './query-limits';
import { DEFAULT_MAX_QUERY_ALIASES, DEFAULT_MAX_QUERY_DIRECTIVES, DEFAULT_MAX_QUERY_TOKENS } from './query-limits';

/** A readiness check: resolves when the dependency answers. */
export interface ReadinessCheck {
  name: string;
  check(): Promise<void>;
}

/** A plain HTTP route beside GraphQL (REST ingestion, pages). */
export type RouteHandler = (req: IncomingMessage, res: ServerResponse, ctx: RouteContext) => Promise<void> | void;
export interface RouteContext {
  client: ClientInfo;
  readBody(): Promise<Buffer>;
}

export interface GatewayServerOptions {
  schema: GraphQLSchema;
  verifier: TokenVerifier;
  metrics: Metrics;
  logger: Logger;
  readiness: ReadinessCheck[];
  development: boolean;
  introspection: boolean;
  /** Largest request body accepted, bytes; larger gets 413. */
  maxBodyBytes: number;
  corsOrigins: string[];
  validationRules?: ValidationRule[];
  /** Bounds on an operation (QUERY_TOO_COMPLEX past them), the same over HTTP and WebSocket. */
  maxQueryDepth: number;
  maxQueryCost: number;
  maxQueryAliases?: number;
  maxQueryDirectives?: number;
  maxQueryTokens?: number;
  /** Extra routes by `METHOD /path`. */
  routes?: Record<string, RouteHandler>;
  /** Makes the DataLoaders of one request. */
  createLoaders: () => Loaders;
  /** Fan-out of live data to this instance's subscribers. */
  hub?: StreamHub;
  websocket: {
    maxConnections: number;
    maxSubscriptionsPerConnection: number;
    /** permessage-deflate: off by default (it costs CPU per message and memory per socket). */
    deflate: boolean;
    /** Keep-alive ping interval, ms. */
    keepAliveMs: number;
  };
  /** Resolves the client's address and agent from a request (trusted-proxy aware). */
  clientInfo?: (req: IncomingMessage) => ClientInfo;
}

/** The query limits of these options, defaults filled in. */
export function queryLimitsOf(options: GatewayServerOptions): QueryLimits {
  return {
    maxDepth: options.maxQueryDepth,
    maxCost: options.maxQueryCost,
    maxAliases: options.maxQueryAliases ?? DEFAULT_MAX_QUERY_ALIASES,
    maxDirectives: options.maxQueryDirectives ?? DEFAULT_MAX_QUERY_DIRECTIVES,
    maxTokens: options.maxQueryTokens ?? DEFAULT_MAX_QUERY_TOKENS,
  };
}
