import type { ApolloServerOptions, ApolloServerPlugin } from '@apollo/server';
import { GraphQLError } from 'graphql';
import type { GatewayContext } from '../context';
import { ClientError, maskError } from '../errors';
import type { Logger } from '../logger';
import { tokenLimitError, type QueryLimiter } from './query-limits';

/** Logs the errors no client is meant to see (they are masked in the response). */
export function unexpectedErrorLogging(log: Logger): ApolloServerPlugin<GatewayContext> {
  return {
    async requestDidStart() {
      return {
        async didEncounterErrors({ errors }) {
          for (const e of errors) {
            if (!(e.originalError instanceof ClientError) && !e.extensions?.code) {
              log.error({ err: e.originalError ?? e, path: e.path }, 'unexpected error in a GraphQL operation');
            }
          }
        },
      };
    },
  };
}

/**
 * Refuses an operation past the query limits. Cost reads the variables, which Apollo's validation
 * rules never see: the limits run once the operation is known, with the request's variables.
 */
export function queryLimits(limiter: QueryLimiter): ApolloServerPlugin<GatewayContext> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ operation, document, request }) {
          if (!operation) return;
          const errors = limiter.check(document, request.operationName, request.variables);
          if (errors.length > 0) throw errors[0];
        },
      };
    },
  };
}

/** Masks errors for clients; the token limit, a syntax error to graphql-js, is answered as the limit it is. */
export function errorFormatter(limiter: QueryLimiter, development: boolean): NonNullable<ApolloServerOptions<GatewayContext>['formatError']> {
  return (formatted, error) => {
    const tooMany =
      formatted.extensions?.code === 'GRAPHQL_PARSE_FAILED' && error instanceof GraphQLError ? tokenLimitError(error, limiter.limits) : undefined;
    if (tooMany) return { message: tooMany.message, extensions: { code: tooMany.code } };
    return maskError(formatted, development);
  };
}
