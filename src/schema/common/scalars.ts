import { GraphQLError, GraphQLScalarType, Kind } from 'graphql';
import { JSONObjectResolver } from 'graphql-scalars';
import { parseInstant } from '../../domain/instant';


function toDate(value: unknown): Date {
  if (value instanceof Date && !Number.isNaN(value.getTime())) return value;
  if (typeof value === 'string') {
    const d = parseInstant(value);
    if (d) return d;
  }
  throw new GraphQLError(`DateTime must be an ISO-8601 instant with a zone, e.g. 2024-01-15T10:30:45.123Z`, {
    extensions: { code: 'BAD_USER_INPUT' },
  });
}

/** ISO-8601 instant, UTC, millisecond precision (CONTRACT.md). */
export const DateTimeScalar = new GraphQLScalarType<Date, string>({
  name: 'DateTime',
  description: 'ISO-8601 instant, UTC, millisecond precision',
  serialize: (value) => toDate(value).toISOString(),
  parseValue: (value) => toDate(value),
  parseLiteral: (ast) => {
    if (ast.kind !== Kind.STRING) {
      throw new GraphQLError('DateTime must be a string', { extensions: { code: 'BAD_USER_INPUT' } });
    }
    return toDate(ast.value);
  },
});

/** A JSON object: never an array, string or null (graphql-scalars). */
export const JSONObjectScalar = JSONObjectResolver;
