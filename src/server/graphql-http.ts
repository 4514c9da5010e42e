import type { IncomingMessage, ServerResponse } from 'node:http';
import { ApolloServer, HeaderMap, type ApolloServerPlugin } from '@apollo/server';
import { ApolloServerPluginCacheControlDisabled, ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import type { GatewayContext } from '../context';
import { ClientError } from '../errors';
import { errorFormatter, queryLimits, unexpectedErrorLogging } from './apollo-plugins';
import type { GatewayServerOptions } from './gateway-options';
import { readBody, sendJson } from './http-io';
import { parseOptionsFor, type QueryLimiter } from './query-limits';

/**
 * GraphQL over HTTP: Apollo Server driven through `executeHTTPGraphQLRequest` directly (no
 * Express: on this stack Express alone halves throughput).
 */
export class GraphQLOverHttp {
  private readonly apollo: ApolloServer<GatewayContext>;
  private readonly clientInfo: NonNullable<GatewayServerOptions['clientInfo']>;

  constructor(
    private readonly options: GatewayServerOptions & { clientInfo: NonNullable<GatewayServerOptions['clientInfo']> },
    limiter: QueryLimiter,
    /** Plugins of the server around Apollo (draining the HTTP server on stop). */
    plugins: ApolloServerPlugin<GatewayContext>[],
  ) {
    this.clientInfo = options.clientInfo;
    this.apollo = new ApolloServer<GatewayContext>({
      schema: options.schema,
      introspection: options.introspection,
      includeStacktraceInErrorResponses: options.development,
      parseOptions: parseOptionsFor(limiter.limits),
      formatError: errorFormatter(limiter, options.development),
      validationRules: options.validationRules ?? [],
      // No cache hints are used (every answer is per user); without the cache-control plugin
      // Apollo does not wrap each field's resolver to collect them.
      plugins: [
        ApolloServerPluginLandingPageDisabled(),
        ApolloServerPluginCacheControlDisabled(),
        ...plugins,
        queryLimits(limiter),
        unexpectedErrorLogging(options.logger.child({ component: 'http' })),
      ],
    });
  }

  start(): Promise<void> {
    return this.apollo.start();
  }

  /** Drains (through the plugins given), then stops Apollo. */
  stop(): Promise<void> {
    return this.apollo.stop();
  }

  async handle(req: IncomingMessage, res: ServerResponse, method: string, search: string): Promise<void> {
    const headers = new HeaderMap();
    for (const [key, value] of Object.entries(req.headers)) {
      if (value !== undefined) headers.set(key, Array.isArray(value) ? value.join(', ') : value);
    }
    let body: unknown = undefined;
    if (method === 'POST') {
      const raw = await readBody(req, this.options.maxBodyBytes);
      const type = headers.get('content-type') ?? '';
      if (type.startsWith('application/json') || type.startsWith('application/graphql-response+json')) {
        try {
          body = raw.length === 0 ? undefined : JSON.parse(raw.toString('utf8'));
        } catch {
          sendJson(res, 400, { errors: [{ message: 'Request body is not valid JSON.', extensions: { code: 'BAD_REQUEST' } }] });
          return;
        }
      } else {
        body = raw.toString('utf8');
      }
    }
    const context = this.contextFor(req);
    const response = await this.apollo.executeHTTPGraphQLRequest({
      httpGraphQLRequest: { method: method.toUpperCase(), headers, search, body },
      context: async () => context,
    });
    for (const [key, value] of response.headers) res.setHeader(key, value);
    res.statusCode = response.status ?? 200;
    if (response.body.kind === 'complete') {
      res.setHeader('content-length', Buffer.byteLength(response.body.string));
      res.end(response.body.string);
      return;
    }
    for await (const chunk of response.body.asyncIterator) res.write(chunk);
    res.end();
  }

  private contextFor(req: IncomingMessage): GatewayContext {
    const client = this.clientInfo(req);
    const loaders = this.options.createLoaders();
    const header = req.headers.authorization;
    if (header === undefined) return { principal: null, authError: null, client, loaders };
    try {
      return { principal: this.options.verifier.verifyHeader(header), authError: null, client, loaders };
    } catch (err) {
      if (err instanceof ClientError) return { principal: null, authError: err, client, loaders };
      throw err;
    }
  }
}
