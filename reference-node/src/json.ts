// Strict JSON for signed documents: a document that repeats a key in any object is refused
// before anything is verified (DESIGN §7: two parsers could otherwise read two different
// documents under one signature). NaN and Infinity are not JSON and JSON.parse refuses them.

export class DuplicateKeyError extends Error {
  constructor() {
    super("the JSON document repeats a key");
    this.name = "DuplicateKeyError";
  }
}

/** Scan *text* for an object that repeats a key (the text must be valid JSON). */
function checkNoDuplicates(text: string): void {
  // A stack of key sets, one per open object (null for arrays).
  const stack: (Set<string> | null)[] = [];
  let expectKey = false;
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (c === '"') {
      let j = i + 1;
      while (text[j] !== '"') j += text[j] === "\\" ? 2 : 1;
      const top = stack[stack.length - 1];
      if (expectKey && top) {
        const key = JSON.parse(text.slice(i, j + 1)) as string;
        if (top.has(key)) throw new DuplicateKeyError();
        top.add(key);
        expectKey = false;
      }
      i = j + 1;
      continue;
    }
    if (c === "{") {
      stack.push(new Set());
      expectKey = true;
    } else if (c === "[") {
      stack.push(null);
    } else if (c === "}" || c === "]") {
      stack.pop();
    } else if (c === ",") {
      expectKey = stack[stack.length - 1] !== null && stack.length > 0;
    }
    i++;
  }
}

/** JSON.parse, refusing any object that repeats a key. */
export function parseStrict(text: string): unknown {
  const value: unknown = JSON.parse(text);
  checkNoDuplicates(text);
  return value;
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
