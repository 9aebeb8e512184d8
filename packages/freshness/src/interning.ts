/**
 * Strings that repeat across many documents (owners, content classes, connectors) stored once and referred
 * to by a small integer; id 0 means "none". New ids are reported once so the changelog can carry them.
 */
export class StringTable {
  readonly #names: string[] = [''];
  readonly #ids = new Map<string, number>();
  readonly #added: number[] = [];

  /** The id of `name`, assigning the next one on first sight; null/undefined/'' give 0. */
  intern(name: string | null | undefined): number {
    if (name === null || name === undefined || name === '') return 0;
    let id = this.#ids.get(name);
    if (id === undefined) {
      id = this.#names.length;
      this.#names.push(name);
      this.#ids.set(name, id);
      this.#added.push(id);
    }
    return id;
  }

  /** The name of an id, or undefined for 0 and ids not (yet) restored. */
  name(id: number): string | undefined {
    return id === 0 ? undefined : this.#names[id] || undefined;
  }

  /** Puts a restored entry back at its id (changelog order may differ from id order). */
  restore(id: number, name: string): void {
    while (this.#names.length <= id) this.#names.push('');
    const previous = this.#names[id];
    if (previous) this.#ids.delete(previous);
    this.#names[id] = name;
    this.#ids.set(name, id);
  }

  /** Ids assigned since the previous call. */
  drainAdded(): number[] {
    return this.#added.splice(0);
  }

  get size(): number {
    return this.#ids.size;
  }
}
