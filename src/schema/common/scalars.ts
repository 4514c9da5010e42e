import { GraphQLError, GraphQLScalarType, Kind } from 'graphql';
import { JSONObjectResolver } from 'graphql-scalars';

const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;

/** Parses an ISO-8601 instant with a zone designator; anything else is null. */
export function parseInstant(value: string): Date | null {
  if (!ISO_INSTANT.test(value)) return null;
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? null : d;
}

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
