/** Where a stream of text goes: stdout, or a file being written. Resolves once it may take more. */
export type TextSink = (chunk: string) => Promise<void>;

/**
 * Writes `items` as one JSON array, laid out exactly as `JSON.stringify(items, null, 2)` would, one
 * item at a time, so an export of any length never holds more than one item. Returns the count.
 */
export async function writeJsonArray(
  items: AsyncIterable<unknown>,
  write: TextSink,
  onItem?: (count: number) => void,
): Promise<number> {
  let count = 0;
  for await (const item of items) {
    // Newlines inside strings are escaped by JSON.stringify: every raw newline is layout.
    const text = JSON.stringify(item, null, 2).replace(/\n/g, '\n  ');
    await write(`${count === 0 ? '[\n' : ',\n'}  ${text}`);
    count++;
    onItem?.(count);
  }
  await write(count === 0 ? '[]\n' : '\n]\n');
  return count;
}
