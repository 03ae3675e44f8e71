/**
 * A size-bounded cache for data that never changes once read (a commit's tree, a blob): the
 * oldest entries go first. Keeps a no-change reconcile cheap without becoming a database.
 */
export class BoundedCache<V> {
  private readonly map = new Map<string, V>();

  constructor(private readonly maxEntries = 50_000) {}

  peek(key: string): V | undefined {
    return this.map.get(key);
  }

  delete(key: string): void {
    this.map.delete(key);
  }

  async getOrLoad(key: string, load: () => Promise<V>): Promise<V> {
    if (this.map.has(key)) return this.map.get(key)!;
    const value = await load();
    this.map.set(key, value);
    if (this.map.size > this.maxEntries) this.map.delete(this.map.keys().next().value!);
    return value;
  }
}
