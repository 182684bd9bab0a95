/**
 * The first key that appears twice in one object of a JSON text, or null. JSON.parse keeps the
 * last of duplicate keys silently, so `{"email":"mine","email":"yours"}` could mean different
 * things to a proxy, a log reader and us; such a body is refused instead. The text must already
 * be valid JSON (this scans, it does not validate).
 */
export const firstDuplicateKey = (text: string): string | null => {
  const objects: Array<Set<string> | null> = [];
  let expectingKey = false;
  for (let i = 0; i < text.length; i++) {
    const char = text[i];
    if (char === '"') {
      const start = i;
      for (i++; i < text.length && text[i] !== '"'; i++) if (text[i] === '\\') i++;
      const keys = objects.at(-1);
      if (expectingKey && keys) {
        const key = JSON.parse(text.slice(start, i + 1)) as string;
        if (keys.has(key)) return key;
        keys.add(key);
      }
      expectingKey = false;
    } else if (char === '{') {
      objects.push(new Set());
      expectingKey = true;
    } else if (char === '[') {
      objects.push(null);
    } else if (char === '}' || char === ']') {
      objects.pop();
    } else if (char === ',') {
      expectingKey = objects.at(-1) !== null && objects.length > 0;
    }
  }
  return null;
};
