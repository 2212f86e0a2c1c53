/**
 * `deno doc --lint mod.ts`, except for references to TensorFlow.js's tensor types: the
 * model and training interfaces take and return `tf.Tensor`s, which are documented by
 * TensorFlow.js, not re-exported by blend (re-exporting them would pull all of tfjs into
 * blend's documentation). Any other documentation problem fails.
 * @module
 */

const TFJS_TYPES = new Set(["Tensor", "Tensor1D", "Tensor2D", "Tensor3D", "Scalar", "Variable"]);

const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
  args: ["doc", "--lint", "mod.ts"],
  env: { NO_COLOR: "1" },
}).output();
const text = new TextDecoder().decode(stdout) + new TextDecoder().decode(stderr);
const blocks = text.split(/\n(?=error\[)/).filter((block) => block.startsWith("error["));
if (code !== 0 && blocks.length === 0) {
  console.error(text);
  Deno.exit(1);
}
const problems = blocks
  .filter((block) => {
    const match = block.match(/^error\[private-type-ref\]: .* references private type '(\w+)'/);
    return !(match && TFJS_TYPES.has(match[1]));
  });
if (problems.length > 0) {
  console.error(problems.join("\n"));
  console.error(`doc lint: ${problems.length} problem(s)`);
  Deno.exit(1);
}
console.log("doc lint: ok (references to TensorFlow.js tensor types allowed)");
