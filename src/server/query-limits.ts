import { maxAliasesRule } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthRule } from '@escape.tech/graphql-armor-max-depth';
import { maxDirectivesRule } from '@escape.tech/graphql-armor-max-directives';
import {
  BREAK,
  GraphQLError,
  parse,
  validate,
  visit,
  type DocumentNode,
  type ValidationContext,
  type ValidationRule,
  type ValueNode,
} from 'graphql';
import { createComplexityRule, type ComplexityEstimator } from 'graphql-query-complexity';
import { ClientError, ErrorCode, tooComplex } from '../errors';

/** Bounds on one GraphQL document; past any of them the operation is refused with QUERY_TOO_COMPLEX. */
export interface QueryLimits {
  /** Deepest field nesting (fragments add no level; `__schema` is not counted). */
  maxDepth: number;
  /** Most fields the operation may resolve: fields under `first`/`limit` count once per item. */
  maxCost: number;
  maxAliases: number;
  maxDirectives: number;
  /** Most lexical tokens in the document; the parser stops past them. */
  maxTokens: number;
}

export const DEFAULT_MAX_QUERY_ALIASES = 50;
export const DEFAULT_MAX_QUERY_DIRECTIVES = 50;
export const DEFAULT_MAX_QUERY_TOKENS = 5_000;

/** Page size assumed for a field with a page argument whose value is null (no schema default). */
export const DEFAULT_PAGE_ASSUMED = 50;
const PAGE_ARGS = ['first', 'limit'] as const;

/**
 * A field costs 1, plus its children once per item it may return. The arguments given are the
 * coerced ones, so a page argument left out counts at its schema default, not once. Introspection
 * fields cost nothing, so explorers work under tight limits.
 */
export const pagedCostEstimator: ComplexityEstimator = ({ field, args, childComplexity }) => {
  if (field.name.startsWith('__')) return 0;
  const pageArg = PAGE_ARGS.find((name) => field.args.some((a) => a.name === name));
  if (pageArg === undefined) return 1 + childComplexity;
  const value: unknown = args[pageArg];
  const page = typeof value === 'number' && Number.isFinite(value) ? Math.max(1, value) : DEFAULT_PAGE_ASSUMED;
  return 1 + page * childComplexity;
};

/** GraphQL Armor rules report through callbacks; this makes their verdict a contract error. */
const armorOptions = (n: number) => ({
  n,
  propagateOnRejection: false,
  onReject: [
    (context: ValidationContext | null, error: GraphQLError) => {
      context?.reportError(tooComplex(error.message.replace(/^Syntax Error: /, '')));
    },
  ],
});

/**
 * The rules bounding one operation, for `validate(schema, document, rules)`: depth, aliases and
 * directives (GraphQL Armor) and cost (graphql-query-complexity, with the request's variables).
 * The same list serves HTTP and WebSocket operations.
 */
export function queryLimitRules(limits: QueryLimits, variables: Record<string, unknown> = {}, operationName?: string): ValidationRule[] {
  return [
    maxDepthRule({ ...armorOptions(limits.maxDepth), ignoreIntrospection: true, flattenFragments: true }),
    maxAliasesRule(armorOptions(limits.maxAliases)),
    maxDirectivesRule(armorOptions(limits.maxDirectives)),
    createComplexityRule({
      maximumComplexity: limits.maxCost,
      variables,
      operationName,
      estimators: [pagedCostEstimator],
      createError: (max, actual) => tooComplex(`Query cost ${actual} exceeds the limit of ${max}.`),
    }),
  ];
}

/** Options for graphql-js `parse` that enforce the token limit while parsing. */
export const parseOptionsFor = (limits: QueryLimits) => ({ maxTokens: limits.maxTokens });

/**
 * graphql-js reports its token limit as a syntax error; this recognizes it so that it is answered
 * as the limit it is. A test pins graphql-js's wording.
 */
export function tokenLimitError(error: GraphQLError, limits: QueryLimits): ClientError | undefined {
  const original = error.originalError instanceof GraphQLError ? error.originalError : error;
  if (!/Document contains more tha[nt] \d+ tokens/.test(original.message)) return undefined;
  return tooComplex(`Query token limit of ${limits.maxTokens} exceeded.`);
}

/** Parses with the token limit. @throws GraphQLError (QUERY_TOO_COMPLEX past the limit, else the syntax error) */
export function parseLimited(query: string, limits: QueryLimits): DocumentNode {
  try {
    return parse(query, parseOptionsFor(limits));
  } catch (err) {
    if (err instanceof GraphQLError) throw tokenLimitError(err, limits) ?? err;
    throw err;
  }
}

/** True when the operations' cost may depend on variables: a page argument or a directive takes one. */
function costReadsVariables(document: DocumentNode): boolean {
  let reads = false;
  const takesVariable = (value: ValueNode): boolean => {
    let found = false;
    visit(value, {
      Variable() {
        found = true;
        return BREAK;
      },
    });
    return found;
  };
  visit(document, {
    Directive(node) {
      if ((node.arguments ?? []).some((a) => takesVariable(a.value))) reads = true;
      return reads ? BREAK : false;
    },
    Argument(node) {
      if ((PAGE_ARGS as readonly string[]).includes(node.name.value) && takesVariable(node.value)) reads = true;
      return reads ? BREAK : false;
    },
  });
  return reads;
}

/**
 * Checks an already valid document against the limits and returns the violations (none: allowed).
 * A verdict that cannot depend on the variables is kept with the document, so a query repeated by
 * clients (Apollo hands back the same parsed document) is measured once.
 */
export class QueryLimiter {
  private readonly verdicts = new WeakMap<DocumentNode, Map<string, readonly GraphQLError[]>>();
  private readonly readsVariables = new WeakMap<DocumentNode, boolean>();

  constructor(
    private readonly schema: Parameters<typeof validate>[0],
    readonly limits: QueryLimits,
  ) {}

  check(document: DocumentNode, operationName?: string | null, variables?: Record<string, unknown> | null): readonly GraphQLError[] {
    let dynamic = this.readsVariables.get(document);
    if (dynamic === undefined) {
      dynamic = costReadsVariables(document);
      this.readsVariables.set(document, dynamic);
    }
    const name = operationName ?? '';
    if (!dynamic) {
      const known = this.verdicts.get(document)?.get(name);
      if (known) return known;
    }
    const { errors, complete } = this.measure(document, operationName ?? undefined, variables ?? {});
    if (!dynamic && complete) {
      let byName = this.verdicts.get(document);
      if (!byName) this.verdicts.set(document, (byName = new Map()));
      byName.set(name, errors);
    }
    return errors;
  }

  private measure(
    document: DocumentNode,
    operationName: string | undefined,
    variables: Record<string, unknown>,
  ): { errors: readonly GraphQLError[]; complete: boolean } {
    let all: readonly GraphQLError[];
    try {
      all = validate(this.schema, document, queryLimitRules(this.limits, variables, operationName));
    } catch (err) {
      // graphql-query-complexity throws past its bound on selections visited (fragment fan-out).
      if (err instanceof GraphQLError) return { errors: [tooComplex(err.message)], complete: true };
      throw err;
    }
    const errors = all.filter((e) => e instanceof ClientError && e.code === ErrorCode.QUERY_TOO_COMPLEX);
    // Variables that do not coerce stop the cost measure; execution reports them with its own code.
    return { errors, complete: errors.length === all.length };
  }
}
