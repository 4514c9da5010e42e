import {
  Kind,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type OperationDefinitionNode,
  type SelectionSetNode,
  type ValueNode,
} from 'graphql';

/** List size assumed for a paginated field whose size is not given as a number. */
export const DEFAULT_PAGE_ASSUMED = 50;
const PAGE_ARGS = new Set(['first', 'limit']);

export interface Complexity {
  depth: number;
  cost: number;
}

function pageSize(field: FieldNode, variables: Record<string, unknown>): number {
  for (const arg of field.arguments ?? []) {
    if (!PAGE_ARGS.has(arg.name.value)) continue;
    const v: ValueNode = arg.value;
    if (v.kind === Kind.INT) return Math.max(1, Number(v.value));
    if (v.kind === Kind.VARIABLE) {
      const value = variables[v.name.value];
      if (typeof value === 'number' && Number.isFinite(value)) return Math.max(1, value);
    }
    return DEFAULT_PAGE_ASSUMED;
  }
  return 1;
}

/**
 * Depth and cost of an operation, fragments expanded: every field costs 1, and the fields under
 * a paginated field (`first`/`limit`) count once per item it may return. Introspection fields
 * (`__schema`, `__type`) are not counted, so explorers keep working under tight limits.
 */
export function measure(
  operation: OperationDefinitionNode,
  document: DocumentNode,
  variables: Record<string, unknown> = {},
): Complexity {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const d of document.definitions) if (d.kind === Kind.FRAGMENT_DEFINITION) fragments.set(d.name.value, d);

  const walk = (set: SelectionSetNode, depth: number, seen: ReadonlySet<string>): Complexity => {
    let maxDepth = depth;
    let cost = 0;
    for (const sel of set.selections) {
      if (sel.kind === Kind.FIELD) {
        if (sel.name.value.startsWith('__')) continue;
        cost += 1;
        if (sel.selectionSet) {
          const inner = walk(sel.selectionSet, depth + 1, seen);
          cost += pageSize(sel, variables) * inner.cost;
          maxDepth = Math.max(maxDepth, inner.depth);
        } else {
          maxDepth = Math.max(maxDepth, depth);
        }
      } else if (sel.kind === Kind.INLINE_FRAGMENT) {
        const inner = walk(sel.selectionSet, depth, seen);
        cost += inner.cost;
        maxDepth = Math.max(maxDepth, inner.depth);
      } else {
        const name = sel.name.value;
        const fragment = fragments.get(name);
        if (!fragment || seen.has(name)) continue; // cycles are a validation error of their own
        const inner = walk(fragment.selectionSet, depth, new Set([...seen, name]));
        cost += inner.cost;
        maxDepth = Math.max(maxDepth, inner.depth);
      }
    }
    return { depth: maxDepth, cost };
  };
  return walk(operation.selectionSet, 1, new Set());
}
