// Strict JSON for signed documents: a repeated key anywhere refuses the document.

import assert from "node:assert/strict";
import { test } from "node:test";

import { fromUtf8, jcs, unb64url } from "../src/bytes.js";
import { DuplicateKeyError, parseStrict } from "../src/json.js";

test("a repeated key is refused at any depth, escaped or not", () => {
  assert.deepEqual(parseStrict('{"a":1,"b":{"a":2}}'), { a: 1, b: { a: 2 } });
  assert.throws(() => parseStrict('{"a":1,"a":1}'), DuplicateKeyError);
  assert.throws(() => parseStrict('{"x":[{"k":1,"k":2}]}'), DuplicateKeyError);
  assert.throws(() => parseStrict('{"\\u0061":1,"a":2}'), DuplicateKeyError);
  assert.deepEqual(parseStrict('{"s":"a\\"b","t":["a","a"]}'), { s: 'a"b', t: ["a", "a"] });
  assert.throws(() => parseStrict("{\"a\":NaN}"));
});

test("JCS writes numbers as ECMAScript does and sorts keys by UTF-16 code units", () => {
  assert.equal(fromUtf8(jcs({ b: 1.0, a: [1e-7, 1e21, 0.1] })), '{"a":[1e-7,1e+21,0.1],"b":1}');
  assert.equal(fromUtf8(jcs({ "\u{1d518}": 1, "\uffff": 2 })), '{"\u{1d518}":1,"\uffff":2}');
});

test("base64url is read strictly", () => {
  assert.deepEqual([...unb64url("AQ")], [1]);
  assert.throws(() => unb64url("AR")); // unused bits set
  assert.throws(() => unb64url("A+8")); // not the URL-safe alphabet
});
