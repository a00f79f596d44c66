let counter = 0;
const prefix = Math.random().toString(36).slice(2, 7);

/** A unique id for this page's lifetime (node ids, handle ids). */
export function uid(kind = "x"): string {
  counter += 1;
  return `${kind}${prefix}${counter.toString(36)}`;
}
