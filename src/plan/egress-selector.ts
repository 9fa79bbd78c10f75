// Kubernetes label selector semantics, as apimachinery's LabelSelectorAsSelector defines them:
// all matchLabels and all matchExpressions must hold; an empty selector matches everything.
import type { LabelSelector } from './egress-types.ts';

export function matchesSelector(
  selector: LabelSelector | undefined,
  labels: Record<string, string>,
): boolean {
  if (!selector) return true;
  const wanted = selector.matchLabels;
  if (wanted) for (const key in wanted) if (labels[key] !== wanted[key]) return false;
  for (const req of selector.matchExpressions ?? []) {
    const has = Object.hasOwn(labels, req.key);
    const value = labels[req.key];
    const values = req.values ?? [];
    switch (req.operator) {
      case 'In':
        if (!has || !values.includes(value as string)) return false;
        break;
      case 'NotIn':
        if (has && values.includes(value as string)) return false;
        break;
      case 'Exists':
        if (!has) return false;
        break;
      case 'DoesNotExist':
        if (has) return false;
        break;
      default:
        // An operator this code does not know selects nothing rather than everything.
        return false;
    }
  }
  return true;
}
