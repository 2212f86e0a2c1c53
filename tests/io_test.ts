import assert from "node:assert/strict";
import { writeJsonAtomic, writeTextAtomic } from "../lib/io.ts";

Deno.test("writeTextAtomic creates the directory, replaces the file and leaves no partial file", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/nested/out.txt`;
    await writeTextAtomic(path, "first");
    await writeTextAtomic(path, "second");
    assert.equal(await Deno.readTextFile(path), "second");
    const names = [...Deno.readDirSync(`${dir}/nested`)].map((e) => e.name);
    assert.deepEqual(names, ["out.txt"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a failed write keeps the old file intact", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/kept.txt`;
    await writeTextAtomic(path, "old");
    await Deno.mkdir(`${dir}/blocker.txt`); // a directory where the file should go
    await assert.rejects(() => writeTextAtomic(`${dir}/blocker.txt`, "new"));
    assert.equal(await Deno.readTextFile(path), "old");
    const leftovers = [...Deno.readDirSync(dir)].filter((e) => e.name.endsWith(".partial"));
    assert.deepEqual(leftovers, []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("writeJsonAtomic writes typed arrays as plain arrays", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await writeJsonAtomic(`${dir}/x.json`, { a: new Float64Array([1.5, 2]), b: "x" });
    assert.deepEqual(JSON.parse(await Deno.readTextFile(`${dir}/x.json`)), { a: [1.5, 2], b: "x" });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
