import type { InputProblem } from './domain/input-problem';
import { GraphQLError, type GraphQLFormattedError } from 'graphql';

/** The client-facing error codes of CONTRACT.md section 3. */
export const ErrorCode = {
  UNAUTHENTICATED: 'UNAUTHENTICATED',
  FORBIDDEN: 'FORBIDDEN',
  BAD_USER_INPUT: 'BAD_USER_INPUT',
  QUERY_TOO_COMPLEX: 'QUERY_TOO_COMPLEX',
  RATE_LIMITED: 'RATE_LIMITED',
  SERVICE_UNAVAILABLE: 'SERVICE_UNAVAILABLE',
  SLOW_CONSUMER: 'SLOW_CONSUMER',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** HTTP status a REST response uses for each code. */
export const HTTP_STATUS: Record<ErrorCode, number> = {
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  BAD_USER_INPUT: 400,
  QUERY_TOO_COMPLEX: 400,
  RATE_LIMITED: 429,
  SERVICE_UNAVAILABLE: 503,
  SLOW_CONSUMER: 409,
};


/** An error a client is meant to see: it carries a contract code and passes masking untouched. */
export class ClientError extends GraphQLError {
  constructor(
    readonly code: ErrorCode,
    message: string,
    extensions: Record<string, unknown> = {},
  ) {
    super(message, { extensions: { ...extensions, code } });
    this.name = 'ClientError';
  }
}

export const unauthenticated = (message = 'A valid bearer token is required.'): ClientError =>
  new ClientError(ErrorCode.UNAUTHENTICATED, message);

export const forbidden = (message = 'Your roles do not allow this operation.'): ClientError =>
  new ClientError(ErrorCode.FORBIDDEN, message);

export const badUserInput = (problems: InputProblem[], message?: string): ClientError =>
  new ClientError(ErrorCode.BAD_USER_INPUT, message ?? summarize(problems), {
    errors: problems.map((p) => ({ path: p.path, message: p.message })),
  });

export const tooComplex = (message: string): ClientError =>
  // `http` is read by Apollo Server for the response status and never sent to the client.
  new ClientError(ErrorCode.QUERY_TOO_COMPLEX, message, { http: { status: 400 } });

export const rateLimited = (retryAfterSeconds: number): ClientError =>
  new ClientError(ErrorCode.RATE_LIMITED, `Too many requests; retry in ${retryAfterSeconds}s.`, {
    retryAfterSeconds,
  });

export const serviceUnavailable = (what: string): ClientError =>
  new ClientError(ErrorCode.SERVICE_UNAVAILABLE, `${what} is unavailable; nothing was recorded. Retry later.`);

function summarize(problems: InputProblem[]): string {
  if (problems.length === 0) return 'Invalid input.';
  const first = problems[0]!;
  const more = problems.length > 1 ? ` (and ${problems.length - 1} more problem(s))` : '';
  return `Invalid input at ${first.path || '(root)'}: ${first.message}${more}`;
}

/**
 * An infrastructure failure (Kafka, store). `retriable` says whether trying again can help,
 * so callers choose between backing off and giving up.
 */
export class InfrastructureError extends Error {
  constructor(
    message: string,
    readonly retriable: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'InfrastructureError';
  }
}

/** Codes graphql-js and Apollo Server raise themselves for malformed requests: safe to show. */
const PASS_THROUGH = new Set<string>([
  ...Object.values(ErrorCode),
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'BAD_REQUEST',
  'PERSISTED_QUERY_NOT_FOUND',
  'PERSISTED_QUERY_NOT_SUPPORTED',
  'OPERATION_RESOLUTION_FAILURE',
]);

/**
 * Masks everything that is not a contract error outside development: the client sees
 * "Unexpected error." with code INTERNAL_SERVER_ERROR, never a message or stack from inside.
 */
export function maskError(formatted: GraphQLFormattedError, development: boolean): GraphQLFormattedError {
  const code = formatted.extensions?.code;
  if (typeof code === 'string' && PASS_THROUGH.has(code)) {
    if (development) return formatted;
    const { stacktrace: _omit, ...extensions } = formatted.extensions ?? {};
    return { ...formatted, extensions };
  }
  if (development) return formatted;
  return {
    message: 'Unexpected error.',
    ...(formatted.locations ? { locations: formatted.locations } : {}),
    ...(formatted.path ? { path: formatted.path } : {}),
    extensions: { code: 'INTERNAL_SERVER_ERROR' },
  };
}
