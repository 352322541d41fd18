/** The upstream's own id of a JSON record, when it has a usable one. */
export function idOf(payload: unknown): string | undefined {
  if (payload && typeof payload === 'object' && 'id' in payload) {
    const id = (payload as { id: unknown }).id;
    if (typeof id === 'string' && id.length > 0) return id;
  }
  return undefined;
}
